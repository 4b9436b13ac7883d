"""SQL of the email channel (intake threading lookup, quarantine, outbound send state)."""
from __future__ import annotations

# Everything threading needs, in ONE call: whether this mail was already received, and the
# ticket each threading layer would pick (signed token, In-Reply-To/References, subject tag from
# the requester or a participant, the heuristic's candidates), plus the sender's recent volume.
THREAD_LOOKUP = """
WITH refs AS (
    SELECT r.value AS message_id, r.ordinality AS rank
    FROM jsonb_array_elements_text(:refs::jsonb) WITH ORDINALITY AS r(value, ordinality)
),
sender AS (SELECT id FROM customers WHERE email = :sender::text)
SELECT
    (SELECT coalesce(jsonb_agg(jsonb_build_object('message_id', x.message_id, 'ticket_id', x.ticket_id,
                                                  'content_sha256', x.content_sha256, 'source', x.source,
                                                  'kind', x.kind, 'from', x.from_email)), '[]'::jsonb)
     FROM (
        -- kind: 'inbound', or 'generated'/'ses' for the ids of mail we sent
        SELECT e.message_id, e.ticket_id, m.metadata ->> 'content_sha256' AS content_sha256, 'message' AS source, e.kind,
               m.metadata ->> 'from' AS from_email
        FROM email_message_ids e LEFT JOIN ticket_messages m ON m.id = e.ticket_message_id
        WHERE e.message_id IN (:message_id::text, :synthetic_id::text)
        UNION ALL
        SELECT q.message_id, NULL::uuid, q.content_sha256, 'quarantine', NULL::text, q.from_email
        FROM email_quarantine q WHERE q.message_id IN (:message_id::text, :synthetic_id::text) AND q.released_at IS NULL
          AND NOT :releasing::boolean  -- an admin's release processes the quarantined mail itself
     ) x) AS existing,
    (SELECT t.id FROM tickets t WHERE t.id = :token_ticket_id::uuid) AS token_ticket_id,
    (SELECT e.ticket_id FROM refs r JOIN email_message_ids e ON e.message_id = r.message_id
     ORDER BY r.rank LIMIT 1) AS reference_ticket_id,
    (SELECT t.status FROM refs r JOIN email_message_ids e ON e.message_id = r.message_id JOIN tickets t ON t.id = e.ticket_id
     ORDER BY r.rank LIMIT 1) AS reference_ticket_status,
    (SELECT t.id FROM tickets t JOIN customers c ON c.id = t.requester_id
     WHERE t.number = :tag_number::bigint
       AND (c.email = :sender::text OR EXISTS (
            SELECT 1 FROM ticket_participants p WHERE p.ticket_id = t.id AND p.email = :sender::text))) AS tag_ticket_id,
    -- one of our own addresses (a team's) as the sender: our mail looping back, never a customer
    EXISTS (SELECT 1 FROM teams tm WHERE tm.email_address = :sender::text) AS sender_is_ours,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'subject', t.subject, 'created_at', t.created_at)
                               ORDER BY t.created_at DESC), '[]'::jsonb)
     FROM (SELECT t.id, t.subject, t.created_at FROM tickets t, sender s
           WHERE :heuristic::boolean AND t.requester_id = s.id AND t.created_at >= :heuristic_since::timestamptz
             AND t.status NOT IN ('merged', 'spam', 'duplicate')
           ORDER BY t.created_at DESC LIMIT 20) t) AS heuristic_candidates,
    (SELECT count(*) FROM ticket_messages m, sender s
     WHERE m.author_customer_id = s.id AND m.channel = 'email' AND m.created_at >= :burst_since::timestamptz)
    + (SELECT count(*) FROM email_quarantine q
       WHERE q.from_email = :sender::text AND q.created_at >= :burst_since::timestamptz) AS sender_recent
"""

QUARANTINE = """
INSERT INTO email_quarantine (message_id, reason, detail, from_email, subject, raw_key, raw_bucket, content_sha256,
                              metadata, created_at)
VALUES (:message_id, :reason, :detail::text, :from_email::text, :subject::text, :raw_key::text, :raw_bucket::text,
        :content_sha256::text, :metadata::jsonb, :now::timestamptz)
ON CONFLICT (message_id) DO NOTHING
RETURNING id
"""

LIST_QUARANTINE = """
SELECT id, message_id, reason, detail, from_email, subject, raw_key, raw_bucket, created_at, released_at
FROM email_quarantine
WHERE (:include_released::boolean OR released_at IS NULL)
  AND (:reason::text IS NULL OR reason = :reason::text)
ORDER BY created_at DESC, id
LIMIT :limit
"""

# Claims the send of one public agent message and reads everything the mail needs, in one call
# (the team's mail templates {kind: row} and the author's signature included).
# A row already 'sent' (or 'skipped') comes back unchanged: the caller sends nothing. A 'sending'
# row older than the lease (a crashed attempt) or a 'failed' one is claimed again.
CLAIM_SEND = """
WITH msg AS (
    -- the body only when it fits the Data API's 64 KB row limit; longer ones are read in pieces
    SELECT m.id, m.ticket_id, m.author_type, m.author_agent_id, m.visibility,
           CASE WHEN octet_length(m.body) <= 40000 THEN m.body END AS body, length(m.body) AS body_chars, m.created_at,
           -- the files to attach (metadata only; the bytes are in S3)
           CASE WHEN jsonb_typeof(m.attachments) = 'array' THEN m.attachments ELSE '[]'::jsonb END AS attachments
    FROM ticket_messages m WHERE m.id = :message_id::uuid
),
tk AS (
    SELECT t.id, t.number, t.subject, t.channel, t.status, t.team_id, t.merged_into_id, c.email AS requester_email,
           c.name AS requester_name, tm.email_address AS team_address, tm.name AS team_name,
           (SELECT s.body_text FROM agent_signatures s WHERE s.agent_id = msg.author_agent_id) AS signature,
           (SELECT jsonb_object_agg(mt.kind, jsonb_build_object('subject', mt.subject,
               'body_text', mt.body_text, 'body_html', mt.body_html))
           FROM mail_templates mt WHERE mt.team_id = t.team_id) AS templates
    FROM msg JOIN tickets t ON t.id = msg.ticket_id JOIN customers c ON c.id = t.requester_id
    LEFT JOIN teams tm ON tm.id = t.team_id
),
claimed AS (
    INSERT INTO email_outbound (ticket_message_id, ticket_id, event_id, state, generated_message_id, recipient, claimed_at)
    SELECT msg.id, msg.ticket_id, :event_id::uuid, 'sending', :generated_message_id, tk.requester_email, :now::timestamptz
    FROM msg, tk
    WHERE msg.author_type = 'agent' AND msg.visibility = 'public' AND tk.requester_email IS NOT NULL
    ON CONFLICT (ticket_message_id) DO UPDATE SET
        state = 'sending', attempts = email_outbound.attempts + 1, claimed_at = EXCLUDED.claimed_at,
        event_id = EXCLUDED.event_id
    WHERE email_outbound.state = 'failed'
       OR (email_outbound.state = 'sending' AND email_outbound.claimed_at < :lease_expired::timestamptz)
    RETURNING ticket_message_id, generated_message_id, state, attempts
)
SELECT to_jsonb(msg) AS message, to_jsonb(tk) AS ticket,
       (SELECT to_jsonb(c) FROM claimed c) AS claim,
       (SELECT to_jsonb(o) FROM email_outbound o WHERE o.ticket_message_id = msg.id) AS previous,
       (SELECT coalesce(jsonb_agg(x.message_id ORDER BY x.created_at, x.message_id), '[]'::jsonb) FROM (
            SELECT e.message_id, e.created_at FROM email_message_ids e
            WHERE e.ticket_id = msg.ticket_id AND e.kind IN ('inbound', 'generated')
            ORDER BY e.created_at DESC, e.message_id LIMIT 20) x) AS thread_ids,
       (SELECT e.message_id FROM email_message_ids e JOIN ticket_messages im ON im.id = e.ticket_message_id
        WHERE e.ticket_id = msg.ticket_id AND e.kind = 'inbound' AND im.author_type = 'customer'
        ORDER BY im.position DESC LIMIT 1) AS last_customer_message_id
FROM msg LEFT JOIN tk ON true
"""

# After SES accepted the mail: mark it sent and record both ids the customer's client may quote.
RECORD_SENT = """
WITH done AS (
    UPDATE email_outbound SET state = 'sent', ses_message_id = :ses_message_id, sent_at = :now::timestamptz, last_error = NULL
    WHERE ticket_message_id = :message_id::uuid
    RETURNING ticket_id, ticket_message_id, generated_message_id
),
ids AS (
    INSERT INTO email_message_ids (message_id, ticket_id, ticket_message_id, kind, created_at)
    SELECT d.generated_message_id, d.ticket_id, d.ticket_message_id, 'generated', :now::timestamptz FROM done d
    UNION ALL
    SELECT :ses_message_id, d.ticket_id, d.ticket_message_id, 'ses', :now::timestamptz FROM done d
    ON CONFLICT (message_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM done) AS updated, (SELECT count(*) FROM ids) AS ids
"""

RECORD_FAILED = """
UPDATE email_outbound SET state = :state, last_error = :error::text WHERE ticket_message_id = :message_id::uuid AND state = 'sending'
"""

# The acknowledgement of a new email or web-form ticket: claimed on the ticket's first customer
# message (email or web), at most :limit per recipient within the window (a mail storm gets few acks).
CLAIM_ACK = """
WITH msg AS (
    SELECT m.id, m.ticket_id, m.author_type, m.channel, m.inbound_message_id, m.metadata ? 'bulk' AS bulk
    FROM ticket_messages m WHERE m.id = :message_id::uuid
),
tk AS (
    SELECT t.id, t.number, t.subject, t.channel, t.status, t.team_id, c.email AS requester_email, c.name AS requester_name,
           tm.email_address AS team_address, tm.name AS team_name, (SELECT jsonb_object_agg(mt.kind, jsonb_build_object('subject', mt.subject,
               'body_text', mt.body_text, 'body_html', mt.body_html))
           FROM mail_templates mt WHERE mt.team_id = t.team_id) AS templates
    FROM msg JOIN tickets t ON t.id = msg.ticket_id JOIN customers c ON c.id = t.requester_id
    LEFT JOIN teams tm ON tm.id = t.team_id
),
recent AS (
    SELECT count(*) AS n FROM email_outbound o, tk
    WHERE o.kind = 'ack' AND o.recipient = tk.requester_email AND o.claimed_at >= :since::timestamptz
),
claimed AS (
    INSERT INTO email_outbound (ticket_message_id, ticket_id, event_id, state, generated_message_id, recipient, claimed_at, kind)
    SELECT msg.id, msg.ticket_id, :event_id::uuid, 'sending', :generated_message_id, tk.requester_email, :now::timestamptz, 'ack'
    FROM msg, tk, recent
    WHERE msg.author_type = 'customer' AND msg.channel IN ('email', 'web') AND tk.channel = msg.channel
      AND tk.requester_email IS NOT NULL
      AND recent.n < :limit AND NOT msg.bulk  -- a newsletter or list mail is never acknowledged
    ON CONFLICT (ticket_message_id) DO UPDATE SET
        state = 'sending', attempts = email_outbound.attempts + 1, claimed_at = EXCLUDED.claimed_at
    WHERE email_outbound.state = 'failed'
       OR (email_outbound.state = 'sending' AND email_outbound.claimed_at < :lease_expired::timestamptz)
    RETURNING ticket_message_id, generated_message_id, state, attempts
)
SELECT to_jsonb(msg) AS message, to_jsonb(tk) AS ticket, (SELECT to_jsonb(c) FROM claimed c) AS claim,
       (SELECT to_jsonb(o) FROM email_outbound o WHERE o.ticket_message_id = msg.id) AS previous,
       (SELECT n FROM recent) AS recent_acks
FROM msg LEFT JOIN tk ON true
"""


# An admin releases a quarantined mail (a spam false positive, a burst): marked released, then
# processed again as a person's mail. Only an unreleased row can be released (once).
RELEASE_QUARANTINE = """
UPDATE email_quarantine SET released_at = :now::timestamptz
WHERE id = :id::uuid AND released_at IS NULL AND reason <> 'unparseable'
  AND message_id IN (:message_id::text, :synthetic_id::text)
RETURNING id, message_id, reason, raw_key, raw_bucket
"""

QUARANTINED = """
SELECT id, message_id, reason, raw_key, raw_bucket, released_at FROM email_quarantine WHERE id = :id::uuid
"""

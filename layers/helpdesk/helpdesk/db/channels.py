"""SQL of the chat and Slack channels (helpdesk.intake.slack/chat, helpdesk.outbound.slack)."""
from __future__ import annotations

# -- Slack: connected channels ---------------------------------------------------------------
# Connecting and disconnecting are admin changes: each writes its admin audit row (write_admin_audit,
# migration 1257) from a CTE its final SELECT reads in full.
CONNECT_SLACK_CHANNEL = """
WITH c AS (
    INSERT INTO slack_channels (channel_id, name, team_id, connected_at)
    VALUES (:channel_id, :name, :team_id::uuid, :now::timestamptz)
    ON CONFLICT (channel_id) DO UPDATE SET name = EXCLUDED.name, team_id = EXCLUDED.team_id
    RETURNING channel_id, name, team_id, connected_at
),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, c.channel_id) AS id FROM c)
SELECT c.*, (SELECT count(*) FROM audited) AS audited FROM c
"""

LIST_SLACK_CHANNELS = """
SELECT channel_id, name, team_id, connected_at FROM slack_channels ORDER BY channel_id
"""

DISCONNECT_SLACK_CHANNEL = """
WITH c AS (DELETE FROM slack_channels WHERE channel_id = :channel_id RETURNING channel_id),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, c.channel_id) AS id FROM c)
SELECT c.channel_id, (SELECT count(*) FROM audited) AS audited FROM c
"""

# -- Slack: request replay guard ---------------------------------------------------------------
# A row back = first time this signature is seen; none = a replay. Old signatures are purged here.
RECORD_SLACK_SIGNATURE = """
WITH purge AS (DELETE FROM slack_request_signatures WHERE seen_at < :expired::timestamptz)
INSERT INTO slack_request_signatures (signature, seen_at) VALUES (:signature, :now::timestamptz)
ON CONFLICT (signature) DO NOTHING
RETURNING signature
"""

# -- Slack: what one event needs to know (one read) --------------------------------------------
SLACK_EVENT_CONTEXT = """
SELECT (SELECT jsonb_build_object('team_id', c.team_id) FROM slack_channels c WHERE c.channel_id = :channel) AS connected,
       (SELECT t.id FROM tickets t WHERE t.channel = 'slack' AND t.channel_thread_id = :thread_key) AS ticket_id,
       (SELECT cu.email FROM customers cu WHERE cu.slack_user_id = :user_id) AS email
"""

# Remember which Slack user an email belongs to (first link wins; slack_user_id is unique).
LINK_SLACK_USER = """
UPDATE customers SET slack_user_id = :user_id, updated_at = :now::timestamptz
WHERE email = :email AND slack_user_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM customers o WHERE o.slack_user_id = :user_id)
"""

# -- Slack: outbound thread replies --------------------------------------------------------------
# Claims the post of one public agent message on a Slack ticket; `claimed` is null when it was
# sent before, is in flight within its lease, or is not something Slack should see.
CLAIM_SLACK_POST = """
WITH msg AS (
    SELECT m.id, left(m.body, :max_chars::int) AS body, m.author_type, m.visibility,
           t.channel, t.channel_thread_id, t.number, a.name AS agent_name
    FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
    LEFT JOIN agents a ON a.id = m.author_agent_id
    WHERE m.id = :message_id::uuid
), previous AS (
    SELECT state, slack_ts, claimed_at FROM slack_outbound WHERE message_id = :message_id::uuid
), claim AS (
    INSERT INTO slack_outbound (message_id, state, claimed_at)
    SELECT id, 'sending', :now::timestamptz FROM msg
    WHERE author_type = 'agent' AND visibility = 'public' AND channel = 'slack' AND channel_thread_id LIKE '%:%'
    ON CONFLICT (message_id) DO UPDATE SET claimed_at = EXCLUDED.claimed_at, state = 'sending', error = NULL
        WHERE slack_outbound.state = 'failed'
           OR (slack_outbound.state = 'sending' AND slack_outbound.claimed_at < :lease_expired::timestamptz)
    RETURNING message_id
)
SELECT (SELECT to_jsonb(msg) FROM msg) AS message,
       (SELECT to_jsonb(previous) FROM previous) AS previous,
       (SELECT message_id FROM claim) AS claimed
"""

RECORD_SLACK_POST = """
UPDATE slack_outbound SET state = :state, slack_ts = :slack_ts, error = :error
WHERE message_id = :message_id::uuid
"""

# -- Chat ----------------------------------------------------------------------------------------
CHAT_SESSION = """
SELECT t.id AS ticket_id, t.number, t.status, t.subject, cu.email AS requester_email,
       e.ended_at
FROM tickets t JOIN customers cu ON cu.id = t.requester_id
LEFT JOIN chat_sessions_ended e ON e.session_id = :session_id::uuid
WHERE t.channel = 'chat' AND t.channel_thread_id = :session_key
"""

# Public messages after a cursor (ticket_messages.position), oldest first, one row each (rows stay
# under the Data API's 64 KB); a session without new messages is one row with position NULL, an
# unknown session no row.
CHAT_MESSAGES = """
SELECT t.id AS ticket_id, t.status, e.ended_at, m.position, m.author_type, m.author_name, m.body, m.created_at
FROM tickets t
LEFT JOIN chat_sessions_ended e ON e.session_id = :session_id::uuid
LEFT JOIN LATERAL (
    SELECT m.position, m.author_type, left(m.body, 20000) AS body, m.created_at,
           CASE WHEN m.author_type = 'agent' THEN a.name END AS author_name
    FROM ticket_messages m LEFT JOIN agents a ON a.id = m.author_agent_id
    -- A chat ticket merged into another: its messages moved there, and so do the replies.
    WHERE m.ticket_id = coalesce(t.merged_into_id, t.id) AND m.visibility = 'public' AND m.position > :after
    ORDER BY m.position LIMIT :limit
) m ON true
WHERE t.channel = 'chat' AND t.channel_thread_id = :session_key
ORDER BY m.position
"""

# Ends the session once: `transcript_state` is 'sending' when this call claimed the transcript mail,
# 'not_requested' when no email was given, NULL when the session had ended before.
END_CHAT = """
WITH t AS (
    SELECT t.id, t.number, t.subject, cu.email, cu.name
    FROM tickets t JOIN customers cu ON cu.id = t.requester_id
    WHERE t.channel = 'chat' AND t.channel_thread_id = :session_key
), ended AS (
    INSERT INTO chat_sessions_ended (session_id, ticket_id, ended_at, transcript_state)
    SELECT :session_id::uuid, t.id, :now::timestamptz,
           -- no address given: the requester is the per-session placeholder at chat.invalid
           CASE WHEN t.email LIKE '%@chat.invalid' THEN 'not_requested' ELSE 'sending' END
    FROM t
    ON CONFLICT (session_id) DO NOTHING
    RETURNING transcript_state
)
SELECT t.id AS ticket_id, t.number, t.subject, t.email, t.name, (SELECT transcript_state FROM ended) AS transcript_state
FROM t
"""

# The visitor entered the code mailed to the chat's address (its digest matches the one stored at start):
# the agent sees it verified. Flag and digest live in the chat's first message's metadata (written when
# the chat starts; they follow a merge); a chat without an address (address_verified null) stays as it is.
VERIFY_CHAT_ADDRESS = """
WITH first AS (
    SELECT id, metadata FROM ticket_messages WHERE inbound_message_id = 'chat:' || :session_key || ':0'
),
verified AS (
    UPDATE ticket_messages m SET metadata = jsonb_set(m.metadata, '{chat,address_verified}', 'true'::jsonb)
    FROM first
    WHERE m.id = first.id AND first.metadata #> '{chat,address_verified}' IS NOT NULL
      AND first.metadata #>> '{chat,code_sha256}' = :code_sha256
    RETURNING m.id
)
SELECT (metadata #>> '{chat,address_verified}')::boolean AS address_verified, EXISTS (SELECT 1 FROM verified) AS matched
FROM first
"""

RECORD_TRANSCRIPT = """
UPDATE chat_sessions_ended SET transcript_state = :state, transcript_error = :error WHERE session_id = :session_id::uuid
"""

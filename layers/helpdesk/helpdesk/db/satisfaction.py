"""SQL of the customer's side of a resolve: the solved mail's send state and survey offer, ratings,
and the satisfaction report (helpdesk.tickets.satisfaction, helpdesk.outbound.email)."""
from __future__ import annotations

# The solved mail of one resolve (its ticket.status_changed event), in one call: claims the send
# ('sending'), makes the survey offer the mail's links name, and reads what the mail needs. Only
# while the ticket is still resolved by this resolve (a resolve undone before the mail went out sends
# nothing, even when a later resolve, one after it in the audit trail, stands and sends its own) and
# only for tickets answered by mail. A 'sent' or 'skipped' row comes back unchanged (redelivery sends
# nothing); a 'failed' one, or a 'sending' one older than the lease (a crashed attempt), is claimed again.
CLAIM_SOLVED = """
WITH tk AS (
    SELECT t.id, t.number, t.subject, t.channel, t.status, t.resolved_at, t.team_id, t.assignee_id, c.email AS requester_email,
           c.name AS requester_name, tm.email_address AS team_address, tm.name AS team_name, a.name AS agent_name,
           NOT EXISTS (SELECT 1 FROM ticket_audit later
                       WHERE later.ticket_id = t.id AND later.to_status = 'resolved'
                         AND later.id > (SELECT r.id FROM ticket_audit r WHERE r.event_id = :event_id::uuid))
               AS resolve_stands,
           (SELECT jsonb_object_agg(mt.kind, jsonb_build_object('subject', mt.subject,
               'body_text', mt.body_text, 'body_html', mt.body_html))
           FROM mail_templates mt WHERE mt.team_id = t.team_id) AS templates
    FROM tickets t JOIN customers c ON c.id = t.requester_id LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN agents a ON a.id = t.assignee_id
    WHERE t.id = :ticket_id::uuid
),
due AS (
    SELECT tk.* FROM tk
    WHERE tk.status = 'resolved' AND tk.resolve_stands AND tk.requester_email IS NOT NULL
      AND tk.channel IN (SELECT jsonb_array_elements_text(:channels::jsonb))
),
claimed AS (
    INSERT INTO email_notices (event_id, ticket_id, kind, state, generated_message_id, recipient, claimed_at)
    SELECT :event_id::uuid, due.id, 'solved', 'sending', :generated_message_id::text, due.requester_email, :now::timestamptz
    FROM due
    ON CONFLICT (event_id) DO UPDATE SET
        state = 'sending', attempts = email_notices.attempts + 1, claimed_at = EXCLUDED.claimed_at
    WHERE email_notices.state = 'failed'
       OR (email_notices.state = 'sending' AND email_notices.claimed_at < :lease_expired::timestamptz)
    RETURNING event_id, generated_message_id, state, attempts
),
offer AS (
    INSERT INTO ticket_satisfaction (offer_id, ticket_id, offered_at, team_id, agent_id)
    SELECT :event_id::uuid, due.id, :resolved_at::timestamptz, due.team_id, due.assignee_id FROM due
    ON CONFLICT (offer_id) DO NOTHING
    RETURNING offer_id
)
SELECT to_jsonb(tk) AS ticket, (SELECT to_jsonb(c) FROM claimed c) AS claim,
       (SELECT to_jsonb(o) FROM email_notices o WHERE o.event_id = :event_id::uuid) AS previous,
       (SELECT count(*) FROM offer) AS offered,
       (SELECT coalesce(jsonb_agg(x.message_id ORDER BY x.created_at, x.message_id), '[]'::jsonb) FROM (
            SELECT e.message_id, e.created_at FROM email_message_ids e
            WHERE e.ticket_id = tk.id AND e.kind IN ('inbound', 'generated')
            ORDER BY e.created_at DESC, e.message_id LIMIT 20) x) AS thread_ids,
       (SELECT e.message_id FROM email_message_ids e JOIN ticket_messages im ON im.id = e.ticket_message_id
        WHERE e.ticket_id = tk.id AND e.kind = 'inbound' AND im.author_type = 'customer'
        ORDER BY im.position DESC LIMIT 1) AS last_customer_message_id
FROM tk
"""

# After SES accepted the solved mail: sent, and both ids the customer's client may quote thread back.
RECORD_NOTICE_SENT = """
WITH done AS (
    UPDATE email_notices SET state = 'sent', ses_message_id = :ses_message_id::text, sent_at = :now::timestamptz,
                             last_error = NULL
    WHERE event_id = :event_id::uuid
    RETURNING ticket_id, generated_message_id
),
ids AS (
    INSERT INTO email_message_ids (message_id, ticket_id, kind, created_at)
    SELECT d.generated_message_id, d.ticket_id, 'generated', :now::timestamptz FROM done d
    UNION ALL
    SELECT :ses_message_id::text, d.ticket_id, 'ses', :now::timestamptz FROM done d
    ON CONFLICT (message_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM done) AS updated, (SELECT count(*) FROM ids) AS ids
"""

RECORD_NOTICE_FAILED = """
UPDATE email_notices SET state = :state::text, last_error = :error::text
WHERE event_id = :event_id::uuid AND state = 'sending'
"""

# A rating (and optional comment) of the ticket's LATEST offer, in one call. With :offer_id (a mailed
# link) only that offer, and only while it is the latest; without (the portal) the latest offer, or a
# new one when the ticket was never offered a survey (a chat ticket). Only a resolved or closed ticket
# is rated. Rating again with the same answer changes nothing (a link clicked twice); a comment is kept
# unless a new one is given. Answers what happened, so the caller can say why nothing was written.
RATE = """
WITH tk AS (SELECT id, status, team_id, assignee_id FROM tickets WHERE id = :ticket_id::uuid),
latest AS (
    SELECT s.offer_id FROM ticket_satisfaction s WHERE s.ticket_id = :ticket_id::uuid
    ORDER BY s.offered_at DESC, s.seq DESC LIMIT 1
),
target AS (
    SELECT coalesce(:offer_id::uuid, (SELECT offer_id FROM latest), gen_random_uuid()) AS offer_id
    FROM tk
    WHERE tk.status IN ('resolved', 'closed')
      AND (:offer_id::uuid IS NULL OR :offer_id::uuid = (SELECT offer_id FROM latest))
),
rated AS (
    INSERT INTO ticket_satisfaction (offer_id, ticket_id, offered_at, team_id, agent_id, rating, comment, rated_at)
    SELECT target.offer_id, tk.id, :now::timestamptz, tk.team_id, tk.assignee_id, :rating::text, :comment::text,
           :now::timestamptz
    FROM target, tk
    ON CONFLICT (offer_id) DO UPDATE SET
        rating = EXCLUDED.rating,
        comment = coalesce(EXCLUDED.comment, ticket_satisfaction.comment),
        rated_at = CASE WHEN ticket_satisfaction.rating IS DISTINCT FROM EXCLUDED.rating
                          OR (EXCLUDED.comment IS NOT NULL AND EXCLUDED.comment IS DISTINCT FROM ticket_satisfaction.comment)
                        THEN EXCLUDED.rated_at ELSE ticket_satisfaction.rated_at END
    WHERE ticket_satisfaction.ticket_id = EXCLUDED.ticket_id
    RETURNING offer_id, rating, comment, rated_at, offered_at
)
SELECT (SELECT status FROM tk) AS status, (SELECT offer_id FROM latest) AS latest_offer_id,
       (SELECT to_jsonb(r) FROM rated r) AS rating
"""

# What the survey page shows: the ticket (its customer-facing fields) and the survey's state.
SURVEY = """
SELECT t.number, t.subject, t.status, t.resolved_at, t.closed_at,
       (SELECT to_jsonb(x) FROM (
            SELECT s.offer_id, s.rating, s.comment, s.rated_at, s.offered_at FROM ticket_satisfaction s
            WHERE s.ticket_id = t.id ORDER BY s.offered_at DESC, s.seq DESC LIMIT 1) x) AS latest
FROM tickets t WHERE t.id = :ticket_id::uuid
"""

# The satisfaction report for offers made in [since, until), optionally one team's, in one call:
# totals, by team and by the agent who solved (one aggregation pass: GROUPING SETS), and the latest
# comments. Rating rate = rated / offered; score = good / rated (a share, as Zendesk reports it).
REPORT = """
WITH figures AS (
    SELECT GROUPING(s.team_id) AS by_team, GROUPING(s.agent_id) AS by_agent, s.team_id, s.agent_id,
           count(*) AS offered, count(s.rating) AS rated, count(*) FILTER (WHERE s.rating = 'good') AS good,
           count(*) FILTER (WHERE s.rating = 'bad') AS bad, count(s.comment) AS comments
    FROM ticket_satisfaction s
    WHERE s.offered_at >= :since::timestamptz AND s.offered_at < :until::timestamptz
      AND (:team_id::uuid IS NULL OR s.team_id = :team_id::uuid)
    GROUP BY GROUPING SETS ((), (s.team_id), (s.agent_id))
)
SELECT (SELECT jsonb_build_object('offered', coalesce(sum(f.offered), 0), 'rated', coalesce(sum(f.rated), 0),
                                  'good', coalesce(sum(f.good), 0), 'bad', coalesce(sum(f.bad), 0),
                                  'comments', coalesce(sum(f.comments), 0))
        FROM figures f WHERE f.by_team = 1 AND f.by_agent = 1) AS totals,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('team_id', f.team_id, 'team_name', tm.name, 'offered', f.offered,
                                                     'rated', f.rated, 'good', f.good, 'bad', f.bad)
                                  ORDER BY tm.name NULLS LAST, f.team_id), '[]'::jsonb)
        FROM figures f LEFT JOIN teams tm ON tm.id = f.team_id WHERE f.by_team = 0) AS by_team,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('agent_id', f.agent_id, 'agent_name', a.name, 'offered', f.offered,
                                                     'rated', f.rated, 'good', f.good, 'bad', f.bad)
                                  ORDER BY a.name NULLS LAST, f.agent_id), '[]'::jsonb)
        FROM figures f LEFT JOIN agents a ON a.id = f.agent_id WHERE f.by_agent = 0) AS by_agent,
       (SELECT coalesce(jsonb_agg(x ORDER BY x.rated_at DESC, x.offer_id), '[]'::jsonb) FROM (
            SELECT s.offer_id, s.ticket_id, t.number, s.rating, left(s.comment, 2000) AS comment, s.rated_at,
                   s.team_id, s.agent_id
            FROM ticket_satisfaction s JOIN tickets t ON t.id = s.ticket_id
            WHERE s.offered_at >= :since::timestamptz AND s.offered_at < :until::timestamptz
              AND (:team_id::uuid IS NULL OR s.team_id = :team_id::uuid) AND s.comment IS NOT NULL
            ORDER BY s.rated_at DESC, s.offer_id LIMIT :comment_limit::int) x) AS comments
"""

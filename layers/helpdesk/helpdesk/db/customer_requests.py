"""SQL of a customer's list of their own requests (helpdesk.tickets.customer_requests)."""
from __future__ import annotations

# The request for the "all my requests" link, written as an outbox event (the outbound consumer mails
# it): for the requester of the portal's ticket. Answers the event row as the relay publishes it.
REQUEST_LINK = """
INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
SELECT :event_id::uuid, 'customer.requests_link', t.id,
       jsonb_build_object('customer_id', t.requester_id, 'number', t.number), :now::timestamptz
FROM tickets t WHERE t.id = :ticket_id::uuid
RETURNING id, event_type, schema_version, ticket_id, payload, occurred_at
"""

# The mail of one such event, in one call: claims the send and reads the customer and the ticket the
# link was asked from (its team's address sends it). Same claim rules as the solved mail.
CLAIM_REQUESTS_LINK = """
WITH tk AS (
    SELECT t.id, t.number, t.subject, t.channel, t.status, t.team_id, c.id AS customer_id, c.email AS requester_email,
           c.name AS requester_name, tm.email_address AS team_address, tm.name AS team_name,
           (SELECT jsonb_object_agg(mt.kind, jsonb_build_object('subject', mt.subject,
               'body_text', mt.body_text, 'body_html', mt.body_html))
           FROM mail_templates mt WHERE mt.team_id = t.team_id) AS templates
    FROM tickets t JOIN customers c ON c.id = t.requester_id LEFT JOIN teams tm ON tm.id = t.team_id
    WHERE t.id = :ticket_id::uuid AND c.id = :customer_id::uuid
),
claimed AS (
    INSERT INTO email_notices (event_id, ticket_id, kind, state, generated_message_id, recipient, claimed_at)
    SELECT :event_id::uuid, tk.id, 'requests_link', 'sending', :generated_message_id::text, tk.requester_email,
           :now::timestamptz
    FROM tk WHERE tk.requester_email IS NOT NULL
    ON CONFLICT (event_id) DO UPDATE SET
        state = 'sending', attempts = email_notices.attempts + 1, claimed_at = EXCLUDED.claimed_at
    WHERE email_notices.state = 'failed'
       OR (email_notices.state = 'sending' AND email_notices.claimed_at < :lease_expired::timestamptz)
    RETURNING event_id, generated_message_id, state, attempts
)
SELECT to_jsonb(tk) AS ticket, (SELECT to_jsonb(c) FROM claimed c) AS claim,
       (SELECT to_jsonb(o) FROM email_notices o WHERE o.event_id = :event_id::uuid) AS previous
FROM tk
"""

# A customer's requests, newest activity first (merged, spam and duplicate tickets are not theirs to follow).
LIST_FOR_CUSTOMER = """
SELECT t.id, t.number, t.subject, t.status, t.created_at, t.updated_at
FROM tickets t
WHERE t.requester_id = :customer_id::uuid AND t.status NOT IN ('merged', 'spam', 'duplicate')
ORDER BY t.updated_at DESC, t.number DESC
LIMIT :limit::int
"""

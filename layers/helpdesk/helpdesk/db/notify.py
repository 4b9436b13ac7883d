"""SQL for agent notifications: preferences, recipients of an event, delivery claims (dedupe)."""
from __future__ import annotations

GET_PREFERENCES = """
SELECT timezone, channels, quiet_start::text AS quiet_start, quiet_end::text AS quiet_end, quiet_mode
FROM notification_preferences WHERE agent_id = :agent_id::uuid
"""

# Upsert; the agent must exist (no row back otherwise).
PUT_PREFERENCES = """
INSERT INTO notification_preferences (agent_id, timezone, channels, quiet_start, quiet_end, quiet_mode, updated_at)
SELECT a.id, :timezone, :channels::jsonb, :quiet_start::time, :quiet_end::time, :quiet_mode, :now::timestamptz
FROM agents a WHERE a.id = :agent_id::uuid
ON CONFLICT (agent_id) DO UPDATE SET timezone = EXCLUDED.timezone, channels = EXCLUDED.channels,
    quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, quiet_mode = EXCLUDED.quiet_mode,
    updated_at = EXCLUDED.updated_at
RETURNING agent_id
"""

# Everyone an event may concern, with what the notifier needs to reach them, in one read: the
# named agents (assignee, assigned agent) and, when asked, the leads of the named teams. The
# event's actor comes from the audit row (nobody is told about what they did themselves).
RECIPIENTS = """
WITH wanted AS (
    SELECT x::uuid AS agent_id, 'assignee' AS why FROM jsonb_array_elements_text(:agent_ids::jsonb) AS x
    UNION ALL
    SELECT m.agent_id, 'team_lead' FROM team_members m JOIN agents l ON l.id = m.agent_id
    WHERE :team_leads AND l.role = 'lead' AND m.team_id IN (SELECT jsonb_array_elements_text(:team_ids::jsonb)::uuid)
),
one_each AS (
    SELECT DISTINCT ON (agent_id) agent_id, why FROM wanted ORDER BY agent_id, why
),
ticket AS (
    SELECT id, number, subject, status, priority, assignee_id, team_id FROM tickets WHERE id = :ticket_id::uuid
)
SELECT a.id AS agent_id, a.email, a.name, a.slack_user_id, a.role, w.why,
       p.timezone, p.channels, p.quiet_start::text AS quiet_start, p.quiet_end::text AS quiet_end, p.quiet_mode,
       (SELECT to_jsonb(t) FROM ticket t) AS ticket,
       (SELECT actor_id FROM ticket_audit WHERE event_id = :event_id::uuid) AS actor_id
FROM one_each w
JOIN agents a ON a.id = w.agent_id AND a.is_active
LEFT JOIN notification_preferences p ON p.agent_id = a.id
ORDER BY a.id
"""

# Claim the deliveries of one event (the dedupe key is (event_id, agent_id, channel)): new ones are
# inserted (as 'sending' with a lease, 'deferred'/'suppressed' for quiet hours, or 'coalesced'); a 'failed' one
# or one whose lease ran out (its sender died) is taken over. Rows answered with claimed = false
# were handled before (sent, deferred, suppressed, rejected) or are being sent right now by
# another worker (status 'sending' or NULL: inserted concurrently, not visible to this snapshot).
#
# Coalescing (:coalesce_since not NULL: this event type has a window): a delivery that would be sent
# opens the (ticket, agent, channel, event type) window, or becomes 'coalesced' (never sent) when another
# event's notification opened it after :coalesce_since. The window is claimed by INSERT ... ON CONFLICT
# (migration 1256), so a concurrent claim of the same window waits for this one to commit and then sees
# it: of two invocations at the same moment, one sends. The same event claimed again (a retry) keeps
# its window. Keys are claimed in (agent, channel) order, so two claims never wait on each other in a cycle.
CLAIM_DELIVERIES = """
WITH given AS (
    SELECT * FROM jsonb_to_recordset(:deliveries::jsonb)
        AS d(agent_id uuid, channel text, status text, deliver_after timestamptz, message jsonb)
),
windows AS (
    INSERT INTO notification_windows AS w (ticket_id, agent_id, channel, event_type, event_id, opened_at)
    SELECT :ticket_id::uuid, g.agent_id, g.channel, :event_type, :event_id::uuid, :now::timestamptz
    FROM given g
    WHERE g.status = 'sending' AND :coalesce_since::timestamptz IS NOT NULL AND :ticket_id::uuid IS NOT NULL
    ORDER BY g.agent_id, g.channel
    ON CONFLICT (ticket_id, agent_id, channel, event_type) DO UPDATE SET
        event_id = EXCLUDED.event_id,
        opened_at = CASE WHEN w.event_id = EXCLUDED.event_id THEN w.opened_at ELSE EXCLUDED.opened_at END
    WHERE w.opened_at <= :coalesce_since::timestamptz OR w.event_id = EXCLUDED.event_id
    RETURNING w.agent_id, w.channel
),
planned AS (
    SELECT g.agent_id, g.channel, g.deliver_after, g.message,
           CASE WHEN g.status = 'sending' AND :coalesce_since::timestamptz IS NOT NULL AND :ticket_id::uuid IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM windows o WHERE o.agent_id = g.agent_id AND o.channel = g.channel)
                THEN 'coalesced' ELSE g.status END AS status
    FROM given g
),
claimed AS (
    INSERT INTO notification_deliveries AS n (event_id, agent_id, channel, event_type, ticket_id, status, attempts,
                                              claimed_until, deliver_after, message, created_at, updated_at)
    SELECT :event_id::uuid, p.agent_id, p.channel, :event_type, :ticket_id::uuid, p.status,
           (p.status = 'sending')::int, CASE WHEN p.status = 'sending' THEN :lease_until::timestamptz END,
           p.deliver_after, p.message, :now::timestamptz, :now::timestamptz
    FROM planned p
    ON CONFLICT (event_id, agent_id, channel) DO UPDATE SET
        status = EXCLUDED.status, attempts = n.attempts + EXCLUDED.attempts, claimed_until = EXCLUDED.claimed_until,
        deliver_after = EXCLUDED.deliver_after, message = EXCLUDED.message, updated_at = EXCLUDED.updated_at
    WHERE n.status = 'failed' OR (n.status = 'sending' AND n.claimed_until <= :now::timestamptz)
    RETURNING n.agent_id, n.channel, n.status, n.message, n.attempts
)
SELECT p.agent_id, p.channel, (c.agent_id IS NOT NULL) AS claimed, coalesce(c.status, d.status) AS status,
       coalesce(c.message, d.message) AS message, coalesce(c.attempts, d.attempts) AS attempts
FROM planned p
LEFT JOIN claimed c ON c.agent_id = p.agent_id AND c.channel = p.channel
LEFT JOIN notification_deliveries d ON d.event_id = :event_id::uuid AND d.agent_id = p.agent_id AND d.channel = p.channel
ORDER BY p.agent_id, p.channel
"""

# Settle sends: sent / failed (retryable: taken over on the next attempt) / rejected (permanent).
SETTLE_DELIVERIES = """
WITH settled AS (
    UPDATE notification_deliveries n SET
        status = r.status, provider_id = coalesce(r.provider_id, n.provider_id), last_error = r.error,
        sent_at = CASE WHEN r.status = 'sent' THEN :now::timestamptz ELSE n.sent_at END,
        claimed_until = NULL, updated_at = :now::timestamptz
    FROM jsonb_to_recordset(:results::jsonb)
         AS r(event_id uuid, agent_id uuid, channel text, status text, provider_id text, error text)
    WHERE n.event_id = r.event_id AND n.agent_id = r.agent_id AND n.channel = r.channel AND n.status = 'sending'
    RETURNING 1
)
SELECT count(*) AS settled FROM settled
"""

# Deferred deliveries whose quiet hours are over, claimed like CLAIM_DELIVERIES (lease, SKIP LOCKED).
CLAIM_DUE_DEFERRED = """
WITH due AS (
    SELECT event_id, agent_id, channel FROM notification_deliveries
    WHERE status = 'deferred' AND deliver_after <= :now::timestamptz
    ORDER BY deliver_after
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_deliveries n SET status = 'sending', attempts = n.attempts + 1,
       claimed_until = :lease_until::timestamptz, updated_at = :now::timestamptz
FROM due WHERE n.event_id = due.event_id AND n.agent_id = due.agent_id AND n.channel = due.channel
RETURNING n.event_id, n.agent_id, n.channel, n.message, n.attempts
"""

# When the earliest waiting deferred delivery becomes due (NULL: none waits); an idle scheduled
# run skips the database until then (helpdesk.idle). Reads the deliver_after index.
NEXT_DEFERRED = """
SELECT min(deliver_after) AS next_at FROM notification_deliveries WHERE status = 'deferred'
"""

# A deferred delivery whose send failed goes back to waiting, retried after a backoff.
REDEFER = """
UPDATE notification_deliveries n SET status = 'deferred', claimed_until = NULL, last_error = r.error,
       deliver_after = :now::timestamptz + make_interval(secs => least(900, 30 * power(2, least(n.attempts, 20) - 1))),
       updated_at = :now::timestamptz
FROM jsonb_to_recordset(:failed::jsonb) AS r(event_id uuid, agent_id uuid, channel text, error text)
WHERE n.event_id = r.event_id AND n.agent_id = r.agent_id AND n.channel = r.channel AND n.status = 'sending'
"""

# Finished deliveries are only needed as dedupe keys while a redelivery is possible (SQS keeps a
# message 14 days at most) and for a while of history; a coalescing window long closed, not at all.
PRUNE_DELIVERIES = """
WITH gone AS (
    DELETE FROM notification_deliveries
    WHERE created_at < :before::timestamptz AND status IN ('sent', 'suppressed', 'rejected', 'coalesced')
    RETURNING 1
),
closed_windows AS (
    DELETE FROM notification_windows WHERE opened_at < :before::timestamptz
)
SELECT count(*) AS deleted FROM gone
"""

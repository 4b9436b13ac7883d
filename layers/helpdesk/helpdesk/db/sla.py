"""SQL for SLA policies and schedules (admin CRUD). The sweep's statements live here too (the reports'
are in helpdesk/db/insight.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import Statement


# Admin writes of policies and schedules record themselves: each writes its admin audit row
# (write_admin_audit, migration 1257) from a CTE its final SELECT reads in full.
POLICY_INSERT = """
WITH p AS (
    INSERT INTO sla_policies (name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at)
    VALUES (:name, :position, :priority, :tier, :team_id::uuid, :channel, :targets::jsonb, :schedule_id::uuid, :is_active,
            :now::timestamptz)
    RETURNING id, name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at
),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, p.id::text) AS id FROM p)
SELECT p.*, (SELECT count(*) FROM audited) AS audited FROM p
"""

POLICY_UPDATE = """
WITH p AS (
    UPDATE sla_policies SET name = :name, position = :position, priority = :priority, tier = :tier,
           team_id = :team_id::uuid, channel = :channel, targets = :targets::jsonb, schedule_id = :schedule_id::uuid,
           is_active = :is_active
    WHERE id = :id::uuid
    RETURNING id, name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at
),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, p.id::text) AS id FROM p)
SELECT p.*, (SELECT count(*) FROM audited) AS audited FROM p
"""

POLICY_GET = "SELECT id, name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at FROM sla_policies WHERE id = :id::uuid"

# The order in which policies are tried (first match wins); a customer's contract policy comes first.
POLICY_LIST = "SELECT id, name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at FROM sla_policies ORDER BY position, name"

POLICY_DELETE = """
WITH p AS (DELETE FROM sla_policies WHERE id = :id::uuid RETURNING id),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, p.id::text) AS id FROM p)
SELECT p.id, (SELECT count(*) FROM audited) AS audited FROM p
"""

# Which policy a ticket with these attributes would get (sla_policy_match, migration 1161).
POLICY_MATCH = """
SELECT p.id, p.name, p.position, p.priority, p.tier, p.team_id, p.channel, p.targets, p.schedule_id, p.is_active,
       p.created_at, (p.id = c.sla_policy_id) IS TRUE AS contract
FROM (SELECT (SELECT sla_policy_id FROM customer_effective_terms(:customer_email)) AS sla_policy_id,
             coalesce((SELECT tier FROM customers WHERE email = :customer_email),
                      (SELECT tier FROM organizations WHERE id = organization_for_email(:customer_email)), :tier) AS tier) c
CROSS JOIN LATERAL sla_policy_match(c.sla_policy_id, c.tier, :priority, :team_id::uuid, :channel) p
"""

CUSTOMER_SET_POLICY = """
UPDATE customers SET sla_policy_id = :policy_id::uuid, updated_at = :now::timestamptz
WHERE id = :customer_id::uuid RETURNING id, email, tier, sla_policy_id
"""

SCHEDULE_INSERT = """
WITH s AS (
    INSERT INTO schedules (name, document, created_at, updated_at)
    VALUES (:name, :document::jsonb, :now::timestamptz, :now::timestamptz)
    RETURNING id, name, document, created_at, updated_at
),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, s.id::text) AS id FROM s)
SELECT s.*, (SELECT count(*) FROM audited) AS audited FROM s
"""

SCHEDULE_UPDATE = """
WITH s AS (
    UPDATE schedules SET name = :name, document = :document::jsonb, updated_at = :now::timestamptz WHERE id = :id::uuid
    RETURNING id, name, document, created_at, updated_at
),
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, s.id::text) AS id FROM s)
SELECT s.*, (SELECT count(*) FROM audited) AS audited FROM s
"""

SCHEDULE_GET = "SELECT id, name, document, created_at, updated_at FROM schedules WHERE id = :id::uuid"
SCHEDULE_LIST = "SELECT id, name, document, created_at, updated_at FROM schedules ORDER BY name"


# What helpdesk.sla.cache reads (the view, migration 1170; the ticket follow-up FINISH can return it too).
SLA_CONFIG = "SELECT kind, doc FROM sla_config_rows"

# -- the sweep ---------------------------------------------------------------------------------
class SweepParams(TypedDict):
    now: datetime
    limit: int


class AutoCloseParams(SweepParams):
    cutoff: datetime                  # resolved before this and still resolved: closed
    reason: str


class SweepRow(TypedDict):
    taken: int                        # rows this round took (a full batch: run another round)
    event: dict[str, Any] | None      # one row per event written (None when there are none)


class SweepStatusRow(TypedDict):
    pending: list[dict[str, Any]]
    next_warn_at: datetime | None
    next_due_at: datetime | None
    oldest_resolved_at: datetime | None


# Each statement takes at most :limit rows in due order over a partial index, locks them with SKIP
# LOCKED (an overlapping sweep takes other rows, never the same ones), and re-checks the condition in
# its UPDATE (compare-and-set), so each warning/breach/close and its event is written exactly once.
# Tickets are locked before their SLA rows, in the same order as the ticket commands (no deadlocks);
# a ticket a command holds is skipped this round and taken by the next sweep. The locked rows are
# updated by ctid (a TID scan: a locked row cannot move), never by a join the planner might hash.
#
# Each returns one row per event written (at least one row, event NULL when none): a batch of events
# as one JSON value would pass the Data API's 64 KB row limit; as rows, a batch of 500 stays far
# under 1 MiB. The events are written by write_ticket_events (migration 1170), read in full here.

SWEEP_WARN = Statement("""
WITH due AS (
    SELECT s.ctid AS row_id FROM sla_targets s JOIN tickets t ON t.id = s.ticket_id
    WHERE s.state = 'running' AND s.warned_at IS NULL AND s.warn_at <= :now::timestamptz AND s.recompute_from IS NULL
    ORDER BY s.warn_at LIMIT :limit
    FOR UPDATE OF t, s SKIP LOCKED
),
warned AS (
    UPDATE sla_targets s SET warned_at = :now::timestamptz, updated_at = :now::timestamptz
    FROM due d WHERE s.ctid = d.row_id AND s.state = 'running' AND s.warned_at IS NULL
    RETURNING s.ticket_id, s.kind, s.due_at
),
events AS (
    -- a clock already past due gets its breach instead (the sweep was late), not a warning too
    SELECT gen_random_uuid() AS id, w.ticket_id, 'sla.warning' AS event_type, 'system' AS actor_type,
           NULL::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('kind', w.kind, 'due_at', w.due_at, 'number', t.number, 'priority', t.priority,
                              'assignee_id', t.assignee_id, 'team_id', t.team_id) AS payload
    FROM warned w JOIN tickets t ON t.id = w.ticket_id
    WHERE w.due_at > :now::timestamptz
),
written AS (
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT (SELECT count(*) FROM warned) AS taken, w.event FROM (SELECT 1) one LEFT JOIN written w ON true ORDER BY (w.event ->> 'seq')::bigint
""", params=SweepParams, row=SweepRow)

# Breach: mark the clock, raise the ticket's priority one step (once per ticket per sweep), escalate:
# an unassigned ticket moves to its team's escalation team when one is set, and the event asks the
# notifier to tell the team lead(s). The priority bump does not re-time the clocks (already breached).
SWEEP_BREACH = Statement("""
WITH due AS (
    SELECT s.ctid AS row_id, t.ctid AS ticket_row FROM sla_targets s JOIN tickets t ON t.id = s.ticket_id
    WHERE s.state = 'running' AND s.breached_at IS NULL AND s.due_at <= :now::timestamptz AND s.recompute_from IS NULL
    ORDER BY s.due_at LIMIT :limit
    FOR UPDATE OF t, s SKIP LOCKED
),
breached AS (
    UPDATE sla_targets s SET breached_at = :now::timestamptz, warned_at = coalesce(s.warned_at, :now::timestamptz),
           updated_at = :now::timestamptz
    FROM due d WHERE s.ctid = d.row_id AND s.state = 'running' AND s.breached_at IS NULL
    RETURNING s.ticket_id, s.kind, s.due_at, s.target_seconds, s.policy_id, d.ticket_row
),
per_ticket AS (
    SELECT b.ticket_id, b.ticket_row, jsonb_agg(jsonb_build_object('kind', b.kind, 'due_at', b.due_at, 'target_seconds', b.target_seconds,
                                                     'policy_id', b.policy_id) ORDER BY b.due_at) AS clocks,
           t0.priority AS old_priority, t0.team_id AS old_team_id, t0.assignee_id,
           CASE WHEN t0.assignee_id IS NULL THEN tm.escalation_team_id END AS escalate_to
    FROM breached b JOIN tickets t0 ON t0.ctid = b.ticket_row LEFT JOIN teams tm ON tm.id = t0.team_id
    GROUP BY b.ticket_id, b.ticket_row, t0.priority, t0.team_id, t0.assignee_id, tm.escalation_team_id
),
raised AS (
    UPDATE tickets t SET
        priority = CASE t.priority WHEN 'low' THEN 'normal' WHEN 'normal' THEN 'high' ELSE 'urgent' END,
        team_id = coalesce(p.escalate_to, t.team_id),
        escalated_at = coalesce(t.escalated_at, :now::timestamptz),
        updated_at = :now::timestamptz, version = t.version + 1
    FROM per_ticket p WHERE t.ctid = p.ticket_row
    RETURNING t.id, t.number, t.priority, t.team_id, t.assignee_id, t.status
),
moved AS (
    INSERT INTO assignments (ticket_id, team_id, reason, created_at)
    SELECT p.ticket_id, p.escalate_to, 'escalation', :now::timestamptz FROM per_ticket p WHERE p.escalate_to IS NOT NULL
),
events AS (
    SELECT gen_random_uuid() AS id, r.id AS ticket_id, 'sla.breached' AS event_type, 'system' AS actor_type,
           NULL::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('clocks', p.clocks, 'kind', p.clocks -> 0 ->> 'kind', 'number', r.number,
                              'status', r.status, 'priority_from', p.old_priority, 'priority_to', r.priority,
                              'team_id', r.team_id, 'previous_team_id', p.old_team_id,
                              'escalated_to_team_id', p.escalate_to, 'assignee_id', r.assignee_id,
                              'notify', jsonb_build_array('assignee', 'team_lead')) AS payload
    FROM raised r JOIN per_ticket p ON p.ticket_id = r.id
),
written AS (
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT (SELECT count(*) FROM breached) AS taken, w.event FROM (SELECT 1) one LEFT JOIN written w ON true ORDER BY (w.event ->> 'seq')::bigint
""", params=SweepParams, row=SweepRow)

# Resolved tickets with no customer reply for 72 h are closed (a customer reply moves a resolved ticket
# back to in_progress, so "still resolved" means "no reply since").
SWEEP_AUTO_CLOSE = Statement("""
WITH due AS (
    SELECT t.ctid AS row_id FROM tickets t
    WHERE t.status = 'resolved' AND t.resolved_at <= :cutoff::timestamptz
    ORDER BY t.resolved_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
),
closed AS (
    UPDATE tickets t SET status = 'closed', closed_at = :now::timestamptz, updated_at = :now::timestamptz,
           version = t.version + 1
    FROM due d WHERE t.ctid = d.row_id AND t.status = 'resolved'
    RETURNING t.id, t.number, t.assignee_id, t.team_id, t.resolved_at
),
events AS (
    SELECT gen_random_uuid() AS id, c.id AS ticket_id, 'ticket.status_changed' AS event_type, 'system' AS actor_type,
           NULL::uuid AS actor_id, 'resolved' AS from_status, 'closed' AS to_status,
           jsonb_build_object('from', 'resolved', 'to', 'closed', 'reason', :reason::text, 'number', c.number,
                              'assignee_id', c.assignee_id, 'team_id', c.team_id) AS payload
    FROM closed c
),
written AS (
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT (SELECT count(*) FROM closed) AS taken, w.event FROM (SELECT 1) one LEFT JOIN written w ON true ORDER BY (w.event ->> 'seq')::bigint
""", params=AutoCloseParams, row=SweepRow)

# Clocks whose deadline a command could not write (its follow-up failed), plus when the next thing
# becomes due (each min() is one probe of a partial index) so an idle deployment can skip sweeps.
SWEEP_PENDING = Statement("""
SELECT
    (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM (
        SELECT ticket_id, kind, target_seconds, business, schedule, recompute_from, paused_at, due_at, state, adjust_seconds
        FROM sla_targets WHERE recompute_from IS NOT NULL AND recompute_from <= :now::timestamptz
        ORDER BY recompute_from LIMIT :limit) p) AS pending,
    (SELECT min(warn_at) FROM sla_targets WHERE state = 'running' AND warned_at IS NULL) AS next_warn_at,
    (SELECT min(due_at) FROM sla_targets WHERE state = 'running' AND breached_at IS NULL) AS next_due_at,
    (SELECT min(resolved_at) FROM tickets WHERE status = 'resolved') AS oldest_resolved_at
""", params=SweepParams, row=SweepStatusRow)


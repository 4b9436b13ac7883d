"""SQL for operations insight: the sweep's once-a-minute operations snapshot and the leads' reports
(helpdesk.insight). Each statement is one Data API call; every figure is computed set-based here.

Statuses, as the state machine names them (helpdesk.tickets.states):
- in flight: new, assigned, in_progress, waiting_on_customer, reopened (not yet resolved or closed);
- backlog: in flight and our turn, i.e. without waiting_on_customer (the customer's turn).
"""

# One row per metric (and team/status): counts in `n`, seconds or a capacity in `value`, a median in
# `median`, the support address's schedule document in `schedule`. `:now` is the end of the window
# [:since, :until) the per-minute counts cover (the sweep passes the last full minute).
OPERATIONS_SNAPSHOT = """
WITH in_flight AS (
    SELECT t.team_id, t.status, t.created_at FROM tickets t
    WHERE t.status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
),
transitions AS (
    SELECT count(*) FILTER (WHERE a.to_status = 'reopened')::int AS reopened,
           count(*) FILTER (WHERE a.to_status = 'resolved')::int AS resolved
    FROM ticket_audit a
    WHERE a.occurred_at >= :since::timestamptz AND a.occurred_at < :until::timestamptz
      AND a.event_type = 'ticket.status_changed'
)
SELECT 'in_flight' AS metric, coalesce(tm.name, '(no team)') AS team, f.status, count(*)::int AS n,
       NULL::double precision AS value, NULL::double precision AS median, NULL::jsonb AS schedule
FROM in_flight f LEFT JOIN teams tm ON tm.id = f.team_id
GROUP BY tm.name, f.status
UNION ALL
-- The backlog per team and overall (team NULL): how many, the oldest and the median age in seconds.
SELECT 'backlog', CASE WHEN grouping(tm.name) = 1 THEN NULL ELSE coalesce(tm.name, '(no team)') END, NULL,
       count(*)::int,
       extract(epoch FROM :until::timestamptz - min(f.created_at))::double precision,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM :until::timestamptz - f.created_at)::double precision),
       NULL
FROM in_flight f LEFT JOIN teams tm ON tm.id = f.team_id
WHERE f.status <> 'waiting_on_customer'
GROUP BY GROUPING SETS ((tm.name), ())
UNION ALL
-- Agent utilization per team: the active tickets its active agents hold (agents.active_count, kept by
-- a trigger) against their capacity.
SELECT 'utilization', tm.name, NULL, sum(a.active_count)::int, sum(a.capacity)::double precision, NULL, NULL
FROM teams tm JOIN team_members m ON m.team_id = tm.id JOIN agents a ON a.id = m.agent_id AND a.is_active
GROUP BY tm.name
UNION ALL
-- Time to assignment: each ticket that got its FIRST assignee in the window (ticket_audit_occurred,
-- then ticket_audit_ticket for the earlier assignments), wall-clock seconds from its creation.
(SELECT 'time_to_assignment', NULL, NULL, 1, extract(epoch FROM a.occurred_at - t.created_at)::double precision, NULL, NULL
 FROM ticket_audit a JOIN tickets t ON t.id = a.ticket_id
 WHERE a.occurred_at >= :since::timestamptz AND a.occurred_at < :until::timestamptz
   AND a.event_type = 'ticket.assigned' AND a.data ->> 'agent_id' IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM ticket_audit e
                   WHERE e.ticket_id = a.ticket_id AND e.id < a.id AND e.event_type = 'ticket.assigned'
                     AND e.data ->> 'agent_id' IS NOT NULL)
 ORDER BY a.occurred_at LIMIT :limit)
UNION ALL
SELECT 'reopened', NULL, NULL, reopened, NULL, NULL, NULL FROM transitions
UNION ALL
SELECT 'resolved', NULL, NULL, resolved, NULL, NULL, NULL FROM transitions
UNION ALL
-- The support address's business hours: those of the default team (where support@ mail lands when no
-- routing rule picks another team).
SELECT 'support_hours', NULL, NULL, NULL, NULL, NULL, s.document
FROM teams tm JOIN schedules s ON s.id = tm.schedule_id
WHERE tm.is_default
"""

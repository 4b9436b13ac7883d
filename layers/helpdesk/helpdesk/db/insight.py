"""SQL for operations insight: the sweep's once-a-minute operations snapshot and the leads' reports
(helpdesk.insight). Each statement is one Data API call; every figure is computed set-based here.

Statuses, as the state machine names them (helpdesk.tickets.states):
- in flight: new, assigned, in_progress, waiting_on_customer, reopened (not yet resolved or closed);
- backlog: in flight and our turn, i.e. without waiting_on_customer (the customer's turn).
"""
from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from helpdesk.db.statement import JsonValue, Statement


class SnapshotParams(TypedDict):
    since: datetime
    until: datetime
    limit: int
    gauges: bool


class SnapshotRow(TypedDict):
    metric: str
    team: str | None
    status: str | None
    n: int | None
    value: float | None
    median: float | None
    schedule: JsonValue


class VolumeParams(TypedDict):
    since: datetime
    until: datetime
    unit: str
    tz: str
    team_id: str | None


class VolumeRow(TypedDict):
    period: str
    breakdown: str
    channel: str | None
    team_id: str | None
    team_name: str | None
    tickets: int


class BacklogParams(TypedDict):
    now: datetime
    team_id: str | None


class BacklogRow(TypedDict):
    grouped: int
    team_id: str | None
    team_name: str | None
    in_flight: int
    new: int
    assigned: int
    in_progress: int
    reopened: int
    waiting_on_customer: int
    backlog: int
    unassigned: int
    oldest_age_seconds: float | None
    p50_age_seconds: float | None
    p95_age_seconds: float | None
    older_than_1d: int
    older_than_3d: int
    older_than_7d: int


class MeasuredParams(TypedDict):
    since: datetime
    until: datetime
    team_id: str | None
    holidays: JsonValue  # {holiday_country: ["YYYY-MM-DD", ...]} (helpdesk.insight.business_time)


class AgentsRow(TypedDict):
    agent_id: str
    agent_name: str
    agent_email: str
    handled: int
    solved: int
    ever_solved: int
    reopened: int
    fr_count: int
    fr_p50: float | None
    fr_p95: float | None
    fr_mean: float | None
    res_count: int
    res_p50: float | None
    res_p95: float | None
    res_mean: float | None
    missing_countries: JsonValue


class SlaRow(TypedDict):
    all_teams: int
    all_priorities: int
    team_id: str | None
    team_name: str | None
    priority: str | None
    tickets: int
    fr_count: int
    fr_p50: float | None
    fr_p95: float | None
    fr_mean: float | None
    res_count: int
    res_p50: float | None
    res_p95: float | None
    res_mean: float | None
    clocked: int
    breached: int
    missing_countries: JsonValue


# One row per metric (and team/status): counts in `n`, seconds or a capacity in `value`, a median in
# `median`, the support address's schedule document in `schedule`. The per-minute figures cover the
# window [:since, :until) (the sweep passes the last full minute); the gauges (in flight, backlog,
# utilization: a scan of every ticket in flight) are measured at :until, and only when :gauges is true
# (a one-time filter: otherwise their tables are not read).
OPERATIONS_SNAPSHOT = Statement("""
WITH in_flight AS (
    SELECT t.team_id, t.status, t.created_at FROM tickets t
    WHERE :gauges::boolean AND t.status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
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
HAVING :gauges::boolean
UNION ALL
-- Agent utilization per team: the active tickets its active agents hold (agents.active_count, kept by
-- a trigger) against their capacity.
SELECT 'utilization', tm.name, NULL, sum(a.active_count)::int, sum(a.capacity)::double precision, NULL, NULL
FROM teams tm JOIN team_members m ON m.team_id = tm.id JOIN agents a ON a.id = m.agent_id AND a.is_active
WHERE :gauges::boolean
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
""", params=SnapshotParams, row=SnapshotRow)

# -- the leads' reports (helpdesk.insight.reports), one statement each --------------------------------
# Tickets created in [:since, :until) without spam, duplicates and merged tickets (not customer
# demand), counted per period (:unit day, week or month, in the time zone :tz) three ways: by channel,
# by team, and in total; `breakdown` says which (grouping(), since a NULL team is a real "no team").
REPORT_VOLUME = Statement("""
SELECT to_char(t.period, 'YYYY-MM-DD') AS period,
       CASE WHEN grouping(t.channel) = 0 THEN 'channel' WHEN grouping(t.team_id) = 0 THEN 'team' ELSE 'total' END AS breakdown,
       t.channel, t.team_id::text AS team_id, min(tm.name) AS team_name, count(*)::int AS tickets
FROM (SELECT date_trunc(:unit, created_at AT TIME ZONE :tz) AS period, channel, team_id
      FROM tickets
      WHERE created_at >= :since::timestamptz AND created_at < :until::timestamptz
        AND status NOT IN ('spam', 'duplicate', 'merged')
        AND (:team_id::uuid IS NULL OR team_id = :team_id::uuid)) t
LEFT JOIN teams tm ON tm.id = t.team_id
GROUP BY GROUPING SETS ((t.period, t.channel), (t.period, t.team_id), (t.period))
ORDER BY t.period, 2, t.channel, team_name
""", params=VolumeParams, row=VolumeRow)

# The tickets in flight now, per team and overall (team_id NULL with grouped = 1): how many in each
# status, the backlog (our turn: not waiting on the customer), its age (wall-clock seconds at :now:
# oldest, p50, p95) and how many are older than a day, three days and a week.
REPORT_BACKLOG = Statement("""
WITH open_tickets AS (
    SELECT t.team_id, t.status, t.assignee_id, extract(epoch FROM :now::timestamptz - t.created_at)::double precision AS age
    FROM tickets t
    WHERE t.status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
      AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
)
SELECT grouping(o.team_id) AS grouped, o.team_id::text AS team_id, min(tm.name) AS team_name,
       count(*)::int AS in_flight,
       count(*) FILTER (WHERE o.status = 'new')::int AS new,
       count(*) FILTER (WHERE o.status = 'assigned')::int AS assigned,
       count(*) FILTER (WHERE o.status = 'in_progress')::int AS in_progress,
       count(*) FILTER (WHERE o.status = 'reopened')::int AS reopened,
       count(*) FILTER (WHERE o.status = 'waiting_on_customer')::int AS waiting_on_customer,
       count(*) FILTER (WHERE o.status <> 'waiting_on_customer')::int AS backlog,
       count(*) FILTER (WHERE o.status <> 'waiting_on_customer' AND o.assignee_id IS NULL)::int AS unassigned,
       max(o.age) FILTER (WHERE o.status <> 'waiting_on_customer') AS oldest_age_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY o.age) FILTER (WHERE o.status <> 'waiting_on_customer') AS p50_age_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY o.age) FILTER (WHERE o.status <> 'waiting_on_customer') AS p95_age_seconds,
       count(*) FILTER (WHERE o.status <> 'waiting_on_customer' AND o.age > 86400)::int AS older_than_1d,
       count(*) FILTER (WHERE o.status <> 'waiting_on_customer' AND o.age > 3 * 86400)::int AS older_than_3d,
       count(*) FILTER (WHERE o.status <> 'waiting_on_customer' AND o.age > 7 * 86400)::int AS older_than_7d
FROM open_tickets o LEFT JOIN teams tm ON tm.id = o.team_id
GROUP BY GROUPING SETS ((o.team_id), ())
ORDER BY grouped, team_name
""", params=BacklogParams, row=BacklogRow)

# Per agent (the ticket's current assignee), tickets created in [:since, :until) without spam,
# duplicates and merged ones: handled (assigned to them), solved (now resolved or closed), ever solved
# (solved, or reopened since: the reopen rate's denominator) and reopened (at least once); and their
# first response and resolution in business seconds (count, p50, p95, mean) from
# insight_measured_times (migration 1240: the SLA report's measure, set-based).
# `missing_countries`: holiday_country codes of the schedules used that :holidays did not cover.
REPORT_AGENTS = Statement("""
WITH scope AS (
    SELECT t.id, t.assignee_id, t.status, t.reopen_count
    FROM tickets t
    WHERE t.created_at >= :since::timestamptz AND t.created_at < :until::timestamptz
      AND t.status NOT IN ('spam', 'duplicate', 'merged') AND t.assignee_id IS NOT NULL
      AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
),
measured AS (
    SELECT m.ticket_id, m.kind, m.seconds, m.holiday_country, s.assignee_id
    FROM insight_measured_times(:since::timestamptz, :until::timestamptz, :team_id::uuid, :holidays::jsonb) m
    JOIN scope s ON s.id = m.ticket_id
),
times AS (
    SELECT assignee_id,
           count(*) FILTER (WHERE kind = 'first_response')::int AS fr_count,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind = 'first_response') AS fr_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind = 'first_response') AS fr_p95,
           avg(seconds) FILTER (WHERE kind = 'first_response') AS fr_mean,
           count(*) FILTER (WHERE kind = 'resolution')::int AS res_count,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind = 'resolution') AS res_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE kind = 'resolution') AS res_p95,
           avg(seconds) FILTER (WHERE kind = 'resolution') AS res_mean
    FROM measured GROUP BY assignee_id
),
workload AS (
    SELECT assignee_id, count(*)::int AS handled,
           count(*) FILTER (WHERE status IN ('resolved', 'closed'))::int AS solved,
           count(*) FILTER (WHERE status IN ('resolved', 'closed') OR reopen_count > 0)::int AS ever_solved,
           count(*) FILTER (WHERE reopen_count > 0)::int AS reopened
    FROM scope GROUP BY assignee_id
)
SELECT w.assignee_id::text AS agent_id, a.name AS agent_name, a.email AS agent_email,
       w.handled, w.solved, w.ever_solved, w.reopened,
       coalesce(tm.fr_count, 0) AS fr_count, tm.fr_p50, tm.fr_p95, tm.fr_mean,
       coalesce(tm.res_count, 0) AS res_count, tm.res_p50, tm.res_p95, tm.res_mean,
       (SELECT jsonb_agg(DISTINCT m.holiday_country) FROM measured m
        WHERE m.holiday_country IS NOT NULL AND NOT (:holidays::jsonb ? m.holiday_country)) AS missing_countries
FROM workload w
JOIN agents a ON a.id = w.assignee_id
LEFT JOIN times tm ON tm.assignee_id = w.assignee_id
ORDER BY a.name, w.assignee_id
""", params=MeasuredParams, row=AgentsRow)

# The SLA report (helpdesk.sla.reports.sla_report): per team, per team and priority, and overall
# (grouping() says which), tickets created in [:since, :until) without spam, duplicates and merged ones:
# how many, first response and resolution in business seconds (count, p50, p95, mean; from
# insight_measured_times), how many had an SLA clock and how many of those had any clock breached
# (marked by the sweep, or met after its deadline).
REPORT_SLA = Statement("""
WITH scope AS (
    SELECT t.id, t.team_id, t.priority,
           EXISTS (SELECT 1 FROM sla_targets c WHERE c.ticket_id = t.id) AS clocked,
           EXISTS (SELECT 1 FROM sla_targets c
                   WHERE c.ticket_id = t.id AND (c.breached_at IS NOT NULL OR c.met_at > c.due_at)) AS breached
    FROM tickets t
    WHERE t.created_at >= :since::timestamptz AND t.created_at < :until::timestamptz
      AND t.status NOT IN ('spam', 'duplicate', 'merged')
      AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
),
measured AS (
    SELECT * FROM insight_measured_times(:since::timestamptz, :until::timestamptz, :team_id::uuid, :holidays::jsonb)
),
per_ticket AS (
    SELECT s.id, s.team_id, s.priority, s.clocked, s.breached,
           max(m.seconds) FILTER (WHERE m.kind = 'first_response') AS first_response,
           max(m.seconds) FILTER (WHERE m.kind = 'resolution') AS resolution
    FROM scope s LEFT JOIN measured m ON m.ticket_id = s.id
    GROUP BY s.id, s.team_id, s.priority, s.clocked, s.breached
)
SELECT grouping(p.team_id) AS all_teams, grouping(p.priority) AS all_priorities,
       p.team_id::text AS team_id, min(tm.name) AS team_name, p.priority,
       count(*)::int AS tickets,
       count(p.first_response)::int AS fr_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.first_response) AS fr_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY p.first_response) AS fr_p95,
       avg(p.first_response) AS fr_mean,
       count(p.resolution)::int AS res_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.resolution) AS res_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY p.resolution) AS res_p95,
       avg(p.resolution) AS res_mean,
       count(*) FILTER (WHERE p.clocked)::int AS clocked,
       count(*) FILTER (WHERE p.breached)::int AS breached,
       (SELECT jsonb_agg(DISTINCT m.holiday_country) FROM measured m
        WHERE m.holiday_country IS NOT NULL AND NOT (:holidays::jsonb ? m.holiday_country)) AS missing_countries
FROM per_ticket p LEFT JOIN teams tm ON tm.id = p.team_id
GROUP BY GROUPING SETS ((p.team_id), (p.team_id, p.priority), ())
ORDER BY all_teams DESC, p.team_id, all_priorities DESC, p.priority
""", params=MeasuredParams, row=SlaRow)

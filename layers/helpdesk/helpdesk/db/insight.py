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

# -- the leads' reports (helpdesk.insight.reports), one statement each --------------------------------
# Tickets created in [:since, :until) without spam, duplicates and merged tickets (not customer
# demand), counted per period (:unit day, week or month, in the time zone :tz) three ways: by channel,
# by team, and in total; `breakdown` says which (grouping(), since a NULL team is a real "no team").
REPORT_VOLUME = """
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
"""

# The tickets in flight now, per team and overall (team_id NULL with grouped = 1): how many in each
# status, the backlog (our turn: not waiting on the customer), its age (wall-clock seconds at :now:
# oldest, p50, p95) and how many are older than a day, three days and a week.
REPORT_BACKLOG = """
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
"""

# Per agent (the ticket's current assignee), tickets created in [:since, :until) without spam,
# duplicates and merged ones: handled (assigned to them), solved (now resolved or closed), ever solved
# (solved, or reopened since: the reopen rate's denominator) and reopened (at least once); and their
# first response and resolution in business seconds (count, p50, p95, mean), measured as
# helpdesk.sla.reports measures them: on the clock's schedule (none: 24/7), the team's when the ticket
# had no clock, less the business time spent waiting on the customer (audit trail), never below 0.
# Business time is set-based: each (schedule, local date) gets its open intervals once
# (insight_day_intervals, migration 1240), joined to every span that touches that date.
# `missing_countries`: holiday_country codes of the schedules used that :holidays did not cover.
REPORT_AGENTS = """
WITH scope AS (
    SELECT t.id, t.assignee_id, t.status, t.reopen_count, t.created_at, t.first_response_at, t.resolved_at,
           ts.document AS team_schedule
    FROM tickets t
    LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN schedules ts ON ts.id = tm.schedule_id
    WHERE t.created_at >= :since::timestamptz AND t.created_at < :until::timestamptz
      AND t.status NOT IN ('spam', 'duplicate', 'merged') AND t.assignee_id IS NOT NULL
      AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
),
measured AS (
    SELECT s.id, s.assignee_id, k.kind, s.created_at AS started, k.ended,
           CASE WHEN c.ticket_id IS NULL THEN s.team_schedule WHEN c.business THEN c.schedule END AS schedule
    FROM scope s
    CROSS JOIN LATERAL (VALUES ('first_response', s.first_response_at), ('resolution', s.resolved_at)) k(kind, ended)
    LEFT JOIN sla_targets c ON c.ticket_id = s.id AND c.kind = k.kind
    WHERE k.ended IS NOT NULL
),
waits AS (
    SELECT a.ticket_id, a.occurred_at AS started,
           (SELECT min(b.occurred_at) FROM ticket_audit b
            WHERE b.ticket_id = a.ticket_id AND b.id > a.id AND b.from_status = 'waiting_on_customer') AS ended
    FROM ticket_audit a JOIN scope s ON s.id = a.ticket_id
    WHERE a.to_status = 'waiting_on_customer'
),
spans AS (
    SELECT m.id, m.assignee_id, m.kind, m.schedule, md5(m.schedule::text) AS schedule_key, 1 AS sign,
           m.started AS a, m.ended AS b
    FROM measured m
    UNION ALL
    SELECT m.id, m.assignee_id, m.kind, m.schedule, md5(m.schedule::text), -1,
           greatest(w.started, m.started), least(coalesce(w.ended, m.ended), m.ended)
    FROM measured m JOIN waits w ON w.ticket_id = m.id
    WHERE least(coalesce(w.ended, m.ended), m.ended) > greatest(w.started, m.started)
),
span_days AS (
    SELECT sp.id, sp.assignee_id, sp.kind, sp.sign, sp.a, sp.b, sp.schedule_key, d::date AS day
    FROM spans sp,
         generate_series((sp.a AT TIME ZONE (sp.schedule ->> 'timezone'))::date,
                         (sp.b AT TIME ZONE (sp.schedule ->> 'timezone'))::date, interval '1 day') d
    WHERE sp.schedule IS NOT NULL AND sp.b > sp.a
),
open_intervals AS (
    SELECT d.schedule_key, d.day, i.open_at, i.close_at
    FROM (SELECT DISTINCT schedule_key, day FROM span_days) d
    JOIN (SELECT DISTINCT ON (schedule_key) schedule_key, schedule FROM spans WHERE schedule IS NOT NULL) u
      ON u.schedule_key = d.schedule_key,
         insight_day_intervals(u.schedule, d.day, :holidays::jsonb) i
    WHERE i.close_at > i.open_at
),
span_seconds AS (
    SELECT sd.id, sd.assignee_id, sd.kind,
           sd.sign * extract(epoch FROM least(sd.b, o.close_at) - greatest(sd.a, o.open_at))::double precision AS seconds
    FROM span_days sd JOIN open_intervals o ON o.schedule_key = sd.schedule_key AND o.day = sd.day
    WHERE o.close_at > sd.a AND o.open_at < sd.b
    UNION ALL
    SELECT sp.id, sp.assignee_id, sp.kind, sp.sign * greatest(extract(epoch FROM sp.b - sp.a)::double precision, 0)
    FROM spans sp WHERE sp.schedule IS NULL
    UNION ALL
    SELECT m.id, m.assignee_id, m.kind, 0 FROM measured m  -- every measured ticket counts, even at 0 s
),
per_ticket AS (
    SELECT id, assignee_id, kind, greatest(sum(seconds), 0) AS seconds FROM span_seconds GROUP BY id, assignee_id, kind
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
    FROM per_ticket GROUP BY assignee_id
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
       (SELECT jsonb_agg(DISTINCT c) FROM (SELECT DISTINCT schedule ->> 'holiday_country' AS c FROM spans) u
        WHERE c IS NOT NULL AND NOT (:holidays::jsonb ? c)) AS missing_countries
FROM workload w
JOIN agents a ON a.id = w.assignee_id
LEFT JOIN times tm ON tm.assignee_id = w.assignee_id
ORDER BY a.name, w.assignee_id
"""

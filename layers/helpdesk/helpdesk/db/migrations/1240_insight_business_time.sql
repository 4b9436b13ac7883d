-- Business time in SQL for the leads' reports (helpdesk.insight.reports), so a report measures every
-- ticket's first response and resolution set-based in one statement. The rule's home is
-- helpdesk/sla/business_hours.py (Schedule, business_time_between); these functions mirror it for
-- stored (canonical, Schedule.to_document) schedule documents, and
-- tests/integration/insight/test_business_time_sql.py checks that the two agree. Public holidays of a
-- `holiday_country` are not known to the database: the caller passes them ({"US": ["2026-01-01", ...]}).

-- A local wall-clock time of a date (seconds since midnight, 86400 = "24:00") as an instant, the way
-- Schedule._wall_to_utc reads it: an ambiguous time (fall-back) is its first occurrence; a time inside
-- a spring-forward gap is the transition instant (the first at which the clock shows a later time).
CREATE FUNCTION insight_wall_to_utc(p_day date, p_seconds integer, p_tz text) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    wall timestamp := p_day + make_interval(secs => p_seconds);
    guess timestamptz := wall AT TIME ZONE p_tz;
    found timestamptz;
BEGIN
    -- The offsets in force a day before, at and a day after PostgreSQL's reading (at most one change a
    -- day): the earliest instant that shows this wall time.
    SELECT min(c) INTO found
    FROM (SELECT (wall - ((g AT TIME ZONE p_tz) - (g AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS c
          FROM unnest(ARRAY[guess - interval '1 day', guess, guess + interval '1 day']) g) x
    WHERE (c AT TIME ZONE p_tz) = wall;
    IF found IS NOT NULL THEN
        RETURN found;
    END IF;
    -- In a gap (transitions fall on whole minutes; schedule times are whole minutes).
    SELECT min(m) INTO found
    FROM generate_series(guess - interval '3 hours', guess + interval '3 hours', interval '1 minute') m
    WHERE (m AT TIME ZONE p_tz) >= wall;
    RETURN found;
END $$;

-- One local date's intervals as Schedule.local_intervals gives them: an explicit holiday closes the
-- date; else special hours replace the weekly ones; else a public holiday of holiday_country (from
-- p_country_holidays) closes it; else the weekday's hours.
CREATE FUNCTION insight_day_intervals(p_schedule jsonb, p_day date, p_country_holidays jsonb)
RETURNS TABLE (open_at timestamptz, close_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT insight_wall_to_utc(p_day, split_part(iv ->> 0, ':', 1)::int * 3600 + split_part(iv ->> 0, ':', 2)::int * 60,
                               p_schedule ->> 'timezone'),
           insight_wall_to_utc(p_day, split_part(iv ->> 1, ':', 1)::int * 3600 + split_part(iv ->> 1, ':', 2)::int * 60,
                               p_schedule ->> 'timezone')
    FROM jsonb_array_elements(CASE
        WHEN coalesce(p_schedule -> 'holidays', '[]'::jsonb) ? to_char(p_day, 'YYYY-MM-DD') THEN '[]'::jsonb
        WHEN coalesce(p_schedule -> 'special_hours', '{}'::jsonb) ? to_char(p_day, 'YYYY-MM-DD')
            THEN p_schedule -> 'special_hours' -> to_char(p_day, 'YYYY-MM-DD')
        WHEN coalesce(p_country_holidays -> (p_schedule ->> 'holiday_country'), '[]'::jsonb) ? to_char(p_day, 'YYYY-MM-DD')
            THEN '[]'::jsonb
        ELSE coalesce(p_schedule -> 'hours' -> ((ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[extract(isodow FROM p_day)::int]),
                      '[]'::jsonb)
    END) iv
$$;

-- Business seconds from p_start to p_end on a schedule document (NULL: 24/7, wall time), as
-- business_time_between gives them (0 when p_end is not after p_start). For a single span; the
-- reports join the day intervals set-based instead (one interval set per schedule and date).
CREATE FUNCTION insight_business_seconds(p_start timestamptz, p_end timestamptz, p_schedule jsonb, p_country_holidays jsonb)
RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p_end <= p_start THEN 0::double precision
        WHEN p_schedule IS NULL THEN extract(epoch FROM p_end - p_start)::double precision
        ELSE coalesce((
            SELECT sum(extract(epoch FROM least(p_end, i.close_at) - greatest(p_start, i.open_at)))::double precision
            FROM generate_series((p_start AT TIME ZONE (p_schedule ->> 'timezone'))::date,
                                 (p_end AT TIME ZONE (p_schedule ->> 'timezone'))::date, interval '1 day') d,
                 insight_day_intervals(p_schedule, d::date, p_country_holidays) i
            WHERE i.close_at > i.open_at AND i.close_at > p_start AND i.open_at < p_end), 0)
    END
$$;

-- First response and resolution of every ticket created in [p_since, p_until) (of team p_team when
-- given; spam, duplicates and merged tickets left out), in business seconds, as
-- helpdesk.sla.reports.measure counts them: from creation, on the clock's schedule (a clock not in
-- business time, or without a schedule: 24/7), the team's schedule when the ticket had no clock,
-- less the business time spent waiting on the customer (periods from the audit trail), never below 0.
-- Set-based: each (schedule, local date) gets its open intervals once, joined to every span touching
-- that date. holiday_country names the schedule's country, for the caller to check p_holidays had it.
CREATE FUNCTION insight_measured_times(p_since timestamptz, p_until timestamptz, p_team uuid, p_holidays jsonb)
RETURNS TABLE (ticket_id uuid, kind text, seconds double precision, holiday_country text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH scope AS (
    SELECT t.id, t.created_at, t.first_response_at, t.resolved_at, tm.schedule_id
    FROM tickets t
    LEFT JOIN teams tm ON tm.id = t.team_id
    WHERE t.created_at >= p_since AND t.created_at < p_until
      AND t.status NOT IN ('spam', 'duplicate', 'merged')
      AND (p_team IS NULL OR t.team_id = p_team)
),
-- Each measure and the key of its schedule (NULL: 24/7): the team's schedule id, or a hash of the
-- clock's own copy; the documents themselves are kept once per key (schedule_docs).
measured AS (
    SELECT s.id, k.kind, s.created_at AS started, k.ended,
           CASE WHEN c.ticket_id IS NULL THEN s.schedule_id::text
                WHEN c.business AND c.schedule IS NOT NULL THEN md5(c.schedule::text) END AS schedule_key
    FROM scope s
    CROSS JOIN LATERAL (VALUES ('first_response', s.first_response_at), ('resolution', s.resolved_at)) k(kind, ended)
    LEFT JOIN sla_targets c ON c.ticket_id = s.id AND c.kind = k.kind
    WHERE k.ended IS NOT NULL
),
schedule_docs AS MATERIALIZED (
    SELECT sc.id::text AS schedule_key, sc.document AS doc FROM schedules sc
    WHERE sc.id IN (SELECT schedule_id FROM scope)
    UNION
    SELECT DISTINCT ON (md5(c.schedule::text)) md5(c.schedule::text), c.schedule
    FROM sla_targets c JOIN scope s ON s.id = c.ticket_id
    WHERE c.business AND c.schedule IS NOT NULL
),
waits AS (
    SELECT a.ticket_id, a.occurred_at AS started,
           (SELECT min(b.occurred_at) FROM ticket_audit b
            WHERE b.ticket_id = a.ticket_id AND b.id > a.id AND b.from_status = 'waiting_on_customer') AS ended
    FROM ticket_audit a JOIN scope s ON s.id = a.ticket_id
    WHERE a.to_status = 'waiting_on_customer'
),
spans AS (
    SELECT m.id, m.kind, m.schedule_key, 1 AS sign, m.started AS a, m.ended AS b
    FROM measured m
    UNION ALL
    SELECT m.id, m.kind, m.schedule_key, -1, greatest(w.started, m.started), least(coalesce(w.ended, m.ended), m.ended)
    FROM measured m JOIN waits w ON w.ticket_id = m.id
    WHERE least(coalesce(w.ended, m.ended), m.ended) > greatest(w.started, m.started)
),
span_days AS (
    SELECT sp.id, sp.kind, sp.sign, sp.a, sp.b, sp.schedule_key, d::date AS day
    FROM spans sp
    JOIN schedule_docs sd ON sd.schedule_key = sp.schedule_key,
         generate_series((sp.a AT TIME ZONE (sd.doc ->> 'timezone'))::date,
                         (sp.b AT TIME ZONE (sd.doc ->> 'timezone'))::date, interval '1 day') d
    WHERE sp.b > sp.a
),
-- MATERIALIZED: each (schedule, date) converted once, not once per span joined to it
open_intervals AS MATERIALIZED (
    SELECT d.schedule_key, d.day, i.open_at, i.close_at
    FROM (SELECT DISTINCT schedule_key, day FROM span_days) d
    JOIN schedule_docs u ON u.schedule_key = d.schedule_key,
         insight_day_intervals(u.doc, d.day, p_holidays) i
    WHERE i.close_at > i.open_at
),
span_seconds AS (
    SELECT sd.id, sd.kind, sd.schedule_key,
           sd.sign * extract(epoch FROM least(sd.b, o.close_at) - greatest(sd.a, o.open_at))::double precision AS seconds
    FROM span_days sd JOIN open_intervals o ON o.schedule_key = sd.schedule_key AND o.day = sd.day
    WHERE o.close_at > sd.a AND o.open_at < sd.b
    UNION ALL
    -- every span once more: 24/7 spans with their wall time, the others with 0 so that a ticket whose
    -- span touches no open interval is still counted (at 0 s)
    SELECT sp.id, sp.kind, sp.schedule_key,
           CASE WHEN sp.schedule_key IS NULL THEN sp.sign * greatest(extract(epoch FROM sp.b - sp.a)::double precision, 0) ELSE 0 END
    FROM spans sp
),
per_measure AS (
    SELECT id, kind, min(schedule_key) AS schedule_key, greatest(sum(seconds), 0) AS seconds
    FROM span_seconds GROUP BY id, kind
)
SELECT pm.id, pm.kind, pm.seconds, sd.doc ->> 'holiday_country'
FROM per_measure pm LEFT JOIN schedule_docs sd ON sd.schedule_key = pm.schedule_key
$$;

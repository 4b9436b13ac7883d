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

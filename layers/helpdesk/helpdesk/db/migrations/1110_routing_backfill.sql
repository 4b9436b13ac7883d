-- The queue back-fill in one statement per sweep (issue 24): routing_backfill() plans and writes the
-- assignments of every push/round-robin team at once, instead of one push statement per queued ticket.
--
-- It makes the same decisions routing_pick_agent() (0200) makes for one push, ticket after ticket:
-- queued tickets (unassigned, status new/reopened/in_progress) in priority order, then oldest; each to
-- an active, present member of the ticket's team with free capacity who holds every skill the
-- ticket's tags ask for (a tag is a requirement when some active member of the team lists it as a
-- skill; case-insensitive); push: least loaded, ties by longest since the last assignment;
-- round_robin: longest since the last assignment. The loads it plans with count its own picks, so
-- nobody goes over capacity; each pick stamps last_assigned_at like a push.
--
-- Tickets nobody free can take cost no call and no read of their own: the queue is read per distinct
-- tag set (a skip scan of tickets_routing_queue_tag_sets, one index probe per set), a set is
-- takeable when some free member holds every skill it requires, and only the takeable sets' tickets
-- are read, at most as many per set as there are free slots (within one tag set the tickets
-- assigned are always a prefix in queue order: they need the same agents). So the cost of a sweep
-- grows with the number of distinct tag sets waiting, never with the number of tickets behind them.
-- At most p_limit tickets per call (the caller repeats while a call fills up).
--
-- Concurrency (same guarantees as a push): every candidate team row is locked first, in id order,
-- like a push locks its one team, so back-fill and pushes into a team run one at a time. Only then
-- agent rows are locked (SKIP LOCKED: an agent another statement is writing right now is left for the
-- next sweep, so this function never waits while holding agents) and re-read at their latest committed
-- version, and queued tickets are locked SKIP LOCKED (a ticket being claimed or pushed right now is
-- skipped; the lock re-checks that it is still unassigned). VOLATILE plpgsql: each query sees what
-- the previous lock holders committed. The ticket writes happen here too (so a ticket is only
-- written while locked by this statement); the caller's statement writes history, audit and outbox
-- from the returned rows.
--
-- p_off_shift: the ids of teams off shift now (the application owns the business-hours calendar).
-- Returns each written ticket (to_jsonb of the row) and its status before.
CREATE INDEX IF NOT EXISTS tickets_routing_queue_tag_sets
    ON tickets (team_id, md5(tags::text), priority_rank, created_at, id)
    WHERE assignee_id IS NULL AND status IN ('new', 'reopened', 'in_progress');

-- The distinct tag sets of a team's queue (md5 of the tags document, and one such document): a skip
-- scan, one index probe per set, whatever the number of tickets.
CREATE OR REPLACE FUNCTION routing_queue_tag_sets(p_team uuid)
RETURNS TABLE (tag_hash text, tags jsonb) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE sets AS (
        (SELECT md5(t.tags::text) AS h FROM tickets t
         WHERE t.team_id = p_team AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
         ORDER BY md5(t.tags::text) LIMIT 1)
        UNION ALL
        SELECT (SELECT md5(t.tags::text) FROM tickets t
                WHERE t.team_id = p_team AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
                  AND md5(t.tags::text) > s.h
                ORDER BY md5(t.tags::text) LIMIT 1)
        FROM sets s WHERE s.h IS NOT NULL
    )
    SELECT s.h, (SELECT t.tags FROM tickets t
                 WHERE t.team_id = p_team AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
                   AND md5(t.tags::text) = s.h LIMIT 1)
    FROM sets s WHERE s.h IS NOT NULL
$$;

-- The skills a ticket's tags require in a team: the tags some active member lists as a skill
-- (p_team_skills, lower case), compared case-insensitively, as routing_pick_agent does.
CREATE OR REPLACE FUNCTION routing_required_skills(p_tags jsonb, p_team_skills text[])
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(DISTINCT lower(x.tag)), '{}')
    FROM jsonb_array_elements_text(coalesce(p_tags, '[]'::jsonb)) AS x(tag) WHERE lower(x.tag) = ANY (p_team_skills)
$$;

-- The active members' skills of a team (what counts as a requirement there), lower case.
CREATE OR REPLACE FUNCTION routing_team_skills(p_team uuid)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT lower(s.skill)), '{}')
    FROM team_members m JOIN agents a ON a.id = m.agent_id
    CROSS JOIN LATERAL jsonb_array_elements_text(a.skills) AS s(skill)
    WHERE m.team_id = p_team AND a.is_active
$$;

-- md5s of the tag sets waiting in a team's queue that some agent with one of p_profiles (skill sets as
-- lower-case JSON arrays: lower(skills::text)::jsonb, a builtin per agent rather than a function call)
-- can take.
CREATE OR REPLACE FUNCTION routing_takeable_tag_sets(p_team uuid, p_team_skills text[], p_profiles jsonb[])
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT array_agg(q.tag_hash) FROM routing_queue_tag_sets(p_team) q
    WHERE EXISTS (SELECT 1 FROM unnest(p_profiles) AS f(skills)
                  WHERE f.skills ?& routing_required_skills(q.tags, p_team_skills))
$$;

CREATE OR REPLACE FUNCTION routing_backfill(p_now timestamptz, p_off_shift jsonb, p_team uuid, p_limit integer)
RETURNS TABLE (ticket jsonb, old_status text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_teams uuid[];
    v_team record;
    v_agent record;
    v_ticket record;
    v_left integer := coalesce(p_limit, 0);
    v_push boolean;
    v_team_skills text[];
    v_ids uuid[];
    v_load integer[];
    v_cap integer[];
    v_last timestamptz[];
    v_skills jsonb[];
    v_profiles jsonb[];
    v_hashes text[];
    v_slots integer;
    v_best integer;
    v_pick_tickets uuid[];
    v_pick_agents uuid[];
    v_pick_old text[];
BEGIN
    IF v_left < 1 THEN
        RETURN;
    END IF;
    -- The teams with work: on shift, with a queued tag set some free member can take. Read without
    -- locks, so a sweep with nothing to assign (the steady state) locks nothing.
    SELECT coalesce(array_agg(tm.id ORDER BY tm.id), '{}') INTO v_teams
    FROM teams tm
    CROSS JOIN LATERAL (
        SELECT array_agg(DISTINCT lower(a.skills::text)::jsonb) AS profiles
        FROM team_members m JOIN agents a ON a.id = m.agent_id
        WHERE m.team_id = tm.id AND a.is_active AND a.active_count < a.capacity
          AND NOT routing_is_away(a.ooo_start, a.ooo_end, p_now)) fa
    WHERE tm.assignment_mode IN ('push', 'round_robin')
      AND (p_team IS NULL OR tm.id = p_team)
      AND NOT (tm.id::text IN (SELECT jsonb_array_elements_text(coalesce(p_off_shift, '[]'::jsonb))))
      AND fa.profiles IS NOT NULL
      AND routing_takeable_tag_sets(tm.id, routing_team_skills(tm.id), fa.profiles) IS NOT NULL;
    IF cardinality(v_teams) = 0 THEN
        RETURN;
    END IF;
    -- Every team before any agent: a push holds its team while it locks an agent, so taking an agent
    -- and then waiting for a team could deadlock with it.
    PERFORM 1 FROM teams WHERE id = ANY (v_teams) ORDER BY id FOR NO KEY UPDATE;

    FOR v_team IN SELECT id, assignment_mode FROM teams
                  WHERE id = ANY (v_teams) AND assignment_mode IN ('push', 'round_robin') ORDER BY id LOOP
        EXIT WHEN v_left < 1;
        v_push := v_team.assignment_mode = 'push';
        v_team_skills := routing_team_skills(v_team.id);

        v_ids := '{}'; v_load := '{}'; v_cap := '{}'; v_last := '{}'; v_skills := '{}'; v_slots := 0;
        FOR v_agent IN
            SELECT a.id, a.active_count, a.capacity, a.last_assigned_at, lower(a.skills::text)::jsonb AS skills
            FROM agents a
            WHERE a.id IN (SELECT m.agent_id FROM team_members m WHERE m.team_id = v_team.id)
              AND a.is_active AND a.active_count < a.capacity
              AND NOT routing_is_away(a.ooo_start, a.ooo_end, p_now)
            ORDER BY a.id
            FOR NO KEY UPDATE OF a SKIP LOCKED
        LOOP
            v_ids := v_ids || v_agent.id;
            v_load := v_load || v_agent.active_count;
            v_cap := v_cap || v_agent.capacity;
            v_last := v_last || v_agent.last_assigned_at;
            v_skills := v_skills || v_agent.skills;
            v_slots := v_slots + (v_agent.capacity - v_agent.active_count);
        END LOOP;
        CONTINUE WHEN v_slots < 1;
        SELECT array_agg(DISTINCT s) INTO v_profiles FROM unnest(v_skills) AS s;
        v_hashes := routing_takeable_tag_sets(v_team.id, v_team_skills, v_profiles);
        CONTINUE WHEN v_hashes IS NULL;

        v_pick_tickets := '{}'; v_pick_agents := '{}'; v_pick_old := '{}';
        FOR v_ticket IN
            SELECT t.id, t.status, routing_required_skills(t.tags, v_team_skills) AS required FROM tickets t
            WHERE t.id IN (
                    -- the head of each takeable tag set's queue (tickets of other sets are never read)
                    SELECT c.id FROM unnest(v_hashes) AS h(tag_hash)
                    CROSS JOIN LATERAL (
                        SELECT q.id FROM tickets q
                        WHERE q.team_id = v_team.id AND md5(q.tags::text) = h.tag_hash
                          AND q.assignee_id IS NULL AND q.status IN ('new', 'reopened', 'in_progress')
                        ORDER BY q.priority_rank, q.created_at, q.id
                        LIMIT least(v_left, v_slots)) c)
              AND t.team_id = v_team.id AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
            ORDER BY t.priority_rank, t.created_at, t.id
            LIMIT v_left
            FOR NO KEY UPDATE OF t SKIP LOCKED
        LOOP
            v_best := NULL;
            FOR i IN 1 .. cardinality(v_ids) LOOP
                CONTINUE WHEN v_load[i] >= v_cap[i] OR NOT (v_skills[i] ?& v_ticket.required);
                IF v_best IS NULL
                   OR (CASE WHEN v_push THEN v_load[i] ELSE 0 END, coalesce(v_last[i], '-infinity'), v_ids[i])
                      < (CASE WHEN v_push THEN v_load[v_best] ELSE 0 END, coalesce(v_last[v_best], '-infinity'), v_ids[v_best])
                THEN
                    v_best := i;
                END IF;
            END LOOP;
            -- Its skilled agents filled up during this call: it stays queued for the next sweep.
            CONTINUE WHEN v_best IS NULL;
            v_load[v_best] := v_load[v_best] + 1;
            v_slots := v_slots - 1;
            v_last[v_best] := p_now;
            v_pick_tickets := v_pick_tickets || v_ticket.id;
            v_pick_agents := v_pick_agents || v_ids[v_best];
            v_pick_old := v_pick_old || v_ticket.status;
            EXIT WHEN v_slots < 1;
        END LOOP;
        CONTINUE WHEN cardinality(v_pick_tickets) = 0;
        v_left := v_left - cardinality(v_pick_tickets);

        UPDATE agents SET last_assigned_at = p_now WHERE id = ANY (v_pick_agents);
        -- The tickets' load trigger raises agents.active_count, so the next team's read sees these picks.
        RETURN QUERY
        UPDATE tickets t SET
            assignee_id = p.agent_id,
            status = CASE WHEN t.status IN ('new', 'in_progress') THEN 'assigned' ELSE t.status END,
            updated_at = p_now,
            version = t.version + 1
        FROM unnest(v_pick_tickets, v_pick_agents, v_pick_old) AS p(ticket_id, agent_id, old_status)
        WHERE t.id = p.ticket_id
        RETURNING to_jsonb(t.*), p.old_status;
    END LOOP;
END $$;

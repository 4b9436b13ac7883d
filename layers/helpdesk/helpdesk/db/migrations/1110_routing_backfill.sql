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
-- Tickets nobody free can take are filtered out by the candidate query (one pass over the team's
-- queue index, no call and no loop iteration each), so a queue no free agent is skilled for costs
-- nothing but that scan; a team stops reading its queue once its free slots are taken. At most
-- p_limit tickets per call (the caller repeats while a call fills up).
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
    v_slots integer;
    v_best integer;
    v_pick_tickets uuid[];
    v_pick_agents uuid[];
    v_pick_old text[];
BEGIN
    IF v_left < 1 THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(tm.id ORDER BY tm.id), '{}') INTO v_teams
    FROM teams tm
    WHERE tm.assignment_mode IN ('push', 'round_robin')
      AND (p_team IS NULL OR tm.id = p_team)
      AND NOT (tm.id::text IN (SELECT jsonb_array_elements_text(coalesce(p_off_shift, '[]'::jsonb))))
      AND EXISTS (SELECT 1 FROM tickets t WHERE t.team_id = tm.id AND t.assignee_id IS NULL
                                            AND t.status IN ('new', 'reopened', 'in_progress'))
      AND EXISTS (SELECT 1 FROM team_members m JOIN agents a ON a.id = m.agent_id
                  WHERE m.team_id = tm.id AND a.is_active AND a.active_count < a.capacity
                    AND NOT routing_is_away(a.ooo_start, a.ooo_end, p_now));
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
        SELECT coalesce(array_agg(DISTINCT lower(s.skill)), '{}') INTO v_team_skills
        FROM team_members m JOIN agents a ON a.id = m.agent_id
        CROSS JOIN LATERAL jsonb_array_elements_text(a.skills) AS s(skill)
        WHERE m.team_id = v_team.id AND a.is_active;

        v_ids := '{}'; v_load := '{}'; v_cap := '{}'; v_last := '{}'; v_skills := '{}'; v_slots := 0;
        FOR v_agent IN
            SELECT a.id, a.active_count, a.capacity, a.last_assigned_at,
                   (SELECT coalesce(jsonb_agg(DISTINCT lower(s.skill)), '[]'::jsonb)
                    FROM jsonb_array_elements_text(a.skills) AS s(skill)) AS skills
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

        v_pick_tickets := '{}'; v_pick_agents := '{}'; v_pick_old := '{}';
        FOR v_ticket IN
            SELECT t.id, t.status, r.required FROM tickets t
            CROSS JOIN LATERAL (
                SELECT coalesce(array_agg(DISTINCT lower(x.tag)), '{}') AS required
                FROM jsonb_array_elements_text(t.tags) AS x(tag) WHERE lower(x.tag) = ANY (v_team_skills)) r
            WHERE t.team_id = v_team.id AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
              -- some free agent holds every required skill (a ticket nobody can take is stepped over here)
              AND EXISTS (SELECT 1 FROM unnest(v_skills) AS f(skills) WHERE f.skills ?& r.required)
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
            -- Rows are fetched (and locked) as the loop goes: once the slots are taken, the rest of the
            -- queue is never read.
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

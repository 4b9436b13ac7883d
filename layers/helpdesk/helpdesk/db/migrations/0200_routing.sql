-- Routing and assignment (helpdesk.routing): rules that pick a team, the default team, the
-- out-of-office handover mark, the queue index, and the agent pick that push assignment runs
-- inside the create statement. teams.assignment_mode, agents.last_assigned_at and the agents.ooo_*
-- columns already exist in 0001_core.sql.

-- Ordered rules, first match wins. `conditions` is the validated document of
-- helpdesk.routing.rules.RuleConditions ({} matches every intake: a catch-all).
CREATE TABLE IF NOT EXISTS routing_rules (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    position    integer NOT NULL CHECK (position BETWEEN 0 AND 1000000),
    is_active   boolean NOT NULL DEFAULT true,
    conditions  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(conditions) = 'object'),
    team_id     uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS routing_rules_order ON routing_rules (position, created_at, id);

-- The team that takes tickets no rule matched. At most one.
ALTER TABLE teams ADD COLUMN IF NOT EXISTS is_default boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX IF NOT EXISTS teams_one_default ON teams (is_default) WHERE is_default;

-- Set when the handover at the start of an absence ran (its notification is sent once).
ALTER TABLE agents ADD COLUMN IF NOT EXISTS ooo_handed_over_at timestamptz;
CREATE INDEX IF NOT EXISTS agents_ooo_start ON agents (ooo_start) WHERE ooo_start IS NOT NULL;

-- The routing queue: a team's unassigned open tickets, priority then age. Besides new and reopened
-- it holds in_progress tickets that lost their agent (an absence, an unavailable owner on reopen).
CREATE INDEX IF NOT EXISTS tickets_routing_queue ON tickets (team_id, priority_rank, created_at, id)
    WHERE assignee_id IS NULL AND status IN ('new', 'reopened', 'in_progress');

-- Whether an agent is away at an instant.
CREATE OR REPLACE FUNCTION routing_is_away(p_start timestamptz, p_end timestamptz, p_now timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_start IS NOT NULL AND p_start <= p_now AND (p_end IS NULL OR p_now < p_end)
$$;

-- Picks the agent for a push into a team, or NULL (the ticket waits in the queue).
--
-- Candidates: members of the team, active, not away, holding every skill the ticket's tags ask for
-- (a tag is a skill requirement when some active member of the team lists it as a skill), under
-- capacity (agents.active_count counts only active statuses; a trigger keeps it). push: least
-- loaded, ties by longest since the last assignment; round_robin: longest since the last assignment
-- among those under capacity; pull: never. p_on_shift is the team schedule's answer for p_now
-- (computed by the application, which owns the business-hours calendar); not TRUE means no push.
--
-- Concurrency: the team row is locked first (FOR NO KEY UPDATE: ticket inserts' foreign-key checks
-- take KEY SHARE and do not wait), so pushes into one team run one at a time until the caller's
-- statement commits. This is a VOLATILE plpgsql function, so each query below takes a fresh
-- snapshot in READ COMMITTED and sees the loads the previous lock holder committed (a plain CTE
-- would still read its statement-start snapshot). An agent in several teams is also locked and
-- re-checked, so pushes into two of their teams cannot both take the last slot. The pick stamps
-- last_assigned_at; the caller's ticket write raises active_count through the trigger.
CREATE OR REPLACE FUNCTION routing_pick_agent(p_team uuid, p_tags jsonb, p_now timestamptz, p_on_shift boolean)
RETURNS uuid LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_mode text;
    v_required jsonb;
    v_candidate uuid;
    v_tried jsonb := '[]'::jsonb;
    v_ok boolean;
BEGIN
    IF p_team IS NULL OR p_on_shift IS NOT TRUE THEN
        RETURN NULL;
    END IF;
    SELECT assignment_mode INTO v_mode FROM teams WHERE id = p_team;
    IF v_mode IS NULL OR v_mode NOT IN ('push', 'round_robin') THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM teams WHERE id = p_team FOR NO KEY UPDATE;

    SELECT coalesce(jsonb_agg(DISTINCT tag.value), '[]'::jsonb) INTO v_required
    FROM jsonb_array_elements_text(coalesce(p_tags, '[]'::jsonb)) AS tag(value)
    WHERE EXISTS (SELECT 1 FROM team_members m JOIN agents a ON a.id = m.agent_id
                  CROSS JOIN LATERAL jsonb_array_elements_text(a.skills) AS s(skill)
                  WHERE m.team_id = p_team AND a.is_active AND lower(s.skill) = lower(tag.value));

    FOR attempt IN 1..5 LOOP
        SELECT a.id INTO v_candidate
        FROM team_members m JOIN agents a ON a.id = m.agent_id
        WHERE m.team_id = p_team AND a.is_active AND a.active_count < a.capacity
          AND NOT routing_is_away(a.ooo_start, a.ooo_end, p_now)
          AND NOT (v_tried ? a.id::text)
          AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(v_required) AS r(skill)
                          WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(a.skills) AS s(skill)
                                            WHERE lower(s.skill) = lower(r.skill)))
        ORDER BY CASE WHEN v_mode = 'push' THEN a.active_count ELSE 0 END,
                 a.last_assigned_at ASC NULLS FIRST, a.id
        LIMIT 1;
        IF v_candidate IS NULL THEN
            RETURN NULL;
        END IF;
        -- Waits for any other writer of this agent (a push into another of their teams, a claim),
        -- then re-reads the latest committed row.
        SELECT a.is_active AND a.active_count < a.capacity INTO v_ok
        FROM agents a WHERE a.id = v_candidate FOR NO KEY UPDATE;
        IF v_ok THEN
            UPDATE agents SET last_assigned_at = p_now WHERE id = v_candidate;
            RETURN v_candidate;
        END IF;
        v_tried := v_tried || to_jsonb(v_candidate::text);
        v_candidate := NULL;
    END LOOP;
    RETURN NULL;
END $$;

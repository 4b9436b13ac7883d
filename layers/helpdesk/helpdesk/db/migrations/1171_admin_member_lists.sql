-- The member lists the admin reads return with a team or an agent, written once for every statement
-- that shows one (helpdesk/db/admin.py). STABLE SQL functions of one SELECT: the planner inlines them.
CREATE FUNCTION team_member_ids(for_team uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(tm.agent_id ORDER BY tm.agent_id), '[]'::jsonb) FROM team_members tm WHERE tm.team_id = for_team
$$;

CREATE FUNCTION agent_team_ids(for_agent uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(tm.team_id ORDER BY tm.team_id), '[]'::jsonb) FROM team_members tm WHERE tm.agent_id = for_agent
$$;

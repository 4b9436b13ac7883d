-- The one home of the SLA policy match: the policy a ticket gets is its customer's contract policy
-- (when active), otherwise the first active policy, by position then name, whose conditions all
-- hold (a NULL condition matches anything). Used by the create and priority-change statements and by
-- the admin "which policy would apply" read (helpdesk.db.tickets, helpdesk.db.sla). The create-time
-- prediction (helpdesk.sla.cache.SlaConfig.match) mirrors it and is checked against it by
-- tests/integration/sla/test_policy_match_rule.py. A SQL function in FROM is inlined by the planner,
-- so the statements' plans are those of the query written out.
CREATE FUNCTION sla_policy_match(match_contract_id uuid, match_tier text, match_priority text,
                                 match_team_id uuid, match_channel text)
RETURNS SETOF sla_policies LANGUAGE sql STABLE AS $$
    SELECT p.* FROM sla_policies p
    WHERE p.is_active AND (p.id = match_contract_id OR (
          (p.priority IS NULL OR p.priority = match_priority) AND (p.tier IS NULL OR p.tier = match_tier)
      AND (p.team_id IS NULL OR p.team_id = match_team_id) AND (p.channel IS NULL OR p.channel = match_channel)))
    ORDER BY (p.id = match_contract_id) IS TRUE DESC, p.position, p.name
    LIMIT 1
$$;

"""SQL of the admin resources: teams, agents (with team memberships), customer lookup (customers' terms and
organizations: helpdesk/db/organizations.py). A team is shown with its members' ids and an agent with
its teams' ids (team_member_ids, agent_team_ids: migration 1171).

Updates are PATCH-style: `:set_<field>` says whether the caller sent the field, so an explicit null
clears it and a missing field keeps it. Each command is one statement."""

# One team is the default (tickets no routing rule matched go there): making a team the default
# takes the flag from the previous one in the same statement.
CREATE_TEAM = """
WITH previous_default AS (
    UPDATE teams SET is_default = false, updated_at = :now::timestamptz WHERE :is_default AND is_default RETURNING id
),
t AS (
    INSERT INTO teams (name, email_address, schedule_id, assignment_mode, escalation_team_id, is_default, created_at, updated_at)
    SELECT :name, :email_address::text, :schedule_id::uuid, :assignment_mode, :escalation_team_id::uuid, :is_default,
           :now::timestamptz, :now::timestamptz
    FROM (SELECT count(*) FROM previous_default) settled
    RETURNING *
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, t.id::text) AS id FROM t)
SELECT to_jsonb(t) || jsonb_build_object('member_ids', '[]'::jsonb) AS doc, (SELECT count(*) FROM audited) AS audited
FROM t
"""

LIST_TEAMS = "SELECT to_jsonb(t) || jsonb_build_object('member_ids', team_member_ids(t.id)) AS doc FROM teams t ORDER BY t.name LIMIT 1000"
GET_TEAM = "SELECT to_jsonb(t) || jsonb_build_object('member_ids', team_member_ids(t.id)) AS doc FROM teams t WHERE t.id = :id::uuid"

UPDATE_TEAM = """
WITH previous_default AS (
    UPDATE teams SET is_default = false, updated_at = :now::timestamptz
    WHERE :set_is_default AND :is_default::boolean AND is_default AND id <> :id::uuid RETURNING id
),
t AS (
    UPDATE teams SET
        name = CASE WHEN :set_name THEN :name::text ELSE name END,
        email_address = CASE WHEN :set_email_address THEN :email_address::text ELSE email_address END,
        schedule_id = CASE WHEN :set_schedule_id THEN :schedule_id::uuid ELSE schedule_id END,
        assignment_mode = CASE WHEN :set_assignment_mode THEN :assignment_mode::text ELSE assignment_mode END,
        escalation_team_id = CASE WHEN :set_escalation_team_id THEN :escalation_team_id::uuid ELSE escalation_team_id END,
        is_default = CASE WHEN :set_is_default THEN :is_default::boolean ELSE is_default END,
        updated_at = :now::timestamptz
    WHERE id = :id::uuid AND (SELECT count(*) FROM previous_default) >= 0 RETURNING *
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, t.id::text) AS id FROM t)
SELECT to_jsonb(t) || jsonb_build_object('member_ids', team_member_ids(t.id)) AS doc,
       (SELECT count(*) FROM audited) AS audited
FROM t
"""

CREATE_AGENT = """
WITH a AS (
    INSERT INTO agents (email, name, role, skills, capacity, slack_user_id, is_active, created_at, updated_at)
    VALUES (:email, :name, :role, :skills::jsonb, :capacity, :slack_user_id::text, true, :now::timestamptz, :now::timestamptz)
    RETURNING *
),
members AS (
    INSERT INTO team_members (team_id, agent_id)
    SELECT DISTINCT tid::uuid, a.id FROM a, jsonb_array_elements_text(:team_ids::jsonb) AS tid
    RETURNING team_id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, a.id::text) AS id FROM a)
SELECT (to_jsonb(a) - 'preferences') || jsonb_build_object(
    'team_ids', (SELECT coalesce(jsonb_agg(m.team_id ORDER BY m.team_id), '[]'::jsonb) FROM members m)) AS doc,
    (SELECT count(*) FROM audited) AS audited
FROM a
"""

LIST_AGENTS = """
SELECT (to_jsonb(a) - 'preferences') || jsonb_build_object('team_ids', agent_team_ids(a.id)) AS doc FROM agents a
WHERE (:team_id::uuid IS NULL OR a.id IN (SELECT agent_id FROM team_members WHERE team_id = :team_id::uuid))
  AND (:include_inactive OR a.is_active)
ORDER BY a.name, a.id LIMIT 2000
"""
GET_AGENT = "SELECT (to_jsonb(a) - 'preferences') || jsonb_build_object('team_ids', agent_team_ids(a.id)) AS doc FROM agents a WHERE a.id = :id::uuid"

UPDATE_AGENT = """
WITH a AS (
    UPDATE agents SET
        name = CASE WHEN :set_name THEN :name::text ELSE name END,
        role = CASE WHEN :set_role THEN :role::text ELSE role END,
        skills = CASE WHEN :set_skills THEN :skills::jsonb ELSE skills END,
        capacity = CASE WHEN :set_capacity THEN :capacity::int ELSE capacity END,
        is_active = CASE WHEN :set_is_active THEN :is_active::boolean ELSE is_active END,
        slack_user_id = CASE WHEN :set_slack_user_id THEN :slack_user_id::text ELSE slack_user_id END,
        updated_at = :now::timestamptz
    WHERE id = :id::uuid RETURNING *
),
removed AS (
    DELETE FROM team_members tm USING a
    WHERE :set_team_ids AND tm.agent_id = a.id
      AND tm.team_id NOT IN (SELECT tid::uuid FROM jsonb_array_elements_text(:team_ids::jsonb) AS tid)
    RETURNING tm.team_id
),
added AS (
    INSERT INTO team_members (team_id, agent_id)
    SELECT DISTINCT tid::uuid, a.id FROM a, jsonb_array_elements_text(:team_ids::jsonb) AS tid WHERE :set_team_ids
    ON CONFLICT DO NOTHING
    RETURNING team_id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, a.id::text) AS id FROM a)
SELECT (to_jsonb(a) - 'preferences') || jsonb_build_object('team_ids', CASE WHEN :set_team_ids
        THEN (SELECT coalesce(jsonb_agg(DISTINCT tid::uuid), '[]'::jsonb) FROM jsonb_array_elements_text(:team_ids::jsonb) AS tid)
        ELSE (SELECT coalesce(jsonb_agg(tm.team_id ORDER BY tm.team_id), '[]'::jsonb) FROM team_members tm WHERE tm.agent_id = a.id) END) AS doc,
    (SELECT count(*) FROM audited) AS audited
FROM a
"""

FIND_CUSTOMERS = """
SELECT to_jsonb(c) AS doc FROM customers c
WHERE (:email::text IS NULL OR c.email = :email::text)
  AND (:prefix::text IS NULL OR c.email LIKE :prefix::text || '%')
ORDER BY c.email NULLS LAST, c.id LIMIT :limit
"""

# The signed-in user's agent record (helpdesk.auth.PrincipalResolver): the agent bound to the token's sub
# (a read: the path of every request that misses the cache) ...
AGENT_BY_SUB = "SELECT id, name, role, is_active FROM agents WHERE identity_sub = :sub"
# ... and on the first sign-in with a verified email, the unbound agent of that address, bound to it now.
BIND_AGENT_IDENTITY = """
UPDATE agents SET identity_sub = :sub, updated_at = now() WHERE email = :email AND identity_sub IS NULL
RETURNING id, name, role, is_active
"""

# Who may write through a ticket's portal link: its requester (the portal reply's author).
TICKET_REQUESTER = """
SELECT c.email, c.id AS customer_id FROM tickets t JOIN customers c ON c.id = t.requester_id WHERE t.id = :id::uuid
"""

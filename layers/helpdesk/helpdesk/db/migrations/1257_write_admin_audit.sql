-- An admin change and its admin_audit row in one statement: an admin write statement calls this from
-- a CTE its final SELECT reads in full (docs/architecture.md, "Database rules"), with the change's
-- entry (helpdesk.admin.audit.entry: who made it, the action, the resource, what they sent), the id
-- of the row it wrote and, optionally, what the statement found out (p_outcome, added to the data: the
-- members a deleted organization released), so a change is never left unrecorded and costs no call of
-- its own. helpdesk.db.admin_audit.RECORD_CHANGE (changes still recorded by a call after them) uses it too.
-- PL/pgSQL, as the ticket statements' steps (1170): its INSERT is planned once per session, not per call.
CREATE FUNCTION write_admin_audit(p_entry jsonb, p_at timestamptz, p_resource_id text, p_outcome jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    INSERT INTO admin_audit (occurred_at, actor_id, actor_email, actor_role, action, resource, resource_id, data)
    VALUES (p_at, (p_entry ->> 'actor_id')::uuid, p_entry ->> 'actor_email', p_entry ->> 'actor_role',
            p_entry ->> 'action', p_entry ->> 'resource', p_resource_id,
            coalesce(p_entry -> 'data', '{}'::jsonb) || coalesce(p_outcome, '{}'::jsonb))
    RETURNING id INTO written;
    RETURN written;
END
$$;

-- The steps every ticket command shares, each written once as a function the statements call
-- (before, they were SQL fragments spliced into each statement's text). A statement stays one
-- Data API call: the functions run inside it, in its transaction. See docs/architecture.md,
-- "The data layer".
--
-- A function here that writes rows is VOLATILE and is called from a CTE the statement's final
-- SELECT reads in full (a SELECT CTE runs only when read, unlike an INSERT/UPDATE CTE); each
-- statement's comment says so where it matters. The writing functions are PL/pgSQL because it keeps
-- their plans for the session (a SQL-language function is planned again at every statement, which
-- made a command about a third slower).

-- A ticket's SLA clock as the commands return it when its deadline must be computed by the
-- application in business time (`pending_sla`: recompute_from is set).
CREATE TYPE sla_clock_change AS (
    ticket_id      uuid,
    kind           text,
    target_seconds integer,
    business       boolean,
    schedule       jsonb,
    recompute_from timestamptz,
    paused_at      timestamptz,
    due_at         timestamptz,
    state          text,
    adjust_seconds integer
);

-- Writes a command's events to the audit trail (hot tier) and the outbox (published after commit).
-- `events` is a JSON array of {id, ticket_id, event_type, actor_type, actor_id, from_status,
-- to_status, payload}; returns the outbox rows written, in seq order, as the publisher takes them.
CREATE FUNCTION write_ticket_events(events jsonb, written_at timestamptz)
RETURNS SETOF jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
    WITH e AS (
        SELECT * FROM jsonb_to_recordset(coalesce(events, '[]'::jsonb))
            AS e(id uuid, ticket_id uuid, event_type text, actor_type text, actor_id uuid, from_status text,
                 to_status text, payload jsonb)
    ),
    audit_rows AS (
        INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, actor_id, from_status, to_status, data,
                                  occurred_at)
        SELECT e.id, e.ticket_id, e.event_type, e.actor_type, e.actor_id, e.from_status, e.to_status, e.payload,
               written_at
        FROM e
    ),
    outbox_rows AS (
        INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
        SELECT e.id, e.event_type, e.ticket_id, e.payload, written_at FROM e
        RETURNING id, event_type, schema_version, ticket_id, payload, occurred_at, seq
    )
    SELECT to_jsonb(o) FROM outbox_rows o ORDER BY o.seq;
END
$$;

-- What a status change does to one ticket's SLA clocks (the design's "SLA effects per transition"):
-- pause while waiting on the customer, resume after, meet the first response and the resolution,
-- cancel on spam/duplicate/merge and on resolve for the other clocks, restart the resolution clock
-- on a reopen (on the policy's reopen target when it has one), start again when "not spam".
-- One UPDATE: PostgreSQL applies one modification per row per statement, so a caller that touches
-- other clocks of the ticket leaves alone the kinds returned here. Returns every clock it changed.
CREATE FUNCTION apply_sla_transition(for_ticket uuid, old_status text, new_status text,
                                     is_first_response boolean, changed_at timestamptz)
RETURNS SETOF sla_clock_change LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
    WITH sla_plan AS (
        SELECT s.ticket_id, s.kind, s.policy_id,
            CASE
                WHEN new_status IN ('spam', 'duplicate', 'merged') AND s.state IN ('running', 'paused') THEN 'cancel'
                WHEN s.kind = 'first_response' AND is_first_response AND s.state IN ('running', 'paused') THEN 'meet'
                WHEN old_status = new_status THEN NULL
                WHEN new_status = 'waiting_on_customer' AND s.state = 'running' THEN 'pause'
                WHEN new_status = 'resolved' AND s.kind = 'resolution' AND s.state IN ('running', 'paused') THEN 'meet'
                WHEN new_status = 'resolved' AND s.state IN ('running', 'paused') THEN 'cancel'
                WHEN old_status = 'closed' AND s.kind = 'resolution' THEN 'restart'
                -- marked "not spam": the clocks the spam mark cancelled start again, with their own targets
                WHEN old_status = 'spam' AND s.state = 'cancelled' THEN 'unspam'
                -- reopened from resolved by a reply (not resolved -> closed, which leaves the met clock alone)
                WHEN old_status = 'resolved' AND new_status = 'in_progress' AND s.kind = 'resolution'
                     AND s.state = 'met' THEN 'resume_from_met'
                WHEN old_status = 'waiting_on_customer' AND s.state = 'paused' THEN 'resume'
            END AS action
        FROM sla_targets s WHERE s.ticket_id = for_ticket
    )
    UPDATE sla_targets s SET
        state = CASE a.action WHEN 'cancel' THEN 'cancelled' WHEN 'meet' THEN 'met' WHEN 'pause' THEN 'paused'
                              ELSE 'running' END,
        met_at = CASE a.action WHEN 'meet' THEN changed_at WHEN 'cancel' THEN s.met_at ELSE NULL END,
        paused_at = CASE a.action WHEN 'pause' THEN changed_at WHEN 'resume_from_met' THEN s.met_at
                                  WHEN 'restart' THEN NULL WHEN 'unspam' THEN NULL ELSE s.paused_at END,
        pause_reason = CASE a.action WHEN 'pause' THEN 'waiting_on_customer' WHEN 'restart' THEN NULL
                                     ELSE s.pause_reason END,
        recompute_from = CASE WHEN a.action IN ('resume', 'resume_from_met', 'restart', 'unspam') THEN changed_at END,
        started_at = CASE WHEN a.action IN ('restart', 'unspam') THEN changed_at ELSE s.started_at END,
        due_at = CASE WHEN a.action IN ('restart', 'unspam') THEN NULL ELSE s.due_at END,
        warn_at = CASE WHEN a.action IN ('restart', 'unspam') THEN NULL ELSE s.warn_at END,
        warned_at = CASE WHEN a.action IN ('restart', 'unspam') THEN NULL ELSE s.warned_at END,
        breached_at = CASE WHEN a.action IN ('restart', 'unspam') THEN NULL ELSE s.breached_at END,
        -- a reopened ticket's resolution clock runs on the policy's reopen target when it has one
        target_seconds = CASE a.action WHEN 'restart'
                             THEN coalesce((p.targets -> 'reopen' ->> 'seconds')::int, s.target_seconds)
                             ELSE s.target_seconds END,
        business = CASE a.action WHEN 'restart'
                       THEN coalesce((p.targets -> 'reopen' ->> 'business')::boolean, s.business) ELSE s.business END,
        adjust_seconds = CASE WHEN a.action IN ('restart', 'unspam') THEN 0 ELSE s.adjust_seconds END,
        updated_at = changed_at
    FROM sla_plan a LEFT JOIN sla_policies p ON p.id = a.policy_id
    WHERE s.ticket_id = a.ticket_id AND s.kind = a.kind AND a.action IS NOT NULL
    RETURNING s.ticket_id, s.kind, s.target_seconds, s.business, s.schedule, s.recompute_from, s.paused_at, s.due_at,
              s.state, s.adjust_seconds;
END
$$;

-- The trail every assignment leaves, whoever made it (an agent, push, pull, back-fill): the history
-- row, the SLA effects of its status change, and the ticket.assigned (+ status_changed) events.
-- `changes` is a JSON array of the updated tickets' rows with old_status, old_assignee and reason
-- added. Returns ('event', outbox row) and ('pending_sla', clock) rows.
CREATE FUNCTION record_assignments(changes jsonb, assigning_agent uuid, by_actor_type text, by_actor_id uuid,
                                   changed_at timestamptz)
RETURNS TABLE (kind text, doc jsonb) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH c AS (
        SELECT * FROM jsonb_to_recordset(coalesce(changes, '[]'::jsonb))
            AS c(id uuid, number bigint, team_id uuid, assignee_id uuid, status text, old_status text,
                 old_assignee uuid, reason text)
    ),
    history AS (
        INSERT INTO assignments (ticket_id, agent_id, team_id, assigned_by, reason, created_at)
        SELECT c.id, c.assignee_id, c.team_id, (SELECT a.id FROM agents a WHERE a.id = assigning_agent), c.reason,
               changed_at
        FROM c
    ),
    clocks AS (
        SELECT s.* FROM c CROSS JOIN LATERAL apply_sla_transition(c.id, c.old_status, c.status, false, changed_at) s
    ),
    events AS (
        SELECT 1 AS ord, jsonb_build_object(
            'id', gen_random_uuid(), 'ticket_id', c.id, 'event_type', 'ticket.assigned',
            'actor_type', by_actor_type, 'actor_id', by_actor_id, 'from_status', NULL, 'to_status', NULL,
            'payload', jsonb_build_object('agent_id', c.assignee_id, 'team_id', c.team_id,
                                          'previous_agent_id', c.old_assignee, 'reason', c.reason,
                                          'number', c.number)) AS event
        FROM c
        UNION ALL
        SELECT 2, jsonb_build_object(
            'id', gen_random_uuid(), 'ticket_id', c.id, 'event_type', 'ticket.status_changed',
            'actor_type', by_actor_type, 'actor_id', by_actor_id, 'from_status', c.old_status, 'to_status', c.status,
            'payload', jsonb_build_object('from', c.old_status, 'to', c.status, 'reason', c.reason,
                                          'number', c.number))
        FROM c WHERE c.old_status <> c.status
    ),
    written AS (
        SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(e.event ORDER BY e.ord) FROM events e), changed_at)
            AS w(event)
    )
    SELECT 'pending_sla'::text, to_jsonb(s) FROM clocks s WHERE s.recompute_from IS NOT NULL
    UNION ALL
    SELECT 'event'::text, w.event FROM written w;
END
$$;

-- A message as the ticket page lists it: its fields and its body cut to `preview_chars` characters
-- (a page of messages must stay under the Data API's 1 MiB response and 64 KB row limits).
CREATE FUNCTION message_preview(m ticket_messages, preview_chars integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'position', m.position, 'ticket_id', m.ticket_id, 'author_type', m.author_type,
        'author_customer_id', m.author_customer_id, 'author_agent_id', m.author_agent_id, 'visibility', m.visibility,
        'channel', m.channel, 'body', left(m.body, preview_chars), 'body_truncated', length(m.body) > preview_chars,
        'attachments', m.attachments, 'inbound_message_id', m.inbound_message_id, 'created_at', m.created_at,
        'conversation_customer_id', m.conversation_customer_id)
$$;

-- What helpdesk.sla.cache predicts a new ticket's policy and deadlines from: the active policies in
-- the order sla_policy_match tries them (`ord`: position, name, sorted by PostgreSQL so collation
-- ties match), the schedule documents policies and teams use, and each team's schedule. One row each.
CREATE VIEW sla_config_rows AS
SELECT 'sla_policy'::text AS kind, jsonb_build_object('ord', row_number() OVER (ORDER BY p.position, p.name),
       'id', p.id, 'priority', p.priority, 'tier', p.tier, 'team_id', p.team_id, 'channel', p.channel,
       'targets', p.targets, 'schedule_id', p.schedule_id) AS doc
FROM sla_policies p WHERE p.is_active
UNION ALL
SELECT 'sla_schedule', jsonb_build_object('id', s.id, 'document', s.document, 'md5', md5(s.document::text))
FROM schedules s
WHERE s.id IN (SELECT schedule_id FROM sla_policies WHERE is_active
               UNION SELECT schedule_id FROM teams WHERE EXISTS (SELECT 1 FROM sla_policies WHERE is_active))
UNION ALL
SELECT 'sla_team', jsonb_build_object('id', tm.id, 'schedule_id', tm.schedule_id) FROM teams tm
WHERE tm.schedule_id IS NOT NULL AND EXISTS (SELECT 1 FROM sla_policies WHERE is_active);

"""SQL for the ticket commands. Each command is ONE statement: its CTEs write the ticket, the
message, the SLA rows, the audit trail and the outbox together, or nothing at all.

Every statement ends in the same shape: the ticket as JSON, the outbox rows it wrote (so
the caller can publish them without reading again) and the SLA clocks whose deadline the
application must compute in business time (`pending_sla`).
"""
from __future__ import annotations

from typing import Any

from helpdesk.db.client import DataApi, Row

# Reads the CTE `events(id, ticket_id, event_type, actor_type, actor_id, from_status, to_status, payload)`
# and writes each event to the audit trail (hot tier) and the outbox (published after commit).
_EVENT_WRITES = """
audit_rows AS (
    INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, actor_id, from_status, to_status, data, occurred_at)
    SELECT id, ticket_id, event_type, actor_type, actor_id, from_status, to_status, payload, :now::timestamptz FROM events
),
outbox_rows AS (
    INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
    SELECT id, event_type, ticket_id, payload, :now::timestamptz FROM events
    RETURNING id, event_type, schema_version, ticket_id, payload, occurred_at, seq
)"""

_OUTBOX_JSON = "(SELECT coalesce(jsonb_agg(to_jsonb(o) ORDER BY o.seq), '[]'::jsonb) FROM outbox_rows o)"
_PENDING_JSON = "(SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM {cte} p WHERE p.recompute_from IS NOT NULL)"

# One UPDATE of a ticket's SLA clocks for a change described by the CTE
# `change(ticket_id, old_status, new_status, first_response)`. A single UPDATE because
# PostgreSQL applies only one modification per row per statement.
_SLA_EFFECTS = """
sla_plan AS (
    SELECT s.ticket_id, s.kind, s.policy_id,
        CASE
            WHEN c.new_status IN ('spam', 'duplicate', 'merged') AND s.state IN ('running', 'paused') THEN 'cancel'
            WHEN s.kind = 'first_response' AND c.first_response AND s.state IN ('running', 'paused') THEN 'meet'
            WHEN c.old_status = c.new_status THEN NULL
            WHEN c.new_status = 'waiting_on_customer' AND s.state = 'running' THEN 'pause'
            WHEN c.new_status = 'resolved' AND s.kind = 'resolution' AND s.state IN ('running', 'paused') THEN 'meet'
            WHEN c.new_status = 'resolved' AND s.state IN ('running', 'paused') THEN 'cancel'
            WHEN c.old_status = 'closed' AND s.kind = 'resolution' THEN 'restart'
            -- marked "not spam": the clocks the spam mark cancelled start again, with their own targets
            WHEN c.old_status = 'spam' AND s.state = 'cancelled' THEN 'unspam'
            -- reopened from resolved by a reply (not resolved -> closed, which leaves the met clock alone)
            WHEN c.old_status = 'resolved' AND c.new_status = 'in_progress' AND s.kind = 'resolution' AND s.state = 'met'
                THEN 'resume_from_met'
            WHEN c.old_status = 'waiting_on_customer' AND s.state = 'paused' THEN 'resume'
        END AS action
    FROM change c JOIN sla_targets s ON s.ticket_id = c.ticket_id
),
sla_changed AS (
    UPDATE sla_targets s SET
        state = CASE a.action WHEN 'cancel' THEN 'cancelled' WHEN 'meet' THEN 'met' WHEN 'pause' THEN 'paused' ELSE 'running' END,
        met_at = CASE a.action WHEN 'meet' THEN :now::timestamptz WHEN 'cancel' THEN s.met_at ELSE NULL END,
        paused_at = CASE a.action WHEN 'pause' THEN :now::timestamptz WHEN 'resume_from_met' THEN s.met_at
                                  WHEN 'restart' THEN NULL WHEN 'unspam' THEN NULL ELSE s.paused_at END,
        pause_reason = CASE a.action WHEN 'pause' THEN 'waiting_on_customer' WHEN 'restart' THEN NULL ELSE s.pause_reason END,
        recompute_from = CASE WHEN a.action IN ('resume', 'resume_from_met', 'restart', 'unspam') THEN :now::timestamptz
                              ELSE NULL END,
        started_at = CASE WHEN a.action IN ('restart', 'unspam') THEN :now::timestamptz ELSE s.started_at END,
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
        updated_at = :now::timestamptz
    FROM sla_plan a LEFT JOIN sla_policies p ON p.id = a.policy_id
    WHERE s.ticket_id = a.ticket_id AND s.kind = a.kind AND a.action IS NOT NULL
    RETURNING s.ticket_id, s.kind, s.target_seconds, s.business, s.schedule, s.recompute_from, s.paused_at, s.due_at, s.state,
              s.adjust_seconds
)"""

# What helpdesk.sla.cache predicts a new ticket's policy and deadlines from: the active policies in the
# order CREATE_TICKET tries them (`ord`: position, name, sorted by PostgreSQL so collation ties match),
# the schedule documents policies and teams use, and each team's schedule. One row each (row limit).
SLA_CONFIG_ROWS = """
SELECT 'sla_policy' AS kind, jsonb_build_object('ord', row_number() OVER (ORDER BY p.position, p.name), 'id', p.id,
       'priority', p.priority, 'tier', p.tier, 'team_id', p.team_id, 'channel', p.channel, 'targets', p.targets,
       'schedule_id', p.schedule_id) AS doc
FROM sla_policies p WHERE p.is_active
UNION ALL
SELECT 'sla_schedule', jsonb_build_object('id', s.id, 'document', s.document, 'md5', md5(s.document::text)) FROM schedules s
WHERE s.id IN (SELECT schedule_id FROM sla_policies WHERE is_active
               UNION SELECT schedule_id FROM teams WHERE EXISTS (SELECT 1 FROM sla_policies WHERE is_active))
UNION ALL
SELECT 'sla_team', jsonb_build_object('id', tm.id, 'schedule_id', tm.schedule_id) FROM teams tm
WHERE tm.schedule_id IS NOT NULL AND EXISTS (SELECT 1 FROM sla_policies WHERE is_active)
"""

_TICKET_RESULT = "to_jsonb({t}) - 'priority_rank'"

CREATE_TICKET = f"""
WITH push AS (
    -- Routing (helpdesk.routing.intake passes :route: per tier, team_id and on_shift): the team for the
    -- requester's tier and, when that team pushes, its agent, picked by routing_pick_agent (migration
    -- 0200) under the team-row lock. Evaluated first (`customer` reads it) so the team lock comes
    -- before any other row lock. Without :route: the given :team_id and no push.
    SELECT r.team_id, routing_pick_agent(r.team_id, :tags::jsonb, :now::timestamptz, r.on_shift) AS agent_id
    FROM (SELECT coalesce(:route::jsonb -> coalesce((SELECT tier FROM customers WHERE email = :requester_email), 'standard'),
                          jsonb_build_object('team_id', :team_id::uuid)) AS choice) ch
    CROSS JOIN LATERAL jsonb_to_record(ch.choice) AS r(team_id uuid, on_shift boolean)
),
customer AS (
    INSERT INTO customers (email, name, created_at, updated_at)
    SELECT :requester_email, :requester_name, :now::timestamptz, :now::timestamptz FROM push
    ON CONFLICT (email) DO UPDATE SET name = coalesce(customers.name, EXCLUDED.name)
    RETURNING id, email, tier, sla_policy_id
),
idempotency AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, ticket_id, created_at)
    SELECT :idem_scope, :idem_key, :idem_hash, :ticket_id::uuid, :now::timestamptz
    WHERE :idem_key::text IS NOT NULL
),
ticket AS (
    INSERT INTO tickets (id, subject, priority, channel, requester_id, team_id, tags, parent_ticket_id,
                         possible_followup_of, channel_thread_id, created_at, updated_at, last_customer_message_at, message_count,
                         assignee_id, status)
    SELECT :ticket_id::uuid, :subject, :priority, :channel, c.id, p.team_id, :tags::jsonb, :parent_ticket_id::uuid,
           :possible_followup_of::uuid, :channel_thread_id, :now::timestamptz, :now::timestamptz, :now::timestamptz, 1,
           p.agent_id, CASE WHEN p.agent_id IS NULL THEN 'new' ELSE 'assigned' END
    FROM customer c, push p
    RETURNING *
),
message AS (
    INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, visibility, channel, body, body_full,
                                 body_html, inbound_message_id, attachments, metadata, created_at)
    SELECT t.id, 'customer', t.requester_id, 'public', :channel, :body, :body_full, :body_html, :inbound_message_id,
           :attachments::jsonb, :metadata::jsonb, :now::timestamptz
    FROM ticket t
    RETURNING id, position
),
thread_ids AS (
    INSERT INTO email_message_ids (message_id, ticket_id, ticket_message_id, kind, created_at)
    SELECT :inbound_message_id, t.id, m.id, 'inbound', :now::timestamptz FROM ticket t, message m
    WHERE :channel = 'email' AND :inbound_message_id::text IS NOT NULL
),
participants AS (
    INSERT INTO ticket_participants (ticket_id, email)
    SELECT t.id, p.email FROM ticket t,
        (SELECT jsonb_array_elements_text(:participants::jsonb) AS email UNION SELECT :requester_email) p
    ON CONFLICT DO NOTHING
),
routed AS (
    -- routed to the team, then pushed to the agent (one INSERT keeps the history in that order)
    INSERT INTO assignments (ticket_id, agent_id, team_id, reason, created_at)
    SELECT t.id, NULL::uuid, t.team_id, 'routed', :now::timestamptz FROM ticket t WHERE t.team_id IS NOT NULL
    UNION ALL
    SELECT t.id, t.assignee_id, t.team_id, (CASE (SELECT tm.assignment_mode FROM teams tm WHERE tm.id = t.team_id) WHEN 'round_robin' THEN 'round_robin' ELSE 'pushed' END), :now::timestamptz
    FROM ticket t WHERE t.assignee_id IS NOT NULL
),
policy AS (
    -- :sla_plan (helpdesk.sla.cache) holds, per tier, the policy predicted from a cached copy and its
    -- deadlines computed at :now. They are used only when this choice has exactly the inputs the
    -- prediction used (policy id, targets, schedule document): the deadlines are a function of those
    -- and :now alone. Otherwise the clocks take the pending path (recompute_from) and the follow-up fills them.
    SELECT p.id, p.targets, coalesce(ps.document, ts.document) AS schedule,
           coalesce((pr.pred ->> 'policy_id') = p.id::text AND pr.pred -> 'targets' = p.targets
                    AND pr.pred -> 'schedule' = coalesce(ps.document, ts.document, 'null'::jsonb), false) AS predicted,
           pr.pred -> 'deadlines' AS deadlines, (p.id = c.sla_policy_id) IS TRUE AS contract
    FROM customer c
    CROSS JOIN LATERAL sla_policy_match(c.sla_policy_id, c.tier, :priority, (SELECT team_id FROM push), :channel) p
    CROSS JOIN LATERAL (SELECT :sla_plan::jsonb -> c.tier AS pred) pr
    LEFT JOIN schedules ps ON ps.id = p.schedule_id
    LEFT JOIN teams tm ON tm.id = (SELECT team_id FROM push)
    LEFT JOIN schedules ts ON ts.id = tm.schedule_id
),
sla AS (
    INSERT INTO sla_targets (ticket_id, kind, policy_id, target_seconds, business, schedule, state, started_at,
                             recompute_from, due_at, warn_at, updated_at)
    SELECT t.id, k.kind, p.id, (p.targets -> k.kind ->> 'seconds')::int,
           coalesce((p.targets -> k.kind ->> 'business')::boolean, true), p.schedule, 'running',
           :now::timestamptz, CASE WHEN d.deadline IS NULL THEN :now::timestamptz END,
           (d.deadline ->> 'due_at')::timestamptz, (d.deadline ->> 'warn_at')::timestamptz, :now::timestamptz
    FROM ticket t CROSS JOIN policy p CROSS JOIN (VALUES ('first_response'), ('resolution')) AS k(kind)
    CROSS JOIN LATERAL (SELECT CASE WHEN p.predicted THEN p.deadlines -> k.kind END AS deadline) d
    WHERE p.targets ? k.kind
    RETURNING ticket_id, kind, target_seconds, business, schedule, recompute_from, paused_at, due_at, state
),
sla_check AS (
    -- The cached copy is out of date when the ordered match (not a contract, which it cannot see)
    -- picked another policy, or none where it predicted one: the caller refreshes it.
    SELECT CASE WHEN p.id IS NULL THEN (:sla_plan::jsonb -> c.tier) IS NOT NULL
                ELSE NOT p.predicted AND NOT p.contract END AS stale
    FROM customer c LEFT JOIN policy p ON true
),
events AS (
    SELECT gen_random_uuid() AS id, t.id AS ticket_id, 'ticket.created' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, 'new'::text AS to_status,
           jsonb_build_object('number', t.number, 'channel', t.channel, 'subject', t.subject, 'priority', t.priority,
                              'team_id', t.team_id, 'requester_email', :requester_email, 'message_id', m.id,
                              'parent_ticket_id', t.parent_ticket_id) AS payload
    FROM ticket t, message m
    UNION ALL
    SELECT gen_random_uuid(), t.id, 'ticket.assigned', 'system', NULL::uuid, NULL, NULL,
           jsonb_build_object('agent_id', t.assignee_id, 'team_id', t.team_id, 'previous_agent_id', NULL,
                              'reason', (CASE (SELECT tm.assignment_mode FROM teams tm WHERE tm.id = t.team_id) WHEN 'round_robin' THEN 'round_robin' ELSE 'pushed' END), 'number', t.number)
    FROM ticket t WHERE t.assignee_id IS NOT NULL
    UNION ALL
    SELECT gen_random_uuid(), t.id, 'ticket.status_changed', 'system', NULL::uuid, 'new', 'assigned',
           jsonb_build_object('from', 'new', 'to', 'assigned', 'reason', (CASE (SELECT tm.assignment_mode FROM teams tm WHERE tm.id = t.team_id) WHEN 'round_robin' THEN 'round_robin' ELSE 'pushed' END), 'number', t.number)
    FROM ticket t WHERE t.assignee_id IS NOT NULL
),
{_EVENT_WRITES}
SELECT {_TICKET_RESULT.format(t='t')} AS ticket, {_OUTBOX_JSON} AS events, {_PENDING_JSON.format(cte='sla')} AS pending_sla,
       coalesce((SELECT stale FROM sla_check), false) AS sla_stale
FROM ticket t
"""

IDEMPOTENT_REPLAY = """
SELECT k.request_hash, to_jsonb(t) - 'priority_rank' AS ticket
FROM idempotency_keys k JOIN tickets t ON t.id = k.ticket_id
WHERE k.scope = :idem_scope AND k.key = :idem_key
"""

TICKET_BY_INBOUND_MESSAGE_ID = """
SELECT to_jsonb(t) - 'priority_rank' AS ticket, m.id AS message_id
FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
WHERE m.inbound_message_id = :inbound_message_id
"""

ADD_MESSAGE = f"""
WITH target AS (
    SELECT id, status, merged_into_id, closed_at, first_response_at, requester_id, number, subject, priority, channel, team_id,
           assignee_id
    FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
author AS (
    SELECT (SELECT id FROM customers WHERE email = :author_email) AS customer_id
),
decision AS (
    SELECT tg.id, tg.status AS old_status,
        CASE
            WHEN c.claiming THEN 'assigned'
            WHEN :author_type <> 'customer' THEN tg.status
            WHEN tg.status IN ('waiting_on_customer', 'resolved') THEN 'in_progress'
            WHEN tg.status = 'closed' AND tg.closed_at >= :reopen_after::timestamptz THEN 'in_progress'
            ELSE tg.status
        END AS new_status,
        (:author_type = 'customer' AND tg.status = 'closed' AND tg.closed_at >= :reopen_after::timestamptz) AS reopening,
        (:author_type = 'agent' AND :visibility = 'public' AND tg.first_response_at IS NULL) AS first_response,
        c.claiming
    FROM target tg
    -- a public agent reply on a ticket nobody owns assigns it to that agent in the same statement
    CROSS JOIN LATERAL (SELECT (:author_type = 'agent' AND :visibility = 'public' AND tg.assignee_id IS NULL
                                AND tg.status IN ('new', 'reopened')) AS claiming) c
    WHERE tg.status <> 'merged'
      AND NOT (:author_type = 'customer' AND tg.status = 'closed' AND tg.closed_at < :reopen_after::timestamptz)
),
updated AS (
    UPDATE tickets t SET
        status = d.new_status,
        assignee_id = CASE WHEN d.claiming THEN :author_agent_id::uuid ELSE t.assignee_id END,
        reopen_count = t.reopen_count + d.reopening::int,
        closed_at = CASE WHEN d.reopening THEN NULL ELSE t.closed_at END,
        resolved_at = CASE WHEN d.old_status = 'resolved' AND d.new_status <> 'resolved' THEN NULL ELSE t.resolved_at END,
        first_response_at = CASE WHEN d.first_response THEN :now::timestamptz ELSE t.first_response_at END,
        last_customer_message_at = CASE WHEN :author_type = 'customer' THEN :now::timestamptz ELSE t.last_customer_message_at END,
        last_agent_message_at = CASE WHEN :author_type = 'agent' AND :visibility = 'public' THEN :now::timestamptz
                                     ELSE t.last_agent_message_at END,
        message_count = t.message_count + 1,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM decision d WHERE t.id = d.id
    RETURNING t.*, d.old_status, d.reopening, d.first_response, d.claiming
),
claimed AS (
    INSERT INTO assignments (ticket_id, agent_id, team_id, assigned_by, reason, created_at)
    SELECT u.id, u.assignee_id, u.team_id, u.assignee_id, 'manual', :now::timestamptz FROM updated u WHERE u.claiming
),
message AS (
    INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, author_agent_id, visibility, channel, body,
                                 body_full, body_html, inbound_message_id, attachments, metadata, created_at)
    SELECT u.id, :author_type,
           CASE WHEN :author_type = 'customer' THEN coalesce((SELECT customer_id FROM author), u.requester_id) END,
           :author_agent_id::uuid, :visibility, :channel, :body, :body_full, :body_html, :inbound_message_id,
           :attachments::jsonb, :metadata::jsonb, :now::timestamptz
    FROM updated u
    RETURNING *
),
thread_ids AS (
    INSERT INTO email_message_ids (message_id, ticket_id, ticket_message_id, kind, created_at)
    SELECT :inbound_message_id, m.ticket_id, m.id, 'inbound', :now::timestamptz FROM message m
    WHERE :channel = 'email' AND :inbound_message_id::text IS NOT NULL
),
participant AS (
    INSERT INTO ticket_participants (ticket_id, email)
    SELECT u.id, :author_email FROM updated u WHERE :author_type = 'customer' AND :author_email::text IS NOT NULL
    ON CONFLICT DO NOTHING
),
change AS (
    SELECT u.id AS ticket_id, CASE WHEN u.reopening THEN 'closed' ELSE u.old_status END AS old_status,
           u.status AS new_status, u.first_response FROM updated u
),
{_SLA_EFFECTS},
-- The next-reply clock (when the ticket's policy has a next_reply target): a customer message after the
-- first response starts it (unless one is already running), the next public agent message meets it.
-- Rows the status change above already touched (sla_plan) are left alone: one change per row.
next_reply_policy AS (
    -- :next_reply_plan (helpdesk.sla.cache): per policy, its next_reply target and the deadlines at :now
    -- for each schedule document it knows (by md5 of the jsonb text); used only when the policy's
    -- target and the clock's schedule copy are exactly those, else the follow-up computes it.
    SELECT u.id AS ticket_id, s.policy_id, s.schedule, p.targets -> 'next_reply' AS target,
           CASE WHEN :next_reply_plan::jsonb -> s.policy_id::text -> 'target' = p.targets -> 'next_reply'
                THEN :next_reply_plan::jsonb -> s.policy_id::text -> 'by_schedule' -> coalesce(md5(s.schedule::text), 'none')
           END AS deadline
    FROM updated u
    CROSS JOIN LATERAL (SELECT x.policy_id, x.schedule FROM sla_targets x
                        WHERE x.ticket_id = u.id AND x.policy_id IS NOT NULL ORDER BY x.kind LIMIT 1) s
    JOIN sla_policies p ON p.id = s.policy_id
    WHERE :author_type = 'customer' AND u.first_response_at IS NOT NULL AND p.targets ? 'next_reply'
      AND u.status IN ('new', 'assigned', 'in_progress', 'reopened')
      AND NOT EXISTS (SELECT 1 FROM sla_plan a WHERE a.kind = 'next_reply' AND a.action IS NOT NULL)
),
next_reply_started AS (
    INSERT INTO sla_targets (ticket_id, kind, policy_id, target_seconds, business, schedule, state, started_at,
                             recompute_from, due_at, warn_at, updated_at)
    SELECT n.ticket_id, 'next_reply', n.policy_id, (n.target ->> 'seconds')::int,
           coalesce((n.target ->> 'business')::boolean, true), n.schedule, 'running', :now::timestamptz,
           CASE WHEN n.deadline IS NULL THEN :now::timestamptz END,
           (n.deadline ->> 'due_at')::timestamptz, (n.deadline ->> 'warn_at')::timestamptz, :now::timestamptz
    FROM next_reply_policy n
    ON CONFLICT (ticket_id, kind) DO UPDATE SET
        state = 'running', policy_id = EXCLUDED.policy_id, target_seconds = EXCLUDED.target_seconds,
        business = EXCLUDED.business, schedule = EXCLUDED.schedule, started_at = EXCLUDED.started_at,
        recompute_from = EXCLUDED.recompute_from, due_at = EXCLUDED.due_at, warn_at = EXCLUDED.warn_at,
        paused_at = NULL, pause_reason = NULL,
        met_at = NULL, warned_at = NULL, breached_at = NULL, adjust_seconds = 0, updated_at = EXCLUDED.updated_at
    WHERE sla_targets.state IN ('met', 'cancelled')
    RETURNING ticket_id, kind, target_seconds, business, schedule, recompute_from, paused_at, due_at, state, adjust_seconds
),
next_reply_met AS (
    UPDATE sla_targets s SET state = 'met', met_at = :now::timestamptz, updated_at = :now::timestamptz
    FROM updated u
    WHERE s.ticket_id = u.id AND s.kind = 'next_reply' AND s.state IN ('running', 'paused')
      AND :author_type = 'agent' AND :visibility = 'public'
      AND NOT EXISTS (SELECT 1 FROM sla_plan a WHERE a.kind = 'next_reply' AND a.action IS NOT NULL)
),
events AS (
    SELECT gen_random_uuid() AS id, m.ticket_id, 'ticket.replied' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('message_id', m.id, 'author_type', m.author_type, 'visibility', m.visibility,
                              'channel', m.channel, 'number', u.number, 'assignee_id', u.assignee_id,
                              'first_response', u.first_response) AS payload
    FROM message m JOIN updated u ON u.id = m.ticket_id
    UNION ALL
    SELECT gen_random_uuid(), u.id, 'ticket.status_changed', :actor_type, :actor_id::uuid, 'closed', 'reopened',
           jsonb_build_object('from', 'closed', 'to', 'reopened', 'reason', 'customer replied within the reopen window',
                              'number', u.number)
    FROM updated u WHERE u.reopening
    UNION ALL
    SELECT gen_random_uuid(), u.id, 'ticket.status_changed', :actor_type, :actor_id::uuid,
           CASE WHEN u.reopening THEN 'reopened' ELSE u.old_status END, u.status,
           jsonb_build_object('from', CASE WHEN u.reopening THEN 'reopened' ELSE u.old_status END, 'to', u.status,
                              'reason', CASE WHEN u.claiming THEN 'agent replied' ELSE 'customer replied' END,
                              'number', u.number)
    FROM updated u WHERE u.reopening OR u.old_status <> u.status
    UNION ALL
    SELECT gen_random_uuid(), u.id, 'ticket.assigned', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('agent_id', u.assignee_id, 'team_id', u.team_id, 'previous_agent_id', NULL,
                              'reason', 'replied', 'number', u.number)
    FROM updated u WHERE u.claiming
    UNION ALL
    SELECT gen_random_uuid(), m.ticket_id, 'outbound.requested', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('message_id', m.id, 'channel', u.channel, 'number', u.number)
    FROM message m JOIN updated u ON u.id = m.ticket_id
    WHERE m.author_type = 'agent' AND m.visibility = 'public'
),
{_EVENT_WRITES}
SELECT tg.status AS current_status, tg.merged_into_id, tg.closed_at,
       -- what a follow-up ticket needs when the reopen window has passed
       tg.number, tg.subject, tg.priority, tg.channel AS ticket_channel, tg.team_id,
       (SELECT c.email FROM customers c WHERE c.id = tg.requester_id) AS requester_email,
       (SELECT {_TICKET_RESULT.format(t='u')} FROM updated u) AS ticket,
       -- without the texts: a 100,000-character body would break the 64 KB row limit AFTER the commit
       (SELECT to_jsonb(m) - 'body' - 'body_full' - 'body_html' FROM message m) AS message,
       {_OUTBOX_JSON} AS events,
       {_PENDING_JSON.format(cte='(SELECT * FROM sla_changed UNION ALL SELECT * FROM next_reply_started)')} AS pending_sla
FROM target tg
"""

TRANSITION = f"""
WITH target AS (
    SELECT id, status, merged_into_id FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
-- the ticket a duplicate names: another ticket that exists and was not merged away
original AS (
    SELECT o.id FROM tickets o
    WHERE o.id = :duplicate_of::uuid AND o.id <> :ticket_id::uuid AND o.status <> 'merged'
),
updated AS (
    UPDATE tickets t SET
        status = :to_status,
        duplicate_of_id = CASE WHEN :to_status = 'duplicate' THEN (SELECT id FROM original) ELSE t.duplicate_of_id END,
        assignee_id = CASE WHEN :to_status = 'new' THEN NULL ELSE t.assignee_id END,
        resolved_at = CASE WHEN :to_status = 'resolved' THEN :now::timestamptz
                           WHEN :to_status IN ('in_progress', 'reopened') THEN NULL ELSE t.resolved_at END,
        closed_at = CASE WHEN :to_status = 'closed' THEN :now::timestamptz
                         WHEN :to_status = 'reopened' THEN NULL ELSE t.closed_at END,
        reopen_count = t.reopen_count + (:to_status = 'reopened')::int,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM target tg
    WHERE t.id = tg.id
      AND tg.status IN (SELECT jsonb_array_elements_text(:allowed_from::jsonb))
      AND (:expected_status::text IS NULL OR tg.status = :expected_status)
      AND (:to_status <> 'duplicate' OR EXISTS (SELECT 1 FROM original))
    RETURNING t.*, tg.status AS old_status
),
unassigned AS (
    INSERT INTO assignments (ticket_id, team_id, assigned_by, reason, created_at)
    -- assigned_by only when the actor is a known agent (the audit trail keeps actor_id either way)
    SELECT u.id, u.team_id, (SELECT a.id FROM agents a WHERE a.id = :actor_id::uuid), 'unassigned', :now::timestamptz
    FROM updated u WHERE u.status = 'new'
),
change AS (SELECT id AS ticket_id, old_status, status AS new_status, false AS first_response FROM updated),
{_SLA_EFFECTS},
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.status_changed' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, u.old_status AS from_status, u.status AS to_status,
           jsonb_build_object('from', u.old_status, 'to', u.status, 'reason', :reason::text, 'number', u.number,
                              'assignee_id', u.assignee_id, 'team_id', u.team_id,
                              'duplicate_of', CASE WHEN u.status = 'duplicate' THEN u.duplicate_of_id END) AS payload
    FROM updated u
),
{_EVENT_WRITES}
SELECT tg.status AS current_status, tg.merged_into_id, EXISTS (SELECT 1 FROM original) AS original_exists,
       (SELECT {_TICKET_RESULT.format(t='u')} FROM updated u) AS ticket,
       {_OUTBOX_JSON} AS events, {_PENDING_JSON.format(cte='sla_changed')} AS pending_sla
FROM target tg
"""

def assignment_tail(reason: str) -> str:
    """The rest of an assignment statement (history row, SLA effects, events, outbox), given CTE `updated`
    (t.* + old_status, old_assignee). `reason` is an SQL expression over `u` (the updated row). Used by
    ASSIGN here and by routing's push and pull statements."""
    return f"""
history AS (
    INSERT INTO assignments (ticket_id, agent_id, team_id, assigned_by, reason, created_at)
    SELECT u.id, u.assignee_id, u.team_id, (SELECT a.id FROM agents a WHERE a.id = :assigned_by::uuid),
           {reason}, :now::timestamptz
    FROM updated u
),
change AS (SELECT id AS ticket_id, old_status, status AS new_status, false AS first_response FROM updated),
{_SLA_EFFECTS},
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.assigned' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('agent_id', u.assignee_id, 'team_id', u.team_id, 'previous_agent_id', u.old_assignee,
                              'reason', {reason}, 'number', u.number) AS payload
    FROM updated u
    UNION ALL
    SELECT gen_random_uuid(), u.id, 'ticket.status_changed', :actor_type, :actor_id::uuid, u.old_status, u.status,
           jsonb_build_object('from', u.old_status, 'to', u.status, 'reason', {reason}, 'number', u.number)
    FROM updated u WHERE u.old_status <> u.status
),
{_EVENT_WRITES}"""


ASSIGN = f"""
WITH target AS (
    SELECT id, status, assignee_id, team_id, merged_into_id FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
agent AS (SELECT id FROM agents WHERE id = :agent_id::uuid AND is_active),
team AS (SELECT id FROM teams WHERE id = :team_id::uuid),
decision AS (
    SELECT tg.id, tg.status AS old_status, tg.assignee_id AS old_assignee,
        CASE
            WHEN :agent_id::uuid IS NULL THEN CASE WHEN tg.status IN ('new', 'assigned') THEN 'new' ELSE tg.status END
            WHEN tg.status = 'new' THEN 'assigned'
            -- reassigning work in hand (or a reopened ticket to someone new) starts over at assigned
            WHEN tg.status IN ('in_progress', 'reopened') AND tg.assignee_id IS DISTINCT FROM :agent_id::uuid THEN 'assigned'
            ELSE tg.status
        END AS new_status
    FROM target tg
    WHERE tg.status IN (SELECT jsonb_array_elements_text(:allowed_statuses::jsonb))
      AND (:agent_id::uuid IS NULL OR EXISTS (SELECT 1 FROM agent))
      AND (:team_id::uuid IS NULL OR EXISTS (SELECT 1 FROM team))
),
updated AS (
    UPDATE tickets t SET
        assignee_id = :agent_id::uuid,
        team_id = coalesce(:team_id::uuid, t.team_id),
        status = d.new_status,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM decision d WHERE t.id = d.id
    RETURNING t.*, d.old_status, d.old_assignee
),
stamp AS (
    UPDATE agents SET last_assigned_at = :now::timestamptz WHERE id = (SELECT assignee_id FROM updated)
),
{assignment_tail(":reason::text")}
SELECT tg.status AS current_status, tg.merged_into_id,
       EXISTS (SELECT 1 FROM agent) AS agent_exists, EXISTS (SELECT 1 FROM team) AS team_exists,
       (SELECT {_TICKET_RESULT.format(t='u')} FROM updated u) AS ticket,
       {_OUTBOX_JSON} AS events, {_PENDING_JSON.format(cte='sla_changed')} AS pending_sla
FROM target tg
"""

MERGE = f"""
WITH locked AS (
    -- Both rows, locked in id order so two opposite merges cannot deadlock.
    SELECT id, status, number, merged_into_id, requester_id FROM tickets
    WHERE id IN (:source_id::uuid, :target_id::uuid) ORDER BY id FOR UPDATE
),
source AS (SELECT * FROM locked WHERE id = :source_id::uuid),
target AS (SELECT * FROM locked WHERE id = :target_id::uuid),
ok AS (
    SELECT s.id AS source_id, s.status AS old_status, s.number AS source_number, t.id AS target_id, t.number AS target_number,
           s.requester_id AS source_requester
    FROM source s, target t
    WHERE s.id <> t.id
      AND s.status IN (SELECT jsonb_array_elements_text(:allowed_from::jsonb))
      AND t.status NOT IN ('merged', 'duplicate', 'spam')
      -- Another customer's ticket only when the agent confirmed it (the conversations become one).
      AND (s.requester_id = t.requester_id OR :allow_other_requester::boolean)
),
moved_messages AS (
    -- Each message keeps whose conversation it was: that customer's portal link shows it, the other's does not.
    UPDATE ticket_messages m SET ticket_id = ok.target_id,
           conversation_customer_id = coalesce(m.conversation_customer_id, ok.source_requester)
    FROM ok WHERE m.ticket_id = ok.source_id RETURNING m.id
),
moved_ids AS (
    UPDATE email_message_ids e SET ticket_id = ok.target_id FROM ok WHERE e.ticket_id = ok.source_id
),
moved_attachments AS (
    UPDATE attachments a SET ticket_id = ok.target_id FROM ok WHERE a.ticket_id = ok.source_id
),
moved_participants AS (
    INSERT INTO ticket_participants (ticket_id, email)
    SELECT ok.target_id, p.email FROM ok JOIN ticket_participants p ON p.ticket_id = ok.source_id
    UNION
    SELECT ok.target_id, c.email FROM ok JOIN tickets s ON s.id = ok.source_id JOIN customers c ON c.id = s.requester_id
    WHERE c.email IS NOT NULL
    ON CONFLICT DO NOTHING
),
repointed AS (
    -- Keep merge chains one hop long: tickets merged into the source now point at the target.
    UPDATE tickets t SET merged_into_id = ok.target_id FROM ok WHERE t.merged_into_id = ok.source_id
),
source_updated AS (
    UPDATE tickets t SET status = 'merged', merged_into_id = ok.target_id, message_count = 0,
           updated_at = :now::timestamptz, version = t.version + 1
    FROM ok WHERE t.id = ok.source_id
    RETURNING t.*, ok.old_status
),
target_updated AS (
    UPDATE tickets t SET message_count = t.message_count + (SELECT count(*) FROM moved_messages),
           updated_at = :now::timestamptz, version = t.version + 1
    FROM ok WHERE t.id = ok.target_id
    RETURNING t.*
),
change AS (SELECT id AS ticket_id, old_status, status AS new_status, false AS first_response FROM source_updated),
{_SLA_EFFECTS},
events AS (
    SELECT gen_random_uuid() AS id, ok.source_id AS ticket_id, 'ticket.status_changed' AS event_type,
           :actor_type AS actor_type, :actor_id::uuid AS actor_id, ok.old_status AS from_status, 'merged' AS to_status,
           jsonb_build_object('from', ok.old_status, 'to', 'merged', 'merged_into', ok.target_id,
                              'merged_into_number', ok.target_number, 'number', ok.source_number) AS payload
    FROM ok
    UNION ALL
    SELECT gen_random_uuid(), ok.target_id, 'ticket.merged', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('merged_from', ok.source_id, 'merged_from_number', ok.source_number,
                              'number', ok.target_number, 'messages_moved', (SELECT count(*) FROM moved_messages))
    FROM ok
),
{_EVENT_WRITES}
SELECT (SELECT status FROM source) AS source_status, (SELECT merged_into_id FROM source) AS source_merged_into,
       (SELECT status FROM target) AS target_status, (SELECT merged_into_id FROM target) AS target_merged_into,
       (SELECT requester_id FROM source) IS DISTINCT FROM (SELECT requester_id FROM target) AS requesters_differ,
       (SELECT {_TICKET_RESULT.format(t='u')} FROM target_updated u) AS ticket,
       {_OUTBOX_JSON} AS events, {_PENDING_JSON.format(cte='sla_changed')} AS pending_sla
"""

# A priority change: the ticket's policy is matched again (the same rule as CREATE_TICKET) and its open
# clocks take the new targets. A clock with a deadline keeps the business time it has used: the difference
# between the new and the old target is added to its remaining time (adjust_seconds), measured from now
# for a running clock (paused_at = now marks the instant the remaining time is measured from) and from
# the resume instant for a paused one. A clock still waiting for its first deadline just takes the target.
CHANGE_PRIORITY = f"""
WITH target AS (
    SELECT id, status, priority, merged_into_id FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
updated AS (
    UPDATE tickets t SET priority = :priority, updated_at = :now::timestamptz, version = t.version + 1
    FROM target tg
    WHERE t.id = tg.id AND tg.priority <> :priority AND tg.status NOT IN ('merged', 'spam', 'duplicate', 'closed')
    RETURNING t.*, tg.priority AS old_priority
),
policy AS (
    SELECT p.id, p.targets, u.reopen_count
    FROM updated u JOIN customers c ON c.id = u.requester_id
    CROSS JOIN LATERAL sla_policy_match(c.sla_policy_id, c.tier, :priority, u.team_id, u.channel) p
),
sla_plan AS (
    SELECT s.ticket_id, s.kind, p.id AS policy_id, p.targets -> k.key AS target
    FROM policy p JOIN sla_targets s ON s.ticket_id = :ticket_id::uuid
    CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'resolution' AND p.reopen_count > 0 AND p.targets ? 'reopen'
                                    THEN 'reopen' ELSE s.kind END AS key) k
    WHERE s.state IN ('running', 'paused') AND p.targets ? k.key
),
sla_changed AS (
    UPDATE sla_targets s SET
        policy_id = a.policy_id,
        target_seconds = (a.target ->> 'seconds')::int,
        business = coalesce((a.target ->> 'business')::boolean, true),
        adjust_seconds = CASE WHEN s.due_at IS NULL THEN s.adjust_seconds
                              ELSE s.adjust_seconds + (a.target ->> 'seconds')::int - s.target_seconds END,
        paused_at = CASE WHEN s.state = 'running' AND s.due_at IS NOT NULL AND s.recompute_from IS NULL
                         THEN :now::timestamptz ELSE s.paused_at END,
        recompute_from = CASE WHEN s.state = 'running' AND s.due_at IS NOT NULL AND s.recompute_from IS NULL
                              THEN :now::timestamptz ELSE s.recompute_from END,
        updated_at = :now::timestamptz
    FROM sla_plan a
    WHERE s.ticket_id = a.ticket_id AND s.kind = a.kind
      AND (s.target_seconds <> (a.target ->> 'seconds')::int
           OR s.business <> coalesce((a.target ->> 'business')::boolean, true))
    RETURNING s.ticket_id, s.kind, s.target_seconds, s.business, s.schedule, s.recompute_from, s.paused_at, s.due_at,
              s.state, s.adjust_seconds
),
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.priority_changed' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('from', u.old_priority, 'to', u.priority, 'reason', :reason::text, 'number', u.number,
                              'assignee_id', u.assignee_id, 'team_id', u.team_id) AS payload
    FROM updated u
),
{_EVENT_WRITES}
SELECT tg.status AS current_status, tg.priority AS current_priority, tg.merged_into_id,
       (SELECT {_TICKET_RESULT.format(t='u')} FROM updated u) AS ticket,
       {_OUTBOX_JSON} AS events, {_PENDING_JSON.format(cte='sla_changed')} AS pending_sla
FROM target tg
"""

# The ticket (with its SLA clocks) and its latest messages, one row each, in one call. Message bodies
# are cut so that a full page stays under the Data API's 1 MiB response (and 64 KB row) limit even
# for 4-byte characters or heavily escaped text: 100 x 2,000 chars x 4 bytes = 800 KB. The full
# text is a separate read (GET_MESSAGE); `body_truncated` says when it is needed.
MESSAGE_PREVIEW_CHARS = 2000
_MESSAGE_JSON = f"""jsonb_build_object(
    'id', m.id, 'position', m.position, 'ticket_id', m.ticket_id, 'author_type', m.author_type,
    'author_customer_id', m.author_customer_id, 'author_agent_id', m.author_agent_id, 'visibility', m.visibility,
    'channel', m.channel, 'body', left(m.body, {MESSAGE_PREVIEW_CHARS}),
    'body_truncated', length(m.body) > {MESSAGE_PREVIEW_CHARS}, 'attachments', m.attachments,
    'inbound_message_id', m.inbound_message_id, 'created_at', m.created_at,
    'conversation_customer_id', m.conversation_customer_id)"""

GET_TICKET = f"""
WITH t AS (SELECT * FROM tickets WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT 'ticket' AS kind, to_jsonb(t) - 'priority_rank' || jsonb_build_object(
           'sla', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', s.kind, 'state', s.state, 'due_at', s.due_at,
                   'warn_at', s.warn_at, 'breached_at', s.breached_at, 'met_at', s.met_at, 'paused_at', s.paused_at,
                   'target_seconds', s.target_seconds, 'business', s.business) ORDER BY s.kind), '[]'::jsonb)
                   FROM sla_targets s WHERE s.ticket_id = t.id),
           -- A chat's address stays unverified until the visitor enters the code mailed to it (intake.chat).
           'chat_address_verified', CASE WHEN t.channel = 'chat' THEN (
                   SELECT (m.metadata #>> '{{chat,address_verified}}')::boolean FROM ticket_messages m
                   WHERE m.inbound_message_id = 'chat:' || t.channel_thread_id || ':0') END) AS doc
FROM t
UNION ALL
(SELECT 'message', {_MESSAGE_JSON}
 FROM t JOIN ticket_messages m ON m.ticket_id = t.id
 WHERE :include_internal OR m.visibility = 'public'
 ORDER BY m.position DESC LIMIT :message_limit)
"""

LIST_MESSAGES = f"""
SELECT {_MESSAGE_JSON} AS doc
FROM ticket_messages m
WHERE m.ticket_id = :ticket_id::uuid AND (:include_internal OR m.visibility = 'public')
  AND (:before::bigint IS NULL OR m.position < :before::bigint)
ORDER BY m.position DESC LIMIT :limit
"""

# One message in full (TicketCommands.get_message): its fields, the length of each of its three texts
# and their first slices, in one call. 4,000 characters a slice: three at 4 bytes a character keep the
# row under the Data API's 64 KB; the rest of a longer text is read with MESSAGE_TEXT_SLICE.
MESSAGE_FIRST_SLICE_CHARS = 4000
MESSAGE_TEXT_SLICE_CHARS = 15_000  # under 64 KB even at 4 bytes a character
GET_MESSAGE = f"""
WITH t AS (SELECT id, status, merged_into_id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT jsonb_build_object(
            'id', m.id, 'position', m.position, 'ticket_id', m.ticket_id, 'author_type', m.author_type,
            'author_customer_id', m.author_customer_id, 'author_agent_id', m.author_agent_id,
            'visibility', m.visibility, 'channel', m.channel, 'attachments', m.attachments,
            'inbound_message_id', m.inbound_message_id, 'created_at', m.created_at,
            'forwarded', m.metadata -> 'forwarded',
            'body_chars', length(m.body), 'body_full_chars', length(m.body_full), 'body_html_chars', length(m.body_html),
            'body', left(m.body, {MESSAGE_FIRST_SLICE_CHARS}), 'body_full', left(m.body_full, {MESSAGE_FIRST_SLICE_CHARS}),
            'body_html', left(m.body_html, {MESSAGE_FIRST_SLICE_CHARS}))
        FROM ticket_messages m
        WHERE m.id = :message_id::uuid AND m.ticket_id = t.id AND (:include_internal OR m.visibility = 'public')) AS message
FROM t
"""

# A slice of one of a message's texts (body, body_full or body_html), 1-based like substr.
MESSAGE_TEXT_SLICE = """
SELECT substr(CASE :text::text WHEN 'body' THEN m.body WHEN 'body_full' THEN m.body_full ELSE m.body_html END,
              :start::int, :length::int) AS piece  -- integers arrive as bigint; substr takes int
FROM ticket_messages m WHERE m.id = :message_id::uuid
"""

_FINISH_WRITES = """
WITH deadlines AS (
    UPDATE sla_targets s SET due_at = d.due_at, warn_at = d.warn_at, recompute_from = NULL, paused_at = NULL,
           adjust_seconds = 0, updated_at = :now::timestamptz
    FROM jsonb_to_recordset(:deadlines::jsonb)
         AS d(ticket_id uuid, kind text, due_at timestamptz, warn_at timestamptz, recompute_from timestamptz)
    WHERE s.ticket_id = d.ticket_id AND s.kind = d.kind AND s.recompute_from = d.recompute_from
    RETURNING 1
),
published AS (
    UPDATE outbox SET published_at = :now::timestamptz, attempts = attempts + 1
    WHERE id IN (SELECT jsonb_array_elements_text(:published::jsonb)::uuid) AND published_at IS NULL
    RETURNING 1
)"""
FINISH = _FINISH_WRITES + """
SELECT (SELECT count(*) FROM deadlines) AS deadlines, (SELECT count(*) FROM published) AS published
"""

# FINISH that also returns the SLA configuration rows (helpdesk.sla.cache), so a create whose follow-up
# runs anyway refreshes the process's copy without a call of its own. The first row is the counts.
FINISH_LOADING_SLA_CONFIG = _FINISH_WRITES + f"""
SELECT 'counts' AS kind, jsonb_build_object('deadlines', (SELECT count(*) FROM deadlines),
                                            'published', (SELECT count(*) FROM published)) AS doc
UNION ALL
({SLA_CONFIG_ROWS})
"""

PENDING_SLA = """
SELECT ticket_id, kind, target_seconds, business, schedule, recompute_from, paused_at, due_at, state, adjust_seconds
FROM sla_targets WHERE recompute_from IS NOT NULL ORDER BY recompute_from LIMIT :limit
"""


def run(db: DataApi, sql: str, params: dict[str, Any]) -> list[Row]:
    return db.execute(sql, params).rows

"""Adding a message to a ticket (a reply, a note, a customer's message), with its status and SLA effects."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow


class AddMessageParams(TypedDict):
    ticket_id: Any
    now: datetime
    author_type: str                  # customer | agent | system
    author_email: str | None
    author_agent_id: Any
    visibility: str                   # public | internal
    channel: str
    body: str
    body_full: str | None
    body_html: str | None
    inbound_message_id: str | None
    attachments: JsonValue
    metadata: JsonValue
    reopen_after: datetime            # a closed ticket reopens on a customer message only after this
    next_reply_plan: JsonValue      # per policy: the next_reply deadlines at `now` (helpdesk.sla.cache)
    seen_position: int | None         # the last message the author saw: refused when a newer one exists
    actor_type: str
    actor_id: Any


class AddMessageRow(CommandRow):
    current_status: str
    merged_into_id: str | None
    closed_at: datetime | None
    # what a follow-up ticket needs when the reopen window has passed
    number: int
    subject: str
    priority: str
    ticket_channel: str
    team_id: str | None
    requester_email: str | None
    message: dict[str, Any] | None    # the message written, without its texts


ADD_MESSAGE = Statement("""
WITH target AS (
    SELECT id, status, merged_into_id, closed_at, first_response_at, requester_id, number, subject, priority, channel, team_id,
           assignee_id, message_count
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
      -- :seen_position, the last message the agent saw: refused when a newer one exists, committed or being
      -- committed (the locked row's message_count is fresh, the statement's snapshot of messages may not be)
      AND NOT (:seen_position::bigint IS NOT NULL AND (
          EXISTS (SELECT 1 FROM ticket_messages x WHERE x.ticket_id = tg.id AND x.position > :seen_position::bigint)
          OR tg.message_count > (SELECT count(*) FROM ticket_messages x WHERE x.ticket_id = tg.id)))
),
updated AS (
    UPDATE tickets t SET
        status = d.new_status,
        assignee_id = CASE WHEN d.claiming THEN :author_agent_id::uuid ELSE t.assignee_id END,
        reopen_count = t.reopen_count + d.reopening::int,
        closed_at = CASE WHEN d.reopening THEN NULL ELSE t.closed_at END,
        -- out of resolved or closed (a resume or a reopen): no longer solved (migration 1255 holds every statement to it)
        resolved_at = CASE WHEN d.new_status IN ('resolved', 'closed') THEN t.resolved_at END,
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
-- the status change's effect on the SLA clocks (migration 1170); read in full by the final SELECT
sla_changed AS (
    SELECT s.* FROM updated u
    CROSS JOIN LATERAL apply_sla_transition(u.id, u.old_status, u.status, u.first_response, :now::timestamptz) s
),
-- The next-reply clock (when the ticket's policy has a next_reply target): a customer message after the
-- first response starts it (unless one is already running), the next public agent message meets it.
-- Rows the status change above already touched (sla_changed) are left alone: one change per row.
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
      AND NOT EXISTS (SELECT 1 FROM sla_changed a WHERE a.kind = 'next_reply')
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
      AND NOT EXISTS (SELECT 1 FROM sla_changed a WHERE a.kind = 'next_reply')
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
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT tg.status AS current_status, tg.merged_into_id, tg.closed_at,
       -- what a follow-up ticket needs when the reopen window has passed
       tg.number, tg.subject, tg.priority, tg.channel AS ticket_channel, tg.team_id,
       (SELECT c.email FROM customers c WHERE c.id = tg.requester_id) AS requester_email,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       -- without the texts: a 100,000-character body would break the 64 KB row limit AFTER the commit
       (SELECT to_jsonb(m) - 'body' - 'body_full' - 'body_html' FROM message m) AS message,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events,
       (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM (SELECT * FROM sla_changed UNION ALL SELECT * FROM next_reply_started) p
        WHERE p.recompute_from IS NOT NULL) AS pending_sla
FROM target tg
""", params=AddMessageParams, row=AddMessageRow)

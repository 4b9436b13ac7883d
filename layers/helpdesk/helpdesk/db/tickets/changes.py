"""Changing a ticket: its status, its owner, its priority, merging it into another."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow


class Actor(TypedDict):
    now: datetime
    actor_type: str
    actor_id: Any


class TransitionParams(Actor):
    ticket_id: Any
    to_status: str
    allowed_from: JsonValue                # the statuses the state machine allows this move from
    expected_status: str | None       # compare-and-set: refuse when the ticket has moved meanwhile
    duplicate_of: Any
    reason: str | None


class TransitionRow(CommandRow):
    current_status: str
    merged_into_id: str | None
    original_exists: bool


TRANSITION = Statement("""
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
sla_changed AS (
    -- the status change's effect on the SLA clocks (migration 1170); read in full by the final SELECT
    SELECT s.* FROM updated u CROSS JOIN LATERAL apply_sla_transition(u.id, u.old_status, u.status, false, :now::timestamptz) s
),
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.status_changed' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, u.old_status AS from_status, u.status AS to_status,
           jsonb_build_object('from', u.old_status, 'to', u.status, 'reason', :reason::text, 'number', u.number,
                              'assignee_id', u.assignee_id, 'team_id', u.team_id,
                              'duplicate_of', CASE WHEN u.status = 'duplicate' THEN u.duplicate_of_id END) AS payload
    FROM updated u
),
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT tg.status AS current_status, tg.merged_into_id, EXISTS (SELECT 1 FROM original) AS original_exists,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events, (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM sla_changed p WHERE p.recompute_from IS NOT NULL) AS pending_sla
FROM target tg
""", params=TransitionParams, row=TransitionRow)


class AssignParams(Actor):
    ticket_id: Any
    agent_id: Any                     # None unassigns (back to the team queue)
    team_id: Any
    allowed_statuses: JsonValue
    assigned_by: Any
    reason: str


class AssignRow(CommandRow):
    current_status: str
    merged_into_id: str | None
    agent_exists: bool
    team_exists: bool


ASSIGN = Statement("""
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
recorded AS (
    -- the history row, SLA effects and events every assignment leaves (migration 1170)
    SELECT r.kind, r.doc FROM record_assignments(
        (SELECT jsonb_agg(to_jsonb(u) || jsonb_build_object('reason', :reason::text)) FROM updated u),
        :assigned_by::uuid, :actor_type, :actor_id::uuid, :now::timestamptz) r
)
SELECT tg.status AS current_status, tg.merged_into_id,
       EXISTS (SELECT 1 FROM agent) AS agent_exists, EXISTS (SELECT 1 FROM team) AS team_exists,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(r.doc ORDER BY (r.doc ->> 'seq')::bigint), '[]'::jsonb) FROM recorded r WHERE r.kind = 'event') AS events,
       (SELECT coalesce(jsonb_agg(r.doc), '[]'::jsonb) FROM recorded r WHERE r.kind = 'pending_sla') AS pending_sla
FROM target tg
""", params=AssignParams, row=AssignRow)


class MergeParams(Actor):
    source_id: Any
    target_id: Any
    allowed_from: JsonValue
    allow_other_requester: bool


class MergeRow(CommandRow):
    source_status: str | None
    source_merged_into: str | None
    target_status: str | None
    target_merged_into: str | None
    requesters_differ: bool


MERGE = Statement("""
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
sla_changed AS (
    -- the status change's effect on the SLA clocks (migration 1170); read in full by the final SELECT
    SELECT s.* FROM source_updated u CROSS JOIN LATERAL apply_sla_transition(u.id, u.old_status, u.status, false, :now::timestamptz) s
),
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
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT (SELECT status FROM source) AS source_status, (SELECT merged_into_id FROM source) AS source_merged_into,
       (SELECT status FROM target) AS target_status, (SELECT merged_into_id FROM target) AS target_merged_into,
       (SELECT requester_id FROM source) IS DISTINCT FROM (SELECT requester_id FROM target) AS requesters_differ,
       (SELECT to_jsonb(u) - 'priority_rank' FROM target_updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events, (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM sla_changed p WHERE p.recompute_from IS NOT NULL) AS pending_sla
""", params=MergeParams, row=MergeRow)


class ChangePriorityParams(Actor):
    ticket_id: Any
    priority: str
    reason: str | None


class ChangePriorityRow(CommandRow):
    current_status: str
    current_priority: str
    merged_into_id: str | None


# A priority change: the ticket's policy is matched again (the same rule as CREATE_TICKET) and its open
# clocks take the new targets. A clock with a deadline keeps the business time it has used: the difference
# between the new and the old target is added to its remaining time (adjust_seconds), measured from now
# for a running clock (paused_at = now marks the instant the remaining time is measured from) and from
# the resume instant for a paused one. A clock still waiting for its first deadline just takes the target.
CHANGE_PRIORITY = Statement("""
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
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT tg.status AS current_status, tg.priority AS current_priority, tg.merged_into_id,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events, (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM sla_changed p WHERE p.recompute_from IS NOT NULL) AS pending_sla
FROM target tg
""", params=ChangePriorityParams, row=ChangePriorityRow)

"""SQL for macros (helpdesk.tickets.macros): saved replies that can also set status, priority, tags
and assignee. CRUD statements, the preview (the body filled in for a ticket) and APPLY_MACRO, which
does everything a macro says in ONE statement.

A macro's shared (owner_agent_id NULL) or personal; an agent sees the shared ones and their own.
Placeholders are filled by the SQL function macro_render (migration 1180), used by both the preview
and the apply, so what the agent previews is what is sent.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow


class Doc(TypedDict):
    doc: dict[str, Any]               # the macro: its columns and `shared`


class ListMacrosParams(TypedDict):
    agent_id: Any
    limit: int


class MacroIdParams(TypedDict):
    macro_id: Any


class MacroFields(TypedDict):
    name: str
    body: str | None
    visibility: str                   # public | internal
    set_status: str | None
    set_priority: str | None
    add_tags: JsonValue
    remove_tags: JsonValue
    assign_to_me: bool
    assign_agent_id: Any


class CreateMacroParams(MacroFields):
    owner_agent_id: Any               # None: shared
    created_by: Any
    now: datetime


class UpdateMacroParams(MacroFields):
    macro_id: Any
    expected_updated_at: Any          # compare-and-set: the version the change was made from
    now: datetime


class IdRow(TypedDict):
    id: str


class PreviewParams(TypedDict):
    macro_id: Any
    ticket_id: Any
    agent_id: Any


class PreviewRow(TypedDict):
    body: str | None


class ApplyMacroParams(TypedDict):
    ticket_id: Any
    macro_id: Any
    agent_id: Any
    max_tags: int
    seen_position: int | None
    confirmed: bool
    now: datetime
    actor_type: str
    actor_id: Any


class ApplyMacroRow(CommandRow):
    current_status: str
    merged_into_id: str | None
    macro_found: bool
    refused: str | None               # why nothing was written (newer_messages, status, or a sentence)
    assigned_status: str | None       # the status after the macro's assignment
    wanted_status: str | None         # the status the macro wanted
    message: dict[str, Any] | None    # the message written, without its text

LIST_MACROS = Statement("""
SELECT to_jsonb(m) || jsonb_build_object('shared', m.owner_agent_id IS NULL) AS doc FROM macros m
WHERE m.owner_agent_id IS NULL OR m.owner_agent_id = :agent_id::uuid
ORDER BY m.owner_agent_id IS NULL, lower(m.name)
LIMIT :limit::int
""", params=ListMacrosParams, row=Doc)

GET_MACRO = Statement("""
SELECT to_jsonb(m) || jsonb_build_object('shared', m.owner_agent_id IS NULL) AS doc FROM macros m WHERE m.id = :macro_id::uuid
""", params=MacroIdParams, row=Doc)

CREATE_MACRO = Statement("""
WITH m AS (
    INSERT INTO macros (name, owner_agent_id, body, visibility, set_status, set_priority, add_tags, remove_tags,
                        assign_to_me, assign_agent_id, created_by, created_at, updated_at)
    VALUES (:name, :owner_agent_id::uuid, :body, :visibility, :set_status, :set_priority, :add_tags::jsonb,
            :remove_tags::jsonb, :assign_to_me, :assign_agent_id::uuid, :created_by::uuid, :now::timestamptz,
            :now::timestamptz)
    RETURNING *
)
SELECT to_jsonb(m) || jsonb_build_object('shared', m.owner_agent_id IS NULL) AS doc FROM m
""", params=CreateMacroParams, row=Doc)

# Replaces every field (the route merges a PATCH into the stored macro first); owner stays.
UPDATE_MACRO = Statement("""
WITH m AS (
    UPDATE macros SET name = :name, body = :body, visibility = :visibility, set_status = :set_status,
           set_priority = :set_priority, add_tags = :add_tags::jsonb, remove_tags = :remove_tags::jsonb,
           assign_to_me = :assign_to_me, assign_agent_id = :assign_agent_id::uuid, updated_at = :now::timestamptz
    WHERE id = :macro_id::uuid AND updated_at = :expected_updated_at::timestamptz
    RETURNING *
)
SELECT to_jsonb(m) || jsonb_build_object('shared', m.owner_agent_id IS NULL) AS doc FROM m
""", params=UpdateMacroParams, row=Doc)

DELETE_MACRO = Statement("""
DELETE FROM macros WHERE id = :macro_id::uuid RETURNING id
""", params=MacroIdParams, row=IdRow)

PREVIEW_MACRO = Statement("""
SELECT macro_render(m.body, c.name, c.email, t.number, (SELECT coalesce(a.name, a.email) FROM agents a
                                                        WHERE a.id = :agent_id::uuid)) AS body
FROM macros m, tickets t JOIN customers c ON c.id = t.requester_id
WHERE m.id = :macro_id::uuid AND (m.owner_agent_id IS NULL OR m.owner_agent_id = :agent_id::uuid)
  AND t.id = :ticket_id::uuid
""", params=PreviewParams, row=PreviewRow)

# Everything a macro does, in one statement: the reply or note (placeholders filled), the assignee
# (the macro's; else a public reply claims a ticket nobody owns, as add_message does), the priority,
# the tags and the status, each written to the audit trail and the outbox; the SLA clocks follow
# (first response and next reply met by a public reply, paused on waiting_on_customer, the resolution
# clock met on resolved, a resumed clock re-timed by the follow-up, open clocks re-targeted by the
# priority's policy). The ticket row is updated once, so the status moves in one step: a macro's
# status must be a transition allowed from the status after its assignment (else nothing is written
# and `refused` names why). :seen_position (optional): the last message the agent saw; a reply is
# refused when the ticket has a newer message (`newer`), unless the agent confirmed.
APPLY_MACRO = Statement("""
WITH target AS (
    SELECT id, number, status, priority, tags, assignee_id, team_id, requester_id, first_response_at, merged_into_id,
           reopen_count, channel, message_count
    FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
macro AS (
    SELECT * FROM macros WHERE id = :macro_id::uuid AND (owner_agent_id IS NULL OR owner_agent_id = :agent_id::uuid)
),
newer AS (
    -- as add_message: a newer message committed, or committed while this statement waited for the row lock
    SELECT :seen_position::bigint IS NOT NULL AND (
               EXISTS (SELECT 1 FROM ticket_messages x WHERE x.ticket_id = tg.id AND x.position > :seen_position::bigint)
               OR tg.message_count > (SELECT count(*) FROM ticket_messages x WHERE x.ticket_id = tg.id)) AS stale
    FROM target tg
),
plan AS (
    SELECT tg.id, tg.number, tg.status AS old_status, tg.priority AS old_priority, tg.tags AS old_tags,
           tg.assignee_id AS old_assignee, tg.team_id, tg.channel, tg.requester_id, m.name AS macro_name,
           m.body IS NOT NULL AS has_message, m.visibility, m.set_status,
           (m.body IS NOT NULL AND m.visibility = 'public') AS public_reply,
           (m.body IS NOT NULL AND m.visibility = 'public' AND tg.first_response_at IS NULL) AS first_response,
           macro_render(m.body, c.name, c.email, tg.number, (SELECT coalesce(a.name, a.email) FROM agents a
                                                              WHERE a.id = :agent_id::uuid)) AS body,
           CASE WHEN m.assign_to_me THEN :agent_id::uuid
                WHEN m.assign_agent_id IS NOT NULL THEN m.assign_agent_id
                WHEN m.body IS NOT NULL AND m.visibility = 'public' AND tg.assignee_id IS NULL
                     AND tg.status IN ('new', 'reopened') THEN :agent_id::uuid
                ELSE tg.assignee_id END AS new_assignee,
           coalesce(m.set_priority, tg.priority) AS new_priority,
           coalesce((SELECT jsonb_agg(x.tag ORDER BY x.first_at) FROM (
               SELECT e.tag, min(e.ord) AS first_at FROM (
                   SELECT value AS tag, ordinality AS ord FROM jsonb_array_elements_text(tg.tags) WITH ORDINALITY
                   UNION ALL
                   SELECT value, 1000000 + ordinality FROM jsonb_array_elements_text(m.add_tags) WITH ORDINALITY
               ) e WHERE e.tag NOT IN (SELECT jsonb_array_elements_text(m.remove_tags)) GROUP BY e.tag) x),
               '[]'::jsonb) AS new_tags
    FROM target tg CROSS JOIN macro m JOIN customers c ON c.id = tg.requester_id
),
step AS (
    -- assigning first (as the assign command: a new ticket, or work in hand given to someone else,
    -- becomes assigned), then the macro's status
    SELECT p.*, p.new_assignee IS DISTINCT FROM p.old_assignee AS reassigned,
           CASE WHEN p.new_assignee IS NOT DISTINCT FROM p.old_assignee THEN p.old_status
                WHEN p.old_status = 'new' THEN 'assigned'
                WHEN p.old_status IN ('in_progress', 'reopened') THEN 'assigned'
                ELSE p.old_status END AS assigned_status
    FROM plan p
),
decision AS (
    SELECT s.*, coalesce(s.set_status, s.assigned_status) AS new_status,
        CASE
            WHEN s.old_status NOT IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
                THEN 'a macro applies to open tickets (new, assigned, in progress, waiting on customer, reopened); this one is ' || s.old_status
            WHEN s.has_message AND (SELECT stale FROM newer) AND NOT :confirmed::boolean THEN 'newer_messages'
            WHEN s.reassigned AND s.new_assignee IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.id = s.new_assignee AND a.is_active)
                THEN 'the macro assigns an agent who no longer exists or is inactive'
            WHEN jsonb_array_length(s.new_tags) > :max_tags::int
                THEN 'the ticket would have more than ' || :max_tags::int || ' tags'
            WHEN coalesce(s.set_status, s.assigned_status) <> s.old_status AND NOT EXISTS (
                SELECT 1 FROM ticket_transitions tt WHERE tt.from_status = s.old_status
                  AND tt.to_status = coalesce(s.set_status, s.assigned_status) AND tt.via IS NULL)
                THEN 'status'
        END AS refused
    FROM step s
),
ok AS (SELECT * FROM decision WHERE refused IS NULL),
updated AS (
    UPDATE tickets t SET
        status = d.new_status,
        assignee_id = d.new_assignee,
        priority = d.new_priority,
        tags = d.new_tags,
        resolved_at = CASE WHEN d.new_status = 'resolved' THEN :now::timestamptz ELSE t.resolved_at END,
        first_response_at = CASE WHEN d.first_response THEN :now::timestamptz ELSE t.first_response_at END,
        last_agent_message_at = CASE WHEN d.public_reply THEN :now::timestamptz ELSE t.last_agent_message_at END,
        message_count = t.message_count + d.has_message::int,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM ok d WHERE t.id = d.id
    RETURNING t.*
),
history AS (
    INSERT INTO assignments (ticket_id, agent_id, team_id, assigned_by, reason, created_at)
    SELECT d.id, d.new_assignee, d.team_id, :agent_id::uuid, 'manual', :now::timestamptz FROM ok d WHERE d.reassigned
),
message AS (
    INSERT INTO ticket_messages (ticket_id, author_type, author_agent_id, visibility, channel, body, attachments,
                                 metadata, created_at)
    SELECT d.id, 'agent', :agent_id::uuid, d.visibility, 'api', d.body, '[]'::jsonb,
           jsonb_build_object('macro_id', :macro_id::uuid, 'macro_name', d.macro_name), :now::timestamptz
    FROM ok d WHERE d.has_message
    RETURNING id, position, ticket_id, author_type, author_agent_id, visibility, channel, created_at
),
policy AS (
    -- a new priority: the ticket's policy is matched again (as change_priority)
    SELECT p.id, p.targets, u.reopen_count
    FROM updated u JOIN ok d ON d.id = u.id JOIN customers c ON c.id = u.requester_id
    CROSS JOIN LATERAL sla_policy_match(c.sla_policy_id, c.tier, u.priority, u.team_id, u.channel) p
    WHERE d.new_priority <> d.old_priority
),
sla_plan AS (
    -- Not apply_sla_transition (migration 1170): a clock is updated once per statement, and here one
    -- UPDATE must carry both the status effect (the subset of that function's rules the macro statuses
    -- reach: meet, pause, cancel on resolve, resume) and the priority's new target (as change_priority).
    -- A function taking both would let this and the transitions share one home (issue 21 follow-up).
    SELECT s.ticket_id, s.kind, s.state,
        CASE
            WHEN s.kind = 'first_response' AND d.first_response AND s.state IN ('running', 'paused') THEN 'meet'
            WHEN s.kind = 'next_reply' AND d.public_reply AND s.state IN ('running', 'paused') THEN 'meet'
            WHEN d.new_status = d.old_status THEN NULL
            WHEN d.new_status = 'waiting_on_customer' AND s.state = 'running' THEN 'pause'
            WHEN d.new_status = 'resolved' AND s.kind = 'resolution' AND s.state IN ('running', 'paused') THEN 'meet'
            WHEN d.new_status = 'resolved' AND s.state IN ('running', 'paused') THEN 'cancel'
            WHEN d.old_status = 'waiting_on_customer' AND s.state = 'paused' THEN 'resume'
        END AS action,
        pol.id AS policy_id,
        pol.targets -> CASE WHEN s.kind = 'resolution' AND pol.reopen_count > 0 AND pol.targets ? 'reopen'
                            THEN 'reopen' ELSE s.kind END AS target
    FROM ok d JOIN sla_targets s ON s.ticket_id = d.id
    LEFT JOIN policy pol ON true
),
sla_changed AS (
    UPDATE sla_targets s SET
        state = CASE a.action WHEN 'meet' THEN 'met' WHEN 'cancel' THEN 'cancelled' WHEN 'pause' THEN 'paused'
                              WHEN 'resume' THEN 'running' ELSE s.state END,
        met_at = CASE WHEN a.action = 'meet' THEN :now::timestamptz ELSE s.met_at END,
        pause_reason = CASE WHEN a.action = 'pause' THEN 'waiting_on_customer' ELSE s.pause_reason END,
        -- re-targeted by a new priority (open clocks only): keep the business time used, as change_priority
        policy_id = CASE WHEN a.target IS NOT NULL AND a.action IS DISTINCT FROM 'meet' AND a.action IS DISTINCT FROM 'cancel'
                         THEN a.policy_id ELSE s.policy_id END,
        target_seconds = CASE WHEN a.target IS NOT NULL AND a.action IS DISTINCT FROM 'meet' AND a.action IS DISTINCT FROM 'cancel'
                              THEN (a.target ->> 'seconds')::int ELSE s.target_seconds END,
        business = CASE WHEN a.target IS NOT NULL AND a.action IS DISTINCT FROM 'meet' AND a.action IS DISTINCT FROM 'cancel'
                        THEN coalesce((a.target ->> 'business')::boolean, true) ELSE s.business END,
        adjust_seconds = CASE WHEN a.target IS NOT NULL AND a.action IS DISTINCT FROM 'meet' AND a.action IS DISTINCT FROM 'cancel'
                                   AND s.due_at IS NOT NULL
                              THEN s.adjust_seconds + (a.target ->> 'seconds')::int - s.target_seconds
                              ELSE s.adjust_seconds END,
        paused_at = CASE WHEN a.action = 'pause' THEN :now::timestamptz
                         -- a running clock re-targeted: its remaining time is measured from now
                         WHEN a.action IS NULL AND a.target IS NOT NULL AND s.state = 'running' AND s.due_at IS NOT NULL
                              AND s.recompute_from IS NULL THEN :now::timestamptz
                         ELSE s.paused_at END,
        recompute_from = CASE WHEN a.action = 'resume' THEN :now::timestamptz
                              WHEN a.action IS NULL AND a.target IS NOT NULL AND s.state = 'running'
                                   AND s.due_at IS NOT NULL AND s.recompute_from IS NULL THEN :now::timestamptz
                              WHEN a.action IN ('meet', 'cancel', 'pause') THEN NULL
                              ELSE s.recompute_from END,
        updated_at = :now::timestamptz
    FROM sla_plan a
    WHERE s.ticket_id = a.ticket_id AND s.kind = a.kind
      AND (a.action IS NOT NULL OR (a.target IS NOT NULL AND s.state IN ('running', 'paused')
                                    AND (s.target_seconds <> (a.target ->> 'seconds')::int
                                         OR s.business <> coalesce((a.target ->> 'business')::boolean, true))))
    RETURNING s.ticket_id, s.kind, s.target_seconds, s.business, s.schedule, s.recompute_from, s.paused_at, s.due_at,
              s.state, s.adjust_seconds
),
events AS (
    SELECT gen_random_uuid() AS id, m.ticket_id, 'ticket.replied' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('message_id', m.id, 'author_type', 'agent', 'visibility', m.visibility, 'channel', m.channel,
                              'number', d.number, 'assignee_id', d.new_assignee, 'first_response', d.first_response,
                              'macro', d.macro_name) AS payload
    FROM message m JOIN ok d ON d.id = m.ticket_id
    UNION ALL
    SELECT gen_random_uuid(), d.id, 'ticket.assigned', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('agent_id', d.new_assignee, 'team_id', d.team_id, 'previous_agent_id', d.old_assignee,
                              'reason', 'macro: ' || d.macro_name, 'number', d.number)
    FROM ok d WHERE d.reassigned
    UNION ALL
    SELECT gen_random_uuid(), d.id, 'ticket.priority_changed', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('from', d.old_priority, 'to', d.new_priority, 'reason', 'macro: ' || d.macro_name,
                              'number', d.number, 'assignee_id', d.new_assignee, 'team_id', d.team_id)
    FROM ok d WHERE d.new_priority <> d.old_priority
    UNION ALL
    SELECT gen_random_uuid(), d.id, 'ticket.tags_changed', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object(
               'added', (SELECT coalesce(jsonb_agg(value), '[]'::jsonb) FROM jsonb_array_elements_text(d.new_tags)
                         WHERE NOT d.old_tags ? value),
               'removed', (SELECT coalesce(jsonb_agg(value), '[]'::jsonb) FROM jsonb_array_elements_text(d.old_tags)
                           WHERE NOT d.new_tags ? value),
               'tags', d.new_tags, 'reason', 'macro: ' || d.macro_name, 'number', d.number,
               'assignee_id', d.new_assignee, 'team_id', d.team_id)
    FROM ok d WHERE d.new_tags <> d.old_tags
    UNION ALL
    SELECT gen_random_uuid(), d.id, 'ticket.status_changed', :actor_type, :actor_id::uuid, d.old_status, d.new_status,
           jsonb_build_object('from', d.old_status, 'to', d.new_status, 'reason', 'macro: ' || d.macro_name,
                              'number', d.number, 'assignee_id', d.new_assignee, 'team_id', d.team_id)
    FROM ok d WHERE d.new_status <> d.old_status
    UNION ALL
    SELECT gen_random_uuid(), m.ticket_id, 'outbound.requested', :actor_type, :actor_id::uuid, NULL, NULL,
           jsonb_build_object('message_id', m.id, 'channel', d.channel, 'number', d.number)
    FROM message m JOIN ok d ON d.id = m.ticket_id WHERE m.visibility = 'public'
),
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT tg.status AS current_status, tg.merged_into_id,
       EXISTS (SELECT 1 FROM macro) AS macro_found,
       (SELECT refused FROM decision) AS refused,
       (SELECT assigned_status FROM decision) AS assigned_status,
       (SELECT new_status FROM decision) AS wanted_status,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT to_jsonb(m) FROM message m) AS message,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events,
       (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM sla_changed p WHERE p.recompute_from IS NOT NULL)
           AS pending_sla
FROM target tg
""", params=ApplyMacroParams, row=ApplyMacroRow)

"""SQL for routing rules and assignment (helpdesk.routing). One statement per command.

Assignment statements leave their trail through record_assignments (migration 1170), as the manual
assign does, so a pushed, pulled or back-filled ticket leaves exactly the trail a manual assign does:
an assignments row, the SLA effects, an audit event and an outbox event, in the same statement.
The agent for a push is picked by routing_pick_agent() (migration 0200), under the team-row lock.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow


# Statuses whose unassigned tickets wait in a team's queue (index tickets_routing_queue); the
# queue statements here and in helpdesk.db.views write them out.
QUEUE_STATUSES = "('new', 'reopened', 'in_progress')"

# -- rules -------------------------------------------------------------------------------------

LIST_RULES = """
SELECT id, name, position, is_active, conditions, team_id, add_tags, created_at, updated_at FROM routing_rules
ORDER BY position, created_at, id
"""

GET_RULE = """
SELECT id, name, position, is_active, conditions, team_id, add_tags, created_at, updated_at FROM routing_rules WHERE id = :id::uuid
"""

INSERT_RULE = """
WITH r AS (
    INSERT INTO routing_rules (name, position, is_active, conditions, team_id, add_tags, created_at, updated_at)
    SELECT :name, coalesce(:position::int, (SELECT coalesce(max(position), 0) + 10 FROM routing_rules)),
           :is_active, :conditions::jsonb, :team_id::uuid, :add_tags::jsonb, :now::timestamptz, :now::timestamptz
    RETURNING id, name, position, is_active, conditions, team_id, add_tags, created_at, updated_at
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, r.id::text) AS id FROM r)
SELECT r.*, (SELECT count(*) FROM audited) AS audited FROM r
"""

UPDATE_RULE = """
WITH r AS (
    UPDATE routing_rules SET
        name = coalesce(:name::text, name),
        position = coalesce(:position::int, position),
        is_active = coalesce(:is_active::boolean, is_active),
        conditions = coalesce(:conditions::jsonb, conditions),
        team_id = coalesce(:team_id::uuid, team_id),
        add_tags = coalesce(:add_tags::jsonb, add_tags),
        updated_at = :now::timestamptz
    WHERE id = :id::uuid
    RETURNING id, name, position, is_active, conditions, team_id, add_tags, created_at, updated_at
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, r.id::text) AS id FROM r)
SELECT r.*, (SELECT count(*) FROM audited) AS audited FROM r
"""

DELETE_RULE = """
WITH r AS (DELETE FROM routing_rules WHERE id = :id::uuid RETURNING id),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, r.id::text) AS id FROM r)
SELECT r.id, (SELECT count(*) FROM audited) AS audited FROM r
"""

# Everything routing decides with, in one read: the active rules in order, and every team with its
# mode, default flag and schedule document. One row per rule/team (no row nears the 64 KB limit).
LOAD_CONFIG = """
SELECT 'rule' AS kind, to_jsonb(r) AS doc FROM (
    SELECT id, name, position, is_active, conditions, team_id, add_tags, created_at, updated_at FROM routing_rules WHERE is_active ORDER BY position, created_at, id) r
UNION ALL
SELECT 'team', jsonb_build_object('id', t.id, 'name', t.name, 'assignment_mode', t.assignment_mode,
                                  'is_default', t.is_default, 'schedule', s.document)
FROM teams t LEFT JOIN schedules s ON s.id = t.schedule_id
"""

# The tier of a (possibly new) address: its own, or its organization's (migration 1200).
CUSTOMER_TIER = "SELECT tier FROM customer_effective_terms(:email)"

# -- assignment --------------------------------------------------------------------------------
class AssignmentActor(TypedDict):
    now: datetime
    assigned_by: Any                  # the agent who assigned (None for routing)
    actor_type: str
    actor_id: Any


class ClaimNextParams(AssignmentActor):
    agent_id: Any


class ClaimNextRow(CommandRow):
    agent_exists: bool


class PushParams(AssignmentActor):
    ticket_id: Any
    kind: str                         # queued | reopened
    reason: str                       # pushed | backfill
    off_shift: JsonValue              # ids of the teams off shift now


class PushRow(CommandRow):
    subject: dict[str, Any] | None    # the ticket as it was (None: not found or not eligible)


class BackfillParams(AssignmentActor):
    team_id: Any                      # one team, or None for every push/round-robin team
    off_shift: JsonValue
    limit: int


class BackfillRow(TypedDict):
    assigned: int
    pending_sla: list[dict[str, Any]]
    event: dict[str, Any] | None      # one row per event (None when there are none)




# Pull: the agent's next ticket. Highest priority, then oldest, unassigned ticket of any of the
# agent's teams; SKIP LOCKED so concurrent claimers never wait on (or take) the same row. A row
# another claimer committed meanwhile fails the re-check of the WHERE clause and the next one is
# taken. Pull ignores capacity: the agent asks for the work.
CLAIM_NEXT = Statement("""
WITH agent AS (SELECT id FROM agents WHERE id = :agent_id::uuid AND is_active),
target AS (
    SELECT t.id, t.status, t.assignee_id FROM tickets t
    WHERE t.team_id IN (SELECT m.team_id FROM team_members m JOIN agent a ON a.id = m.agent_id)
      AND t.assignee_id IS NULL AND t.status IN ('new', 'reopened', 'in_progress')
    ORDER BY t.priority_rank, t.created_at, t.id
    LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED
),
updated AS (
    UPDATE tickets t SET
        assignee_id = :agent_id::uuid,
        status = CASE t.status WHEN 'new' THEN 'assigned' WHEN 'in_progress' THEN 'assigned' ELSE t.status END,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM target tg WHERE t.id = tg.id AND t.assignee_id IS NULL
    RETURNING t.*, tg.status AS old_status, tg.assignee_id AS old_assignee
),
stamp AS (
    UPDATE agents SET last_assigned_at = :now::timestamptz WHERE id = (SELECT assignee_id FROM updated)
),
recorded AS (
    -- the history row, SLA effects and events every assignment leaves (migration 1170)
    SELECT r.kind, r.doc FROM record_assignments(
        (SELECT jsonb_agg(to_jsonb(u) || jsonb_build_object('reason', 'pulled'::text)) FROM updated u),
        :assigned_by::uuid, :actor_type, :actor_id::uuid, :now::timestamptz) r
)
SELECT EXISTS (SELECT 1 FROM agent) AS agent_exists,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(r.doc ORDER BY (r.doc ->> 'seq')::bigint), '[]'::jsonb) FROM recorded r WHERE r.kind = 'event') AS events,
       (SELECT coalesce(jsonb_agg(r.doc), '[]'::jsonb) FROM recorded r WHERE r.kind = 'pending_sla') AS pending_sla
""", params=ClaimNextParams, row=ClaimNextRow)

# Push one existing ticket (:ticket_id). Lock order everywhere: the ticket, then the team row, then
# the agent row (routing_backfill locks its teams first but never waits for a ticket or an agent).
#
# :kind 'queued'   - only an unassigned ticket in a queue status is pushed;
#       'reopened' - only when the current assignee is unavailable (inactive, away, left the team):
#                    pushed to another eligible agent, or unassigned into the queue.
PUSH = Statement("""
WITH subject AS (
    SELECT t.id, t.status, t.team_id, t.tags, t.assignee_id, t.priority_rank, t.created_at FROM tickets t
    WHERE t.id = :ticket_id::uuid
      AND (:kind <> 'reopened' OR t.status IN ('assigned', 'in_progress', 'reopened'))
    FOR NO KEY UPDATE
),
owner_unavailable AS (
    SELECT s.id FROM subject s LEFT JOIN agents a ON a.id = s.assignee_id
    WHERE :kind = 'reopened' AND s.assignee_id IS NOT NULL
      AND (a.id IS NULL OR NOT a.is_active OR routing_is_away(a.ooo_start, a.ooo_end, :now::timestamptz)
           OR (s.team_id IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM team_members m WHERE m.team_id = s.team_id AND m.agent_id = s.assignee_id)))
),
eligible AS (
    SELECT s.* FROM subject s
    WHERE (:kind = 'queued' AND s.assignee_id IS NULL AND s.status IN ('new', 'reopened', 'in_progress'))
       OR s.id IN (SELECT id FROM owner_unavailable)
),
pick AS (
    SELECT e.id, routing_pick_agent(e.team_id, e.tags, :now::timestamptz, 
                                       -- on shift: not in the application's list of teams off shift now
                                       NOT (e.team_id::text IN (SELECT jsonb_array_elements_text(:off_shift::jsonb)))) AS agent_id
    FROM eligible e
),
updated AS (
    UPDATE tickets t SET
        assignee_id = p.agent_id,
        status = CASE WHEN p.agent_id IS NOT NULL AND t.status IN ('new', 'in_progress') THEN 'assigned' ELSE t.status END,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM pick p JOIN subject s ON s.id = p.id
    WHERE t.id = p.id AND (p.agent_id IS NOT NULL OR s.assignee_id IS NOT NULL)
    RETURNING t.*, s.status AS old_status, s.assignee_id AS old_assignee
),
recorded AS (
    -- the history row, SLA effects and events every assignment leaves (migration 1170)
    SELECT r.kind, r.doc FROM record_assignments(
        (SELECT jsonb_agg(to_jsonb(u) || jsonb_build_object('reason', CASE WHEN :kind = 'reopened' THEN 'reopened'
                                                              WHEN :reason <> 'pushed' THEN :reason
                                                              WHEN (SELECT tm.assignment_mode FROM teams tm
                                                                    WHERE tm.id = u.team_id) = 'round_robin'
                                                                  THEN 'round_robin'
                                                              ELSE 'pushed' END)) FROM updated u),
        :assigned_by::uuid, :actor_type, :actor_id::uuid, :now::timestamptz) r
)
SELECT (SELECT to_jsonb(s) FROM subject s) AS subject,
       (SELECT to_jsonb(u) - 'priority_rank' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(r.doc ORDER BY (r.doc ->> 'seq')::bigint), '[]'::jsonb) FROM recorded r WHERE r.kind = 'event') AS events,
       (SELECT coalesce(jsonb_agg(r.doc), '[]'::jsonb) FROM recorded r WHERE r.kind = 'pending_sla') AS pending_sla
""", params=PushParams, row=PushRow)

# Back-fill: queued tickets of every push/round-robin team on shift (or just :team_id) to agents with
# free capacity, at most :limit per call, planned and written by routing_backfill() (migration 1110)
# under the same locks a push takes; this statement adds the history rows, audit and outbox events
# a push writes (reason 'backfill'). One call whatever the queue's size.
BACKFILL = Statement("""
WITH written AS (
    SELECT b.ticket, b.old_status FROM routing_backfill(:now::timestamptz, :off_shift::jsonb, :team_id::uuid, :limit::int) b
),
updated AS (
    SELECT r.*, w.old_status, NULL::uuid AS old_assignee
    FROM written w CROSS JOIN LATERAL jsonb_populate_record(NULL::tickets, w.ticket) r
),
recorded AS (
    -- the history row, SLA effects and events every assignment leaves (migration 1170)
    SELECT r.kind, r.doc FROM record_assignments(
        (SELECT jsonb_agg(to_jsonb(u) || jsonb_build_object('reason', 'backfill'::text)) FROM updated u),
        :assigned_by::uuid, :actor_type, :actor_id::uuid, :now::timestamptz) r
)
-- One row per event (a batch's events would not fit the Data API's 64 KB row limit as one array).
SELECT (SELECT count(*) FROM updated) AS assigned,
       (SELECT coalesce(jsonb_agg(r.doc), '[]'::jsonb) FROM recorded r WHERE r.kind = 'pending_sla') AS pending_sla,
       e.doc AS event
FROM (SELECT 1) one LEFT JOIN recorded e ON e.kind = 'event'
ORDER BY (e.doc ->> 'seq')::bigint
""", params=BackfillParams, row=BackfillRow)

# -- out of office -----------------------------------------------------------------------------
SET_OUT_OF_OFFICE = """
WITH delegate AS (SELECT id FROM agents WHERE id = :delegate_id::uuid AND is_active),
updated AS (
    UPDATE agents SET ooo_start = :start::timestamptz, ooo_end = :end::timestamptz,
           ooo_delegate_id = (SELECT id FROM delegate), ooo_handed_over_at = NULL, updated_at = :now::timestamptz
    WHERE id = :agent_id::uuid AND (:delegate_id::uuid IS NULL OR EXISTS (SELECT 1 FROM delegate))
    RETURNING id, ooo_start, ooo_end, ooo_delegate_id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, u.id::text) AS id FROM updated u)
SELECT EXISTS (SELECT 1 FROM agents WHERE id = :agent_id::uuid) AS agent_exists,
       EXISTS (SELECT 1 FROM delegate) AS delegate_ok,
       (SELECT to_jsonb(u) FROM updated u) AS agent, (SELECT count(*) FROM audited) AS audited
"""

CLEAR_OUT_OF_OFFICE = """
WITH cleared AS (
    UPDATE agents SET ooo_start = NULL, ooo_end = NULL, ooo_delegate_id = NULL, ooo_handed_over_at = NULL,
           updated_at = :now::timestamptz
    WHERE id = :agent_id::uuid
    RETURNING id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, c.id::text) AS id FROM cleared c)
SELECT c.id, (SELECT count(*) FROM audited) AS audited FROM cleared c
"""

# Hands every open ticket held by an agent who is away now to their delegate (when the delegate is
# active and not away too) or back to the team queue, reason vacation_handover. Runs every sweep,
# so a ticket that comes back to an away agent later (a reopen) moves on as well. The first run of
# an absence also writes agent.out_of_office_started (ticket_id NULL) for the notifier.
class HandOverParams(TypedDict):
    now: datetime
    agent_id: Any                     # one agent, or None for everyone away now
    limit: int


class HandOverRow(TypedDict):
    agents_away: int
    absences_started: int
    tickets_moved: int
    to_delegates: int
    events_written: int


HAND_OVER = Statement("""
WITH away AS (
    SELECT a.id, a.ooo_delegate_id, a.ooo_end, a.ooo_handed_over_at IS NULL AS first_time FROM agents a
    WHERE a.ooo_start IS NOT NULL AND a.ooo_start <= :now::timestamptz
      AND (a.ooo_end IS NULL OR :now::timestamptz < a.ooo_end)
      AND (:agent_id::uuid IS NULL OR a.id = :agent_id::uuid)
      -- only absences with work left, so a page of `limit` never fills up with finished ones
      AND (a.ooo_handed_over_at IS NULL
           OR EXISTS (SELECT 1 FROM tickets t WHERE t.assignee_id = a.id AND t.status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened')))
    ORDER BY a.id
    LIMIT :limit
    FOR NO KEY UPDATE
),
plan AS (
    SELECT aw.id AS agent_id, aw.first_time, aw.ooo_end, d.id AS delegate_id FROM away aw
    LEFT JOIN agents d ON d.id = aw.ooo_delegate_id AND d.is_active AND NOT routing_is_away(d.ooo_start, d.ooo_end, :now::timestamptz)
),
held AS (
    SELECT t.id, t.status, t.assignee_id FROM tickets t
    WHERE t.assignee_id IN (SELECT agent_id FROM plan) AND t.status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened')
    ORDER BY t.id
    FOR NO KEY UPDATE
),
updated AS (
    UPDATE tickets t SET
        assignee_id = p.delegate_id,
        status = CASE WHEN p.delegate_id IS NULL AND h.status = 'assigned' THEN 'new'
                      WHEN p.delegate_id IS NOT NULL AND h.status = 'in_progress' THEN 'assigned'
                      ELSE h.status END,
        updated_at = :now::timestamptz,
        version = t.version + 1
    FROM held h JOIN plan p ON p.agent_id = h.assignee_id
    WHERE t.id = h.id
    RETURNING t.*, h.status AS old_status, h.assignee_id AS old_assignee
),
history AS (
    INSERT INTO assignments (ticket_id, agent_id, team_id, reason, created_at)
    SELECT u.id, u.assignee_id, u.team_id, 'vacation_handover', :now::timestamptz FROM updated u
),
marked AS (
    UPDATE agents SET ooo_handed_over_at = :now::timestamptz
    WHERE id IN (SELECT agent_id FROM plan WHERE first_time)
),
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.assigned' AS event_type, 'system' AS actor_type,
           NULL::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object('agent_id', u.assignee_id, 'team_id', u.team_id, 'previous_agent_id', u.old_assignee,
                              'reason', 'vacation_handover', 'number', u.number) AS payload
    FROM updated u
    UNION ALL
    SELECT gen_random_uuid(), u.id, 'ticket.status_changed', 'system', NULL::uuid, u.old_status, u.status,
           jsonb_build_object('from', u.old_status, 'to', u.status, 'reason', 'vacation_handover', 'number', u.number)
    FROM updated u WHERE u.old_status <> u.status
    UNION ALL
    SELECT gen_random_uuid(), NULL::uuid, 'agent.out_of_office_started', 'system', NULL::uuid, NULL, NULL,
           jsonb_build_object('agent_id', p.agent_id, 'delegate_id', p.delegate_id, 'until', p.ooo_end,
                              'tickets_handed_over', (SELECT count(*) FROM updated u WHERE u.old_assignee = p.agent_id),
                              'to_delegate', p.delegate_id IS NOT NULL)
    FROM plan p WHERE p.first_time
),
written AS (
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT (SELECT count(*) FROM away) AS agents_away, (SELECT count(*) FROM plan WHERE first_time) AS absences_started,
       (SELECT count(*) FROM updated) AS tickets_moved,
       (SELECT count(*) FROM updated WHERE assignee_id IS NOT NULL) AS to_delegates,
       (SELECT count(*) FROM written) AS events_written
""", params=HandOverParams, row=HandOverRow)

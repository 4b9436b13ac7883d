"""SQL of the triggers (helpdesk.triggers): the admin's definitions, what one evaluation reads, and the
firing records that make a trigger fire at most once per event and stop chains of trigger actions."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement


class TriggerRow(TypedDict):
    id: str
    name: str
    description: str | None
    position: int
    is_active: bool
    events: list[str]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    created_by: str | None
    updated_by: str | None
    created_at: datetime
    updated_at: datetime


class NoParams(TypedDict):
    pass


class TriggerIdParams(TypedDict):
    id: Any


class IdRow(TypedDict):
    id: str


class AdminChangeParams(TypedDict):
    audit: JsonValue                 # the change's admin audit entry (helpdesk.admin.audit.entry)
    now: datetime


class TriggerWriteParams(AdminChangeParams):
    name: str | None
    description: str | None
    position: int | None
    is_active: bool | None
    events: JsonValue
    conditions: JsonValue
    actions: JsonValue
    actor_id: Any                    # the admin who made the change (created_by / updated_by)


class TriggerUpdateParams(TriggerWriteParams):
    id: Any
    clear_description: bool          # description given as null: remove it


class TriggerDeleteParams(TriggerIdParams, AdminChangeParams):
    pass


class TriggerWrittenRow(TriggerRow):
    audited: int                     # admin audit rows written (1)


class IdWrittenRow(IdRow):
    audited: int

LIST_TRIGGERS = Statement("""
SELECT id, name, description, position, is_active, events, conditions, actions, created_by, updated_by,
       created_at, updated_at
FROM triggers ORDER BY position, name
""", params=NoParams, row=TriggerRow)

GET_TRIGGER = Statement("""
SELECT id, name, description, position, is_active, events, conditions, actions, created_by, updated_by,
       created_at, updated_at
FROM triggers WHERE id = :id::uuid
""", params=TriggerIdParams, row=TriggerRow)

INSERT_TRIGGER = Statement("""
WITH t AS (
    INSERT INTO triggers (name, description, position, is_active, events, conditions, actions, created_by, updated_by,
                          created_at, updated_at)
    VALUES (:name, :description, :position::int, :is_active, :events::jsonb, :conditions::jsonb, :actions::jsonb,
            :actor_id::uuid, :actor_id::uuid, :now::timestamptz, :now::timestamptz)
    RETURNING id, name, description, position, is_active, events, conditions, actions, created_by, updated_by,
              created_at, updated_at
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, t.id::text) AS id FROM t)
SELECT t.*, (SELECT count(*) FROM audited) AS audited FROM t
""", params=TriggerWriteParams, row=TriggerWrittenRow)

# Only the fields given (non-null parameters) change; description can be cleared with :clear_description.
UPDATE_TRIGGER = Statement("""
WITH t AS (
    UPDATE triggers SET
        name = coalesce(:name, name),
        description = CASE WHEN :clear_description THEN NULL ELSE coalesce(:description, description) END,
        position = coalesce(:position::int, position),
        is_active = coalesce(:is_active::boolean, is_active),
        events = coalesce(:events::jsonb, events),
        conditions = coalesce(:conditions::jsonb, conditions),
        actions = coalesce(:actions::jsonb, actions),
        updated_by = :actor_id::uuid,
        updated_at = :now::timestamptz
    WHERE id = :id::uuid
    RETURNING id, name, description, position, is_active, events, conditions, actions, created_by, updated_by,
              created_at, updated_at
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, t.id::text) AS id FROM t)
SELECT t.*, (SELECT count(*) FROM audited) AS audited FROM t
""", params=TriggerUpdateParams, row=TriggerWrittenRow)

DELETE_TRIGGER = Statement("""
WITH t AS (DELETE FROM triggers WHERE id = :id::uuid RETURNING id),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, t.id::text) AS id FROM t)
SELECT t.id, (SELECT count(*) FROM audited) AS audited FROM t
""", params=TriggerDeleteParams, row=IdWrittenRow)

# The active triggers in evaluation order, a page at a time: as many as fit in :max_bytes of the Data
# API's 1 MiB response (at least one; one page for any realistic set: a definition is at most 16 KB),
# starting after (:after_position, :after_name). `remaining` counts the active triggers from the page
# on: fewer rows than that means another page follows.
class ActivePageParams(TypedDict):
    after_position: int | None
    after_name: str | None
    max_bytes: int


class ActivePageRow(TriggerRow):
    remaining: int


ACTIVE_TRIGGERS_PAGE = Statement("""
SELECT id, name, description, position, is_active, events, conditions, actions, created_by, updated_by,
       created_at, updated_at, remaining
FROM (
    SELECT t.*,
           sum(octet_length(t.events::text) + octet_length(t.conditions::text) + octet_length(t.actions::text)
               + octet_length(t.name) + coalesce(octet_length(t.description), 0) + 200)
               OVER (ORDER BY t.position, t.name) AS running_bytes,
           row_number() OVER (ORDER BY t.position, t.name) AS n,
           count(*) OVER () AS remaining
    FROM triggers t
    WHERE t.is_active AND (:after_name::text IS NULL OR (t.position, t.name) > (:after_position::int, :after_name::text))
) page
WHERE running_bytes <= :max_bytes::int OR n = 1
ORDER BY position, name
""", params=ActivePageParams, row=ActivePageRow)

# What one evaluation needs, in one read: the ticket as conditions see it (with the text of the
# event's message, else the latest customer message), the chain the event belongs to, and the
# triggers that already fired for this event, in this chain on this ticket, or for another event of
# the same change (:event_at, the instant one command wrote its events at).
# The chain: the row a firing recorded for the events its actions wrote; when that record is missing
# (the worker stopped between the action and the record) the event's audit row names the trigger
# that wrote it, and that trigger's latest firing on the ticket gives the chain.
class ContextParams(TypedDict):
    ticket_id: Any                   # the ticket by id, or
    number: int | None               # by number (the dry run's TKT-n)
    event_id: Any                    # None in a dry run
    event_at: datetime | None
    message_id: Any                  # the message the event is about (else the latest customer message)
    body_chars: int


class ContextRow(TypedDict):
    ticket: dict[str, Any]
    chain_id: str | None
    depth: int
    event_firings: list[dict[str, Any]]
    chain_triggers: list[str]
    change_triggers: list[str]


EVALUATION_CONTEXT = Statement("""
WITH t AS (
    SELECT * FROM tickets
    WHERE (:ticket_id::uuid IS NOT NULL AND id = :ticket_id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint)
),
recorded AS (
    SELECT chain_id, depth FROM trigger_chain_events WHERE event_id = :event_id::uuid
),
inferred AS (
    SELECT f.chain_id, f.depth + 1 AS depth
    FROM ticket_audit a JOIN trigger_firings f ON f.trigger_id = a.actor_id AND f.ticket_id = a.ticket_id
    WHERE :event_id::uuid IS NOT NULL AND a.event_id = :event_id::uuid AND a.actor_type = 'trigger' AND NOT EXISTS (SELECT 1 FROM recorded)
    ORDER BY f.fired_at DESC LIMIT 1
),
link AS (SELECT * FROM recorded UNION ALL SELECT * FROM inferred),
message AS (
    SELECT left(m.body, :body_chars::int) AS body FROM ticket_messages m, t
    WHERE m.ticket_id = t.id
      AND ((:message_id::uuid IS NOT NULL AND m.id = :message_id::uuid)
           OR (:message_id::uuid IS NULL AND m.author_type = 'customer'))
    ORDER BY m.position DESC LIMIT 1
)
SELECT jsonb_build_object(
           'id', t.id, 'number', t.number, 'subject', t.subject, 'status', t.status, 'priority', t.priority,
           'channel', t.channel, 'tags', t.tags, 'team_id', t.team_id, 'assignee_id', t.assignee_id,
           'created_at', t.created_at, 'updated_at', t.updated_at, 'last_customer_message_at', t.last_customer_message_at,
           'tier', c.tier, 'requester_email', c.email, 'requester_name', c.name,
           'team_name', tm.name, 'team_address', tm.email_address,
           'body', (SELECT body FROM message)) AS ticket,
       (SELECT chain_id FROM link) AS chain_id,
       coalesce((SELECT depth FROM link), 0) AS depth,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('trigger_id', f.trigger_id, 'state', f.state)), '[]'::jsonb)
        FROM trigger_firings f WHERE f.event_id = :event_id::uuid) AS event_firings,
       (SELECT coalesce(jsonb_agg(DISTINCT f.trigger_id), '[]'::jsonb) FROM trigger_firings f
        WHERE f.chain_id = (SELECT chain_id FROM link) AND f.ticket_id = t.id) AS chain_triggers,
       -- the other events of the same change (one command writes them all at one instant)
       (SELECT coalesce(jsonb_agg(DISTINCT f.trigger_id), '[]'::jsonb) FROM trigger_firings f
        WHERE f.ticket_id = t.id AND f.event_at = :event_at::timestamptz AND f.event_id <> :event_id::uuid) AS change_triggers
FROM t JOIN customers c ON c.id = t.requester_id LEFT JOIN teams tm ON tm.id = t.team_id
""", params=ContextParams, row=ContextRow)

# The claim, taken for every trigger that fires before any action runs: a new row, or one whose
# worker's lease ran out (it resumes after `progress`). A row back is this worker's to carry out.
class ClaimParams(TypedDict):
    trigger_ids: JsonValue
    event_id: Any
    ticket_id: Any
    event_at: datetime
    chain_id: Any
    depth: int
    now: datetime
    lease_until: datetime


class ClaimRow(TypedDict):
    trigger_id: str
    progress: int
    outcomes: list[dict[str, Any]]


CLAIM_FIRINGS = Statement("""
INSERT INTO trigger_firings (trigger_id, event_id, ticket_id, event_at, chain_id, depth, state, lease_until, fired_at)
SELECT tr.id, :event_id::uuid, :ticket_id::uuid, :event_at::timestamptz, :chain_id::uuid, :depth::int, 'acting',
       :lease_until::timestamptz, :now::timestamptz
FROM triggers tr WHERE tr.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:trigger_ids::jsonb))
ON CONFLICT (trigger_id, event_id) DO UPDATE SET lease_until = EXCLUDED.lease_until
    WHERE trigger_firings.state = 'acting'
      AND (trigger_firings.lease_until IS NULL OR trigger_firings.lease_until < :now::timestamptz)
RETURNING trigger_id, progress, outcomes
""", params=ClaimParams, row=ClaimRow)

# Settles what this worker carried out: finished firings are done (with an audit row each, whose id is
# derived from the firing so it is written once), a firing stopped by a retryable failure keeps its
# progress and no lease (the redelivery resumes it), and the events the actions wrote join the chain.
class SettleParams(TypedDict):
    firings: JsonValue               # [{trigger_id, name, state, progress, outcomes}]
    caused: JsonValue                # [{event_id, trigger_id}]: the events the actions wrote
    event_id: str
    ticket_id: Any
    event_name: str
    chain_id: Any
    depth: int
    now: datetime


class SettleRow(TypedDict):
    settled: int


SETTLE_FIRINGS = Statement("""
WITH s AS (
    SELECT * FROM jsonb_to_recordset(:firings::jsonb)
        AS s(trigger_id uuid, name text, state text, progress int, outcomes jsonb)
),
settled AS (
    UPDATE trigger_firings f SET
        state = s.state, progress = s.progress, outcomes = s.outcomes,
        lease_until = NULL,  -- done, or released for the redelivery to resume
        finished_at = CASE WHEN s.state = 'done' THEN :now::timestamptz END
    FROM s WHERE f.trigger_id = s.trigger_id AND f.event_id = :event_id::uuid AND f.state = 'acting'
    RETURNING f.trigger_id
),
chained AS (
    INSERT INTO trigger_chain_events (event_id, chain_id, depth, trigger_id, created_at)
    SELECT e.event_id, :chain_id::uuid, :depth::int + 1, e.trigger_id, :now::timestamptz
    FROM jsonb_to_recordset(:caused::jsonb) AS e(event_id uuid, trigger_id uuid)
    ON CONFLICT (event_id) DO NOTHING
),
audit AS (
    INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, actor_id, data, occurred_at)
    SELECT md5('trigger.fired:' || s.trigger_id::text || ':' || :event_id)::uuid, :ticket_id::uuid, 'trigger.fired',
           'trigger', s.trigger_id,
           jsonb_build_object('trigger', s.name, 'event_id', :event_id::text, 'event', :event_name::text,
                              'chain_id', :chain_id::text, 'depth', :depth::int, 'outcomes', s.outcomes),
           :now::timestamptz
    FROM s WHERE s.state = 'done' AND s.trigger_id IN (SELECT trigger_id FROM settled)
    ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*) AS settled FROM settled
""", params=SettleParams, row=SettleRow)

# The chain reached its depth limit: the triggers that would have fired did not; written once per event.
class ChainStoppedParams(TypedDict):
    event_id: str
    ticket_id: Any
    event_name: str
    chain_id: str
    depth: int
    limit: int
    triggers: JsonValue
    now: datetime


class ChainStoppedRow(TypedDict):
    event_id: str


CHAIN_STOPPED = Statement("""
INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, actor_id, data, occurred_at)
VALUES (md5('trigger.chain_stopped:' || :event_id)::uuid, :ticket_id::uuid, 'trigger.chain_stopped', 'system', NULL,
        jsonb_build_object('event_id', :event_id::text, 'event', :event_name::text, 'chain_id', :chain_id::text,
                           'depth', :depth::int, 'limit', :limit::int, 'triggers', :triggers::jsonb),
        :now::timestamptz)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
""", params=ChainStoppedParams, row=ChainStoppedRow)

# Who a team or agent-set mail goes to: active agents, by id or by team membership.
class RecipientsParams(TypedDict):
    agent_ids: JsonValue
    team_id: Any


class RecipientRow(TypedDict):
    id: str
    email: str
    name: str


MAIL_RECIPIENTS = Statement("""
SELECT a.id, a.email, a.name FROM agents a
WHERE a.is_active
  AND (a.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:agent_ids::jsonb))
       OR a.id IN (SELECT tm.agent_id FROM team_members tm WHERE tm.team_id = :team_id::uuid))
ORDER BY a.email
""", params=RecipientsParams, row=RecipientRow)

# A trigger's recent firings, newest first (the console's history of a trigger).
class RecentFiringsParams(TypedDict):
    trigger_id: Any
    limit: int


class FiringRow(TypedDict):
    event_id: str
    ticket_id: str
    number: int
    chain_id: str
    depth: int
    state: str
    outcomes: list[dict[str, Any]]
    fired_at: datetime
    finished_at: datetime | None


RECENT_FIRINGS = Statement("""
SELECT f.event_id, f.ticket_id, t.number, f.chain_id, f.depth, f.state, f.outcomes, f.fired_at, f.finished_at
FROM trigger_firings f JOIN tickets t ON t.id = f.ticket_id
WHERE f.trigger_id = :trigger_id::uuid
ORDER BY f.fired_at DESC LIMIT :limit::int
""", params=RecentFiringsParams, row=FiringRow)

# Forget firings and chain links older than any redelivery can be (SQS keeps messages 14 days at most).
class PruneParams(TypedDict):
    before: datetime


class PruneRow(TypedDict):
    deleted: int


PRUNE = Statement("""
WITH firings AS (DELETE FROM trigger_firings WHERE state = 'done' AND finished_at < :before::timestamptz RETURNING 1),
links AS (DELETE FROM trigger_chain_events WHERE created_at < :before::timestamptz RETURNING 1)
SELECT (SELECT count(*) FROM firings) + (SELECT count(*) FROM links) AS deleted
""", params=PruneParams, row=PruneRow)

"""Creating a ticket (one statement: customer, ticket, first message, routing, SLA, events)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow


class CreateTicketParams(TypedDict):
    ticket_id: uuid.UUID
    now: datetime
    requester_email: str
    requester_name: str | None
    subject: str
    priority: str
    channel: str
    team_id: Any                      # uuid or None; ignored when `route` is given
    route: JsonValue                # per tier: {team_id, on_shift} (helpdesk.routing.intake)
    sla_plan: JsonValue             # per tier: the predicted policy and deadlines (helpdesk.sla.cache)
    tags: JsonValue
    parent_ticket_id: Any
    possible_followup_of: Any
    channel_thread_id: str | None
    body: str
    body_full: str | None
    body_html: str | None
    inbound_message_id: str | None
    attachments: JsonValue
    metadata: JsonValue
    participants: JsonValue
    idem_scope: str | None
    idem_key: str | None
    idem_hash: str | None
    actor_type: str
    actor_id: Any


class CreateTicketRow(CommandRow):
    sla_stale: bool                   # the cached SLA configuration predicted another policy: refresh it


CREATE_TICKET = Statement("""
WITH push AS (
    -- Routing (helpdesk.routing.intake passes :route: per tier, team_id and on_shift): the team for the
    -- requester's tier and, when that team pushes, its agent, picked by routing_pick_agent (migration
    -- 0200) under the team-row lock. Evaluated first (`customer` reads it) so the team lock comes
    -- before any other row lock. Without :route: the given :team_id and no push.
    -- The route's tags (the ticket's own plus its rule's add_tags) replace :tags when given.
    SELECT r.team_id, coalesce(r.tags, :tags::jsonb) AS tags,
           routing_pick_agent(r.team_id, coalesce(r.tags, :tags::jsonb), :now::timestamptz, r.on_shift) AS agent_id
    -- The tier: the customer's, or for a new address its organization's (customer_effective_terms, migration 1200).
    FROM (SELECT coalesce(:route::jsonb -> (SELECT tier FROM customer_effective_terms(:requester_email)),
                          jsonb_build_object('team_id', :team_id::uuid)) AS choice) ch
    CROSS JOIN LATERAL jsonb_to_record(ch.choice) AS r(team_id uuid, on_shift boolean, tags jsonb)
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
    SELECT :ticket_id::uuid, :subject, :priority, :channel, c.id, p.team_id, p.tags, :parent_ticket_id::uuid,
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
written AS (
    -- the events in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT to_jsonb(t) - 'priority_rank' AS ticket, (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events, (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb) FROM sla p WHERE p.recompute_from IS NOT NULL) AS pending_sla,
       coalesce((SELECT stale FROM sla_check), false) AS sla_stale
FROM ticket t
""", params=CreateTicketParams, row=CreateTicketRow)


class IdempotencyKey(TypedDict):
    idem_scope: str
    idem_key: str


class ReplayRow(TypedDict):
    request_hash: str
    ticket: dict[str, Any]


# The ticket an earlier request with the same Idempotency-Key created.
IDEMPOTENT_REPLAY = Statement("""
SELECT k.request_hash, to_jsonb(t) - 'priority_rank' AS ticket
FROM idempotency_keys k JOIN tickets t ON t.id = k.ticket_id
WHERE k.scope = :idem_scope AND k.key = :idem_key
""", params=IdempotencyKey, row=ReplayRow)


class InboundMessageId(TypedDict):
    inbound_message_id: str


class ReceivedRow(TypedDict):
    ticket: dict[str, Any]
    message_id: str


# The ticket a redelivered message already reached.
TICKET_BY_INBOUND_MESSAGE_ID = Statement("""
SELECT to_jsonb(t) - 'priority_rank' AS ticket, m.id AS message_id
FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
WHERE m.inbound_message_id = :inbound_message_id
""", params=InboundMessageId,
                                         row=ReceivedRow)

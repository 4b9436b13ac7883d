"""SQL for what the ticket page shows beside the conversation (helpdesk.tickets.context): the
activity log over the audit trail, and the customer panel. Each is one read."""
from __future__ import annotations

from typing import Any, TypedDict

from helpdesk.db.statement import Statement


class TicketKeyParams(TypedDict):
    id: Any                           # the ticket by id, or
    number: int | None                # by number (TKT-n)
    limit: int


class ActivityRow(TypedDict):
    ticket_id: str
    status: str
    merged_into_id: str | None
    items: list[dict[str, Any]]       # id, type, at, actor_type, actor_id, actor_name, from_status, to_status, data


class CustomerPanelRow(TypedDict):
    ticket_id: str
    status: str
    merged_into_id: str | None
    requester: dict[str, Any] | None
    open_tickets: list[dict[str, Any]]
    recent_tickets: list[dict[str, Any]]
    related: list[dict[str, Any]]     # relation: parent, possible_followup_of, duplicate_of, followup, merged_from

# The ticket's audit rows that are not messages (status, assignment, priority, tags, merge, SLA
# events), oldest first, with the actor's name. Message events are the conversation itself.
ACTIVITY = Statement("""
WITH t AS (SELECT id, status, merged_into_id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT coalesce(jsonb_agg(e.doc ORDER BY e.id), '[]'::jsonb) FROM (
            SELECT a.id, jsonb_build_object(
                'id', a.event_id, 'type', a.event_type, 'at', a.occurred_at, 'actor_type', a.actor_type,
                'actor_id', a.actor_id,
                'actor_name', CASE WHEN a.actor_type = 'agent' THEN (SELECT coalesce(g.name, g.email) FROM agents g
                                                                   WHERE g.id = a.actor_id) END,
                'from_status', a.from_status, 'to_status', a.to_status, 'data', a.data) AS doc
            FROM ticket_audit a
            WHERE a.ticket_id = t.id AND a.event_type NOT IN ('ticket.replied', 'outbound.requested')
            ORDER BY a.id DESC LIMIT :limit::int) e) AS items
FROM t
""", params=TicketKeyParams, row=ActivityRow)

# The customer panel: the requester, their other open tickets and their latest tickets, and the
# tickets this one is related to (the parent of a follow-up, follow-ups of this one, the ticket a
# threading heuristic thought it may follow, tickets merged into it, the ticket it duplicates).
CUSTOMER_PANEL = Statement("""
WITH t AS (SELECT * FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint)),
c AS (SELECT cu.* FROM customers cu JOIN t ON cu.id = t.requester_id),
brief AS (
    SELECT x.id, jsonb_build_object('id', x.id, 'ref', 'TKT-' || x.number, 'subject', x.subject, 'status', x.status,
                                    'priority', x.priority, 'created_at', x.created_at, 'updated_at', x.updated_at) AS doc,
           x.requester_id, x.status, x.updated_at, x.created_at
    FROM tickets x WHERE x.requester_id = (SELECT id FROM c) AND x.id <> (SELECT id FROM t)
)
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT jsonb_build_object('id', c.id, 'email', c.email, 'name', c.name, 'tier', c.tier,
                                  'customer_since', c.created_at,
                                  'tickets_total', (SELECT count(*) FROM tickets WHERE requester_id = c.id))
        FROM c) AS requester,
       (SELECT coalesce(jsonb_agg(b.doc ORDER BY b.updated_at DESC), '[]'::jsonb) FROM (
            SELECT * FROM brief WHERE status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
            ORDER BY updated_at DESC LIMIT :limit::int) b) AS open_tickets,
       (SELECT coalesce(jsonb_agg(b.doc ORDER BY b.created_at DESC), '[]'::jsonb) FROM (
            SELECT * FROM brief WHERE status NOT IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')
            ORDER BY created_at DESC LIMIT :limit::int) b) AS recent_tickets,
       (SELECT coalesce(jsonb_agg(r.doc ORDER BY r.ord, r.number), '[]'::jsonb) FROM (
            SELECT 1 AS ord, x.number, jsonb_build_object('relation', 'parent', 'id', x.id, 'ref', 'TKT-' || x.number,
                   'subject', x.subject, 'status', x.status) AS doc FROM tickets x WHERE x.id = t.parent_ticket_id
            UNION ALL
            SELECT 2, x.number, jsonb_build_object('relation', 'possible_followup_of', 'id', x.id, 'ref', 'TKT-' || x.number,
                   'subject', x.subject, 'status', x.status) FROM tickets x WHERE x.id = t.possible_followup_of
            UNION ALL
            SELECT 3, x.number, jsonb_build_object('relation', 'duplicate_of', 'id', x.id, 'ref', 'TKT-' || x.number,
                   'subject', x.subject, 'status', x.status) FROM tickets x WHERE x.id = t.duplicate_of_id
            UNION ALL
            (SELECT 4, x.number, jsonb_build_object('relation', 'followup', 'id', x.id, 'ref', 'TKT-' || x.number,
                    'subject', x.subject, 'status', x.status) FROM tickets x
             WHERE x.parent_ticket_id = t.id OR x.possible_followup_of = t.id ORDER BY x.number DESC LIMIT :limit::int)
            UNION ALL
            (SELECT 5, x.number, jsonb_build_object('relation', 'merged_from', 'id', x.id, 'ref', 'TKT-' || x.number,
                    'subject', x.subject, 'status', x.status) FROM tickets x
             WHERE x.merged_into_id = t.id ORDER BY x.number DESC LIMIT :limit::int)
        ) r) AS related
FROM t
""", params=TicketKeyParams, row=CustomerPanelRow)

"""SQL of the agent views (my open, team queue, at risk, all). One statement per page: the page's
rows (kind 'item') plus one capped count row (kind 'count'), so a view costs ONE Data API call.

Every view pages by keyset over its ORDER BY (id breaks ties), matching an index of
0100_api_views_search_kb.sql; the count scans at most COUNT_CAP rows ("999+" beyond that)."""
from __future__ import annotations

from functools import lru_cache

from helpdesk.db.routing import QUEUE_STATUSES

COUNT_CAP = 1000
OPEN_STATUSES = ("assigned", "in_progress", "waiting_on_customer", "reopened")

# A list item: what a row of a view shows (no message bodies: a page stays far under 1 MiB).
ITEM_JSON = """jsonb_build_object(
    'id', t.id, 'number', t.number, 'ref', 'TKT-' || t.number, 'subject', t.subject, 'status', t.status,
    'priority', t.priority, 'channel', t.channel, 'team_id', t.team_id, 'assignee_id', t.assignee_id,
    'requester_id', t.requester_id, 'tags', t.tags, 'message_count', t.message_count,
    'created_at', t.created_at, 'updated_at', t.updated_at,
    'next_due_at', (SELECT min(s.due_at) FROM sla_targets s WHERE s.ticket_id = t.id AND s.state = 'running'))"""

# Filters every view accepts. A statement carries only the predicates of the filters given (and the
# keyset only on later pages): a driver that prepares a repeated statement (pgjdbc, the local Data
# API) lets PostgreSQL switch to a generic plan, and a generic plan cannot fold away "(:x IS NULL OR
# ...)" the way a custom plan does (measured at full scale: my open tickets p50 7.6 -> 9.3 ms).
FILTERS: dict[str, str] = {
    "statuses": "t.status IN (SELECT jsonb_array_elements_text(:statuses::jsonb))",
    "team_id": "t.team_id = :team_id::uuid",
    "unassigned": "t.assignee_id IS NULL",
    "assignee_id": "t.assignee_id = :assignee_id::uuid",
    "priority": "t.priority = :priority::text",
    "requester_id": "t.requester_id = :requester_id::uuid",
}


def _where(base: str, filters: frozenset[str]) -> str:
    unknown = filters - FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown view filters {sorted(unknown)}")
    return " AND ".join([base, *(FILTERS[name] for name in FILTERS if name in filters)])


def _paged(base_from: str, where: str, keyset: str | None, order: str, cursor_json: str) -> str:
    page_where = f"{where} AND {keyset}" if keyset else where
    return f"""
(SELECT 'item' AS kind, {ITEM_JSON} AS doc, {cursor_json} AS cursor
 FROM {base_from}
 WHERE {page_where}
 ORDER BY {order} LIMIT :limit)
UNION ALL
SELECT 'count', jsonb_build_object('n', (SELECT count(*) FROM (SELECT 1 FROM {base_from} WHERE {where} LIMIT {COUNT_CAP}) c)), NULL
"""


_RECENT_KEYSET = "(t.updated_at, t.id) < (:c_ts::timestamptz, :c_id::uuid)"
_RECENT_ORDER = "t.updated_at DESC, t.id DESC"
_RECENT_CURSOR = "jsonb_build_array(t.updated_at, t.id)"


# All tickets with filters, most recently updated first.
@lru_cache(maxsize=None)
def all_tickets(filters: frozenset[str], has_cursor: bool) -> str:
    return _paged("tickets t", _where("true", filters), _RECENT_KEYSET if has_cursor else None,
                  _RECENT_ORDER, _RECENT_CURSOR)


# My open tickets: assigned to the caller in an open status, most recently updated first.
@lru_cache(maxsize=None)
def mine(filters: frozenset[str], has_cursor: bool) -> str:
    base = "t.assignee_id = :me::uuid AND t.status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened')"
    return _paged("tickets t", _where(base, filters), _RECENT_KEYSET if has_cursor else None,
                  _RECENT_ORDER, _RECENT_CURSOR)


# The team queue: the routing queue's tickets (unassigned new/reopened, and in_progress tickets that lost
# their agent) of one team (or of the caller's teams), priority then age: what "next ticket" claims is
# what the view shows. Per team, a LATERAL index range scan (tickets_routing_queue) stops after :limit rows; the
# few per-team heads are then merged, so the cost does not grow with the queue's length.
@lru_cache(maxsize=None)
def queue(filters: frozenset[str], has_cursor: bool, one_team: bool) -> str:
    teams = ("(SELECT :queue_team::uuid AS team_id)" if one_team
             else "(SELECT tm.team_id FROM team_members tm WHERE tm.agent_id = :me::uuid)")
    where = _where(f"t.team_id = qt.team_id AND t.assignee_id IS NULL AND t.status IN {QUEUE_STATUSES}", filters)
    keyset = " AND (t.priority_rank, t.created_at, t.id) > (:c_rank::int, :c_ts::timestamptz, :c_id::uuid)" if has_cursor else ""
    return f"""
(SELECT 'item' AS kind, {ITEM_JSON} AS doc, jsonb_build_array(t.priority_rank, t.created_at, t.id) AS cursor
 FROM {teams} qt
 CROSS JOIN LATERAL (
     SELECT t.* FROM tickets t
     WHERE {where}{keyset}
     ORDER BY t.priority_rank, t.created_at, t.id LIMIT :limit) t
 ORDER BY t.priority_rank, t.created_at, t.id LIMIT :limit)
UNION ALL
SELECT 'count', jsonb_build_object('n', (SELECT count(*) FROM (
    SELECT 1 FROM {teams} qt JOIN tickets t ON {where} LIMIT {COUNT_CAP}) c)), NULL
"""


# At risk: open tickets by their earliest running SLA deadline before the horizon (breached first).
# Walks sla_targets_running_due in deadline order and stops at :limit; a ticket with two running
# clocks is listed once, at its earliest.
@lru_cache(maxsize=None)
def at_risk(filters: frozenset[str], has_cursor: bool) -> str:
    base_from = "sla_targets s JOIN tickets t ON t.id = s.ticket_id"
    where = _where("""s.state = 'running' AND s.due_at <= :horizon::timestamptz
    AND NOT EXISTS (SELECT 1 FROM sla_targets s2 WHERE s2.ticket_id = s.ticket_id AND s2.state = 'running'
                    AND (s2.due_at, s2.kind) < (s.due_at, s.kind))
    AND t.status NOT IN ('merged', 'spam', 'duplicate', 'closed', 'resolved')""", filters)
    keyset = " AND (s.due_at, s.ticket_id) > (:c_ts::timestamptz, :c_id::uuid)" if has_cursor else ""
    return f"""
(SELECT 'item' AS kind, {ITEM_JSON} AS doc, jsonb_build_array(s.due_at, t.id) AS cursor
 FROM {base_from}
 WHERE {where}{keyset}
 ORDER BY s.due_at, s.ticket_id LIMIT :limit)
UNION ALL
SELECT 'count', jsonb_build_object('n', (SELECT count(*) FROM (
    SELECT 1 FROM {base_from} WHERE {where} ORDER BY s.due_at, s.ticket_id LIMIT {COUNT_CAP}) c)), NULL
"""


# A ticket's conversation page plus the ticket's status (404/410 decided in the same call).
MESSAGES_PAGE = """
WITH t AS (SELECT id, status, merged_into_id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT 'ticket' AS kind, jsonb_build_object('id', t.id, 'status', t.status, 'merged_into_id', t.merged_into_id) AS doc FROM t
UNION ALL
(SELECT 'message', jsonb_build_object(
    'id', m.id, 'position', m.position, 'ticket_id', m.ticket_id, 'author_type', m.author_type,
    'author_customer_id', m.author_customer_id, 'author_agent_id', m.author_agent_id, 'visibility', m.visibility,
    'channel', m.channel, 'body', left(m.body, 2000), 'body_truncated', length(m.body) > 2000,
    'attachments', m.attachments, 'created_at', m.created_at)
 FROM t JOIN ticket_messages m ON m.ticket_id = t.id
 WHERE (:include_internal OR m.visibility = 'public') AND (:before::bigint IS NULL OR m.position < :before::bigint)
 ORDER BY m.position DESC LIMIT :limit)
"""

"""SQL of the agent views (my open, team queue, at risk, all). One statement per page: the page's
rows (kind 'item') plus one capped count row (kind 'count'), so a view costs ONE Data API call.

Every view pages by keyset over its ORDER BY (id breaks ties), matching an index of
0100_api_views_search_kb.sql; the count scans at most COUNT_CAP rows ("999+" beyond that)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from helpdesk.db.routing import QUEUE_STATUSES

COUNT_CAP = 1000
OPEN_STATUSES = ("assigned", "in_progress", "waiting_on_customer", "reopened")

# A list item: what a row of a view shows (no message bodies: a page stays far under 1 MiB). Beside the
# ticket's own columns: the requester, the latest message (a short preview), the ticket's most urgent
# SLA clock with every field the ticket page's chip reads (web/js/sla.js: running before paused, then
# earliest deadline), and `unread` for the viewing agent (:viewer; null without one): a customer
# message newer than the agent's last opening of the ticket (agent_ticket_views, migration 1190).
ITEM_JSON = """jsonb_build_object(
    'id', t.id, 'number', t.number, 'ref', 'TKT-' || t.number, 'subject', t.subject, 'status', t.status,
    'priority', t.priority, 'channel', t.channel, 'team_id', t.team_id, 'assignee_id', t.assignee_id,
    'requester_id', t.requester_id, 'tags', t.tags, 'message_count', t.message_count,
    'created_at', t.created_at, 'updated_at', t.updated_at,
    'next_due_at', (SELECT min(s.due_at) FROM sla_targets s WHERE s.ticket_id = t.id AND s.state = 'running'),
    'requester', (SELECT jsonb_build_object('id', c.id, 'name', c.name, 'email', c.email)
                  FROM customers c WHERE c.id = t.requester_id),
    'last_message', (SELECT jsonb_build_object('at', m.created_at, 'author_type', m.author_type,
                                               'visibility', m.visibility, 'preview', left(m.body, 160))
                     FROM ticket_messages m WHERE m.ticket_id = t.id ORDER BY m.position DESC LIMIT 1),
    'sla', (SELECT jsonb_build_object('kind', s.kind, 'state', s.state, 'due_at', s.due_at, 'warn_at', s.warn_at,
                                      'warned_at', s.warned_at, 'breached_at', s.breached_at,
                                      'remaining_seconds', s.remaining_seconds)
            FROM sla_targets s WHERE s.ticket_id = t.id AND s.state IN ('running', 'paused')
            ORDER BY s.state = 'running' DESC, s.due_at NULLS LAST, s.kind LIMIT 1),
    'unread', CASE WHEN :viewer::uuid IS NULL THEN NULL
                   ELSE t.last_customer_message_at > coalesce(
                       (SELECT v.seen_at FROM agent_ticket_views v WHERE v.agent_id = :viewer::uuid AND v.ticket_id = t.id),
                       '-infinity'::timestamptz) END)"""

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
    "tag": "t.tags @> jsonb_build_array(:tag::text)",
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


@dataclass(frozen=True)
class Sort:
    """An order of the 'all' and 'mine' views with its keyset (id breaks ties) and the cursor it pages by."""

    order: str
    keyset: str
    cursor: str


# updated: most recently updated first; created: newest first; priority: most urgent first, then most
# recently updated. Each walks an index (tickets_all_keyset, tickets_created_keyset and
# tickets_priority_keyset of migration 1190 for 'all'; an agent's open tickets are few).
SORTS: dict[str, Sort] = {
    "updated": Sort("t.updated_at DESC, t.id DESC", "(t.updated_at, t.id) < (:c_ts::timestamptz, :c_id::uuid)",
                    "jsonb_build_array(t.updated_at, t.id)"),
    "created": Sort("t.created_at DESC, t.id DESC", "(t.created_at, t.id) < (:c_ts::timestamptz, :c_id::uuid)",
                    "jsonb_build_array(t.created_at, t.id)"),
    "priority": Sort("t.priority_rank, t.updated_at DESC, t.id DESC",
                     "(t.priority_rank > :c_rank::int OR (t.priority_rank = :c_rank::int "
                     "AND (t.updated_at, t.id) < (:c_ts::timestamptz, :c_id::uuid)))",
                     "jsonb_build_array(t.priority_rank, t.updated_at, t.id)"),
}


def _sorted_page(where: str, has_cursor: bool, sort: str) -> str:
    order = SORTS[sort]
    return _paged("tickets t", where, order.keyset if has_cursor else None, order.order, order.cursor)


# All tickets with filters, in the chosen order.
@lru_cache(maxsize=None)
def all_tickets(filters: frozenset[str], has_cursor: bool, sort: str = "updated") -> str:
    return _sorted_page(_where("true", filters), has_cursor, sort)


MINE_WHERE = "t.assignee_id = :me::uuid AND t.status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened')"
QUEUE_WHERE = f"t.team_id = qt.team_id AND t.assignee_id IS NULL AND t.status IN {QUEUE_STATUSES}"
MY_TEAMS = "(SELECT tm.team_id FROM team_members tm WHERE tm.agent_id = :me::uuid)"


# My open tickets: assigned to the caller in an open status, in the chosen order.
@lru_cache(maxsize=None)
def mine(filters: frozenset[str], has_cursor: bool, sort: str = "updated") -> str:
    return _sorted_page(_where(MINE_WHERE, filters), has_cursor, sort)


# The team queue: the routing queue's tickets (unassigned new/reopened, and in_progress tickets that lost
# their agent) of one team (or of the caller's teams), priority then age: what "next ticket" claims is
# what the view shows. Per team, a LATERAL index range scan (tickets_routing_queue) stops after :limit rows; the
# few per-team heads are then merged, so the cost does not grow with the queue's length.
@lru_cache(maxsize=None)
def queue(filters: frozenset[str], has_cursor: bool, one_team: bool) -> str:
    teams = "(SELECT :queue_team::uuid AS team_id)" if one_team else MY_TEAMS
    where = _where(QUEUE_WHERE, filters)
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


# At risk: open tickets with a running clock past its warning instant (warn_at: the instant the sweep
# warns at and the ticket page's chip turns "At risk"; a breached clock is past it too), most urgent
# deadline first. The range of sla_targets_running_warn (migration 1190) bounds both the page and the
# count; a ticket with two such clocks is listed once, at its earliest running deadline.
AT_RISK_WHERE = """s.state = 'running' AND s.warn_at <= :now::timestamptz
    AND NOT EXISTS (SELECT 1 FROM sla_targets s2 WHERE s2.ticket_id = s.ticket_id AND s2.state = 'running'
                    AND (s2.due_at, s2.kind) < (s.due_at, s.kind))
    AND t.status NOT IN ('merged', 'spam', 'duplicate', 'closed', 'resolved')"""
AT_RISK_FROM = "sla_targets s JOIN tickets t ON t.id = s.ticket_id"


@lru_cache(maxsize=None)
def at_risk(filters: frozenset[str], has_cursor: bool) -> str:
    where = _where(AT_RISK_WHERE, filters)
    keyset = " AND (s.due_at, s.ticket_id) > (:c_ts::timestamptz, :c_id::uuid)" if has_cursor else ""
    return f"""
(SELECT 'item' AS kind, {ITEM_JSON} AS doc, jsonb_build_array(s.due_at, t.id) AS cursor
 FROM {AT_RISK_FROM}
 WHERE {where}{keyset}
 ORDER BY s.due_at, s.ticket_id LIMIT :limit)
UNION ALL
SELECT 'count', jsonb_build_object('n', (SELECT count(*) FROM (
    SELECT 1 FROM {AT_RISK_FROM} WHERE {where} LIMIT {COUNT_CAP}) c)), NULL
"""


# The navigation's count per view for the caller (each capped at COUNT_CAP like a view's own count);
# built from the views' own predicates so a count always agrees with its list. Asked alone
# (VIEW_COUNTS) or as one more row of a view's page (with_counts): a list and the navigation's
# counts then cost ONE call together.
COUNTS_JSON = f"""jsonb_build_object(
    'mine', (SELECT count(*) FROM (SELECT 1 FROM tickets t WHERE {MINE_WHERE} LIMIT {COUNT_CAP}) c),
    'queue', (SELECT count(*) FROM (SELECT 1 FROM {MY_TEAMS} qt JOIN tickets t ON {QUEUE_WHERE} LIMIT {COUNT_CAP}) c),
    'at_risk', (SELECT count(*) FROM (SELECT 1 FROM {AT_RISK_FROM} WHERE {AT_RISK_WHERE} LIMIT {COUNT_CAP}) c),
    'all', (SELECT count(*) FROM (SELECT 1 FROM tickets t LIMIT {COUNT_CAP}) c),
    'mine_unread', (SELECT count(*) FROM (SELECT 1 FROM tickets t WHERE {MINE_WHERE}
        AND t.last_customer_message_at > coalesce((SELECT v.seen_at FROM agent_ticket_views v
            WHERE v.agent_id = :me::uuid AND v.ticket_id = t.id), '-infinity'::timestamptz) LIMIT {COUNT_CAP}) c))"""

VIEW_COUNTS = f"SELECT {COUNTS_JSON} AS counts"


@lru_cache(maxsize=None)
def with_counts(page_statement: str) -> str:
    """A view's page statement plus one row of kind 'counts' (needs :me and :now)."""
    return f"{page_statement}UNION ALL\nSELECT 'counts', {COUNTS_JSON}, NULL\n"


# An agent opened a ticket (by id or number): the unread mark's instant moves forward, never back
# (a late duplicate request cannot mark newer messages read). Returns the ticket's id; no row: no ticket.
MARK_SEEN = """
WITH t AS (SELECT id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint)),
seen AS (
    INSERT INTO agent_ticket_views (agent_id, ticket_id, seen_at)
    SELECT :agent_id::uuid, t.id, :now::timestamptz FROM t
    ON CONFLICT (agent_id, ticket_id) DO UPDATE SET seen_at = greatest(agent_ticket_views.seen_at, EXCLUDED.seen_at)
)
SELECT id FROM t
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

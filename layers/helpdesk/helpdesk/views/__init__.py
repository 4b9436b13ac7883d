"""Agent views over tickets: my open tickets, a team queue, SLA at risk, all tickets with filters.

Cursor-paginated (opaque cursors carry the keyset of the last row and the view's name), page size
bounded, counts capped at COUNT_CAP ("999+"), one Data API call per page. The navigation's counts of
every view are one more call (`Views.counts`); opening a ticket records the agent's unread mark
(`Views.mark_seen`, one call)."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import views as sql
from helpdesk.db.client import DataApi
from helpdesk.db.sqltext import parameter_names
from helpdesk.tickets.models import MAX_TAG, parse_ticket_ref
from helpdesk.tickets.states import OPEN, Status

View = Literal["all", "mine", "queue", "at_risk"]
VIEWS: tuple[str, ...] = ("all", "mine", "queue", "at_risk")
SORTABLE_VIEWS = ("all", "mine")  # the queue is priority then age (what "next ticket" claims); at_risk by deadline
SORTS: tuple[str, ...] = tuple(sql.SORTS)
MIN_PAGE, MAX_PAGE, DEFAULT_PAGE = 1, 100, 25
MAX_MESSAGE_POSITION = 2**63 - 1  # message positions (conversation cursors) are bigint: a larger one was never handed out
STATUS_ALIASES = {"open": tuple(s.value for s in Status if s in OPEN)}
ALL_STATUSES = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Filters:
    statuses: tuple[str, ...] | None = None
    team_id: uuid.UUID | None = None
    # "any" (no filter), "none" (unassigned), or "agent" with assignee_id.
    assignee_mode: Literal["any", "none", "agent"] = "any"
    assignee_id: uuid.UUID | None = None
    priority: str | None = None
    requester_id: uuid.UUID | None = None
    tag: str | None = None


def parse_tag(value: str | None) -> str | None:
    """One tag to filter by, compared as tickets store tags (lower case)."""
    if value is None or not value.strip():
        return None
    tag = value.strip().lower()
    if len(tag) > MAX_TAG:
        raise errors.ValidationFailed(f"tag is too long: a tag has at most {MAX_TAG} characters")
    return tag


@dataclass
class Count:
    value: int
    capped: bool

    @property
    def display(self) -> str:
        return f"{sql.COUNT_CAP - 1}+" if self.capped else str(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "capped": self.capped, "display": self.display}


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    count: Count
    view: str = "all"
    extra: dict[str, Any] = field(default_factory=dict)
    view_counts: dict[str, Count] | None = None  # with_counts: every view's count for the navigation


def parse_statuses(value: str | None) -> tuple[str, ...] | None:
    """'open' or a comma-separated list of statuses; unknown names are a clear error."""
    if value is None or not value.strip():
        return None
    out: list[str] = []
    for part in (p.strip().lower() for p in value.split(",") if p.strip()):
        if part in STATUS_ALIASES:
            out.extend(STATUS_ALIASES[part])
        elif part in ALL_STATUSES:
            out.append(part)
        else:
            raise errors.ValidationFailed(
                f"unknown status {part!r}; allowed: open, {', '.join(ALL_STATUSES)} (comma-separated)")
    return tuple(dict.fromkeys(out))


def check_page_size(limit: int) -> int:
    if not MIN_PAGE <= limit <= MAX_PAGE:
        raise errors.ValidationFailed(f"limit must be between {MIN_PAGE} and {MAX_PAGE}, got {limit}")
    return limit


def encode_cursor(view: str, key: list[Any]) -> str:
    raw = json.dumps({"v": view, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(view: str, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        key = doc["k"]
        if doc["v"] != view or not isinstance(key, list):
            raise ValueError
        return key
    except (ValueError, KeyError, TypeError):
        raise errors.ValidationFailed(
            f"cursor is not valid for view {view!r}: pass next_cursor from the previous page unchanged") from None


class Views:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def page(self, view: str, filters: Filters, *, me: uuid.UUID | None, team_id: uuid.UUID | None = None,
             limit: int = DEFAULT_PAGE, cursor: str | None = None, sort: str = "updated",
             with_counts: bool = False) -> Page:
        """One Data API call, also when `with_counts` adds every view's count (Views.counts) to the page."""
        if view not in VIEWS:
            raise errors.ValidationFailed(f"unknown view {view!r}; allowed: {', '.join(VIEWS)}")
        if sort not in SORTS:
            raise errors.ValidationFailed(f"unknown sort {sort!r}; allowed: {', '.join(SORTS)}")
        if sort != "updated" and view not in SORTABLE_VIEWS:
            raise errors.ValidationFailed(
                f"view {view!r} has its own order; sort applies to the views {', '.join(SORTABLE_VIEWS)}")
        # A cursor belongs to one view in one order: another order's cursor is refused, not misread.
        cursor_scope = view if sort == "updated" else f"{view}:{sort}"
        check_page_size(limit)
        if with_counts and me is None:
            raise errors.Forbidden("view counts need a signed-in agent (no agent record for this user)")
        if view in ("mine", "queue") and me is None and not (view == "queue" and team_id):
            raise errors.Forbidden(f"view {view!r} needs a signed-in agent (no agent record for this user)")
        present = {name for name, value in (("statuses", filters.statuses), ("team_id", filters.team_id),
                                            ("priority", filters.priority), ("requester_id", filters.requester_id),
                                            ("tag", filters.tag))
                   if value}
        if filters.assignee_mode == "none":
            present.add("unassigned")
        elif filters.assignee_mode == "agent":
            present.add("assignee_id")
        params: dict[str, Any] = {
            "statuses": list(filters.statuses) if filters.statuses else None,
            "team_id": filters.team_id,
            "assignee_id": filters.assignee_id,
            "priority": filters.priority,
            "requester_id": filters.requester_id,
            "tag": filters.tag,
            "viewer": me,
            "limit": limit + 1,
        }
        has_cursor = cursor is not None
        if has_cursor:
            key = decode_cursor(cursor_scope, cursor)
            try:
                if view == "queue" or sort == "priority":
                    params["c_rank"], ts, params["c_id"] = int(key[0]), key[1], uuid.UUID(str(key[2]))
                else:
                    ts, params["c_id"] = key[0], uuid.UUID(str(key[1]))
                params["c_ts"] = datetime.fromisoformat(ts)
            except (ValueError, IndexError, TypeError):
                raise errors.ValidationFailed("cursor is damaged: pass next_cursor from the previous page unchanged") from None
        chosen = frozenset(present)
        if view == "all":
            statement = sql.all_tickets(chosen, has_cursor, sort)
        elif view == "mine":
            statement, params["me"] = sql.mine(chosen, has_cursor, sort), me
        elif view == "queue":
            statement, params["me"], params["queue_team"] = sql.queue(chosen, has_cursor, team_id is not None), me, team_id
        else:
            statement = sql.at_risk(chosen, has_cursor)
        if with_counts:
            statement, params["me"] = sql.with_counts(statement), me
        params["now"] = self.clock.now()
        used = parameter_names(statement)  # each view variant sends only the parameters it names
        params = {name: value for name, value in params.items() if name in used}
        rows = self.db.query(statement, params)
        items = [r for r in rows if r["kind"] == "item"]
        n = next(int(r["doc"]["n"]) for r in rows if r["kind"] == "count")
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            next_cursor = encode_cursor(cursor_scope, items[-1]["cursor"])
        counts = next((counts_of(r["doc"]) for r in rows if r["kind"] == "counts"), None)
        return Page([r["doc"] for r in items], next_cursor, capped_count(n), view, view_counts=counts)

    def counts(self, me: uuid.UUID) -> dict[str, Count]:
        """The caller's count of each view (mine, queue of my teams, at_risk, all) and of my unread open
        tickets, as the views count them. One Data API call."""
        row = self.db.query_one(sql.VIEW_COUNTS, {"me": me, "now": self.clock.now()})
        assert row is not None
        return counts_of(row["counts"])

    def mark_seen(self, agent_id: uuid.UUID, ticket_ref: str) -> uuid.UUID:
        """The agent opened the ticket (a UUID or TKT-n): its customer messages so far are read for them.
        Returns the ticket's id; NotFound when there is no such ticket. One Data API call."""
        kind, value = parse_ticket_ref(ticket_ref)
        row = self.db.query_one(sql.MARK_SEEN, {
            "id": value if kind == "id" else None, "number": value if kind == "number" else None,
            "agent_id": agent_id, "now": self.clock.now()})
        if row is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        return uuid.UUID(str(row["id"]))


def counts_of(doc: dict[str, Any]) -> dict[str, Count]:
    return {name: capped_count(doc[name]) for name in ("mine", "queue", "at_risk", "all", "mine_unread")}


def capped_count(n: int) -> Count:
    n = int(n)
    return Count(min(n, sql.COUNT_CAP - 1), n >= sql.COUNT_CAP)


def conversation_page(db: DataApi, ticket_ref: str, *, limit: int, cursor: str | None = None,
                      include_internal: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    """A ticket's messages, newest first, `limit` per page; the cursor is the last position seen.
    404 and 410 (merged) are decided in the same call. Returns (messages, next_cursor)."""
    kind, value = parse_ticket_ref(ticket_ref)
    before = None
    if cursor is not None:
        if not cursor.isdigit() or int(cursor) > MAX_MESSAGE_POSITION:
            raise errors.ValidationFailed("cursor must be the next_cursor of the previous page (a message position)")
        before = int(cursor)
    rows = db.query(sql.MESSAGES_PAGE, {
        "id": value if kind == "id" else None, "number": value if kind == "number" else None,
        "include_internal": include_internal, "before": before, "limit": limit + 1})
    head = next((r["doc"] for r in rows if r["kind"] == "ticket"), None)
    if head is None:
        raise errors.NotFound(f"ticket {ticket_ref} not found")
    if head["status"] == "merged":
        raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=head["merged_into_id"])
    items = [r["doc"] for r in rows if r["kind"] == "message"]
    next_cursor = str(items[limit - 1]["position"]) if len(items) > limit else None
    return items[:limit], next_cursor

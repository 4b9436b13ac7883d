"""Full-text search over ticket subjects and message bodies, and knowledge-base suggestions.

Both are one Data API call, bounded (candidate sets and result sizes are capped). Ticket search
ranks the most recently updated CANDIDATES matching tickets, with the tickets of a requester whose
name or email the query names first (see helpdesk/db/search.py). A query that is a ticket reference
("TKT-7", "#7", "7") answers that ticket alone (`exact`), or the word search when there is no such
ticket (one more call).

Snippets arrive as `snippet` (plain text) and `snippet_parts` ([{"text", "match"}]): the marks are
ours, the text is the user's, so a page renders parts as text nodes and marks as <mark> elements and
never parses user text as markup."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from helpdesk import errors
from helpdesk.db import search as sql
from helpdesk.db.client import DataApi
from helpdesk.views import Filters

MAX_QUERY = 200
CANDIDATES = sql.CANDIDATES
MAX_RESULTS = 50
SUGGESTIONS = 3
# What a person types for a ticket reference: TKT-7, TKT7, #7 or 7 (case-insensitive).
REF_QUERY = re.compile(r"^(?:TKT-?|#)?(\d{1,18})$", re.IGNORECASE)


@dataclass(frozen=True)
class TicketSearch:
    """Ranked hits, plus how many tickets the ranking considered.

    `ranked_among` is the number of matching tickets that were ranked (at most CANDIDATES);
    `more_matches` is true when more tickets matched than that, in which case the ranking was
    among the `ranked_among` most recently updated matches (narrow the words or filter to reach
    older tickets)."""

    items: list[dict[str, Any]]
    ranked_among: int
    more_matches: bool
    exact: str | None = None  # the reference the query named, when that ticket exists (items is that ticket)


def snippet_parts(marked: str | None) -> list[dict[str, Any]]:
    """A snippet with sql.MARK_START/MARK_END around matched words -> [{"text", "match"}], adjacent
    pieces of the same kind joined, empty ones dropped. Unbalanced marks (a headline cut inside one)
    end the match at the end of the text."""
    parts: list[dict[str, Any]] = []
    for index, piece in enumerate(re.split(f"[{sql.MARK_START}{sql.MARK_END}]", marked or "")):
        if not piece:
            continue
        match = index % 2 == 1
        if parts and parts[-1]["match"] == match:
            parts[-1]["text"] += piece
        else:
            parts.append({"text": piece, "match": match})
    return parts


def _with_parts(doc: dict[str, Any]) -> dict[str, Any]:
    parts = snippet_parts(doc.get("snippet"))
    return doc | {"snippet": "".join(p["text"] for p in parts), "snippet_parts": parts}


def _email_prefix(q: str) -> str | None:
    """A LIKE pattern for requester emails starting with the query, when the query looks like one."""
    if "@" not in q or " " in q:
        return None
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_tickets(db: DataApi, q: str, filters: Filters | None = None, *, limit: int = 20,
                   viewer: uuid.UUID | None = None) -> TicketSearch:
    """One Data API call (two for a number that is no ticket's). Agent-only: ticket documents include
    internal notes. `viewer` (the agent) gives each item its unread mark."""
    q = (q or "").strip()
    if not q:
        raise errors.ValidationFailed("q must not be blank: give the words to search for")
    if len(q) > MAX_QUERY:
        raise errors.ValidationFailed(f"q is too long: at most {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_RESULTS:
        raise errors.ValidationFailed(f"limit must be between 1 and {MAX_RESULTS}, got {limit}")
    f = filters or Filters()
    ref = REF_QUERY.match(q)
    if ref:
        row = db.query_one(sql.TICKET_BY_NUMBER, {"number": int(ref.group(1)), "viewer": viewer})
        if row is not None:
            doc = row["doc"]
            return TicketSearch(items=[doc], ranked_among=1, more_matches=False, exact=doc["ref"])
    rows = db.query(sql.SEARCH_TICKETS, {
        "q": q, "limit": limit, "email_prefix": _email_prefix(q), "viewer": viewer,
        # Status names never contain commas (parse_statuses validates them against the known set).
        "statuses": ",".join(f.statuses) if f.statuses else None, "team_id": f.team_id,
        "assignee_mode": f.assignee_mode, "assignee_id": f.assignee_id, "tag": f.tag,
    })
    found = int(rows[0]["found"]) if rows else 0
    return TicketSearch(items=[_with_parts(r["doc"]) for r in rows], ranked_among=min(found, CANDIDATES),
                        more_matches=found > CANDIDATES)


def suggest_articles(db: DataApi, subject: str, body: str, *, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    text = f"{subject or ''}\n{body or ''}".strip()
    if not text:
        return []
    return [_with_parts(r["doc"]) for r in db.query(sql.KB_SUGGEST, {"text": text, "limit": max(1, min(limit, SUGGESTIONS))})]

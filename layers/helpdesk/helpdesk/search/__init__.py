"""Full-text search over ticket subjects and message bodies, and knowledge-base suggestions.

Both are one Data API call, bounded (candidate sets and result sizes are capped). Ticket search
ranks the most recently updated CANDIDATES matching tickets (see helpdesk/db/search.py)."""
from __future__ import annotations

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


def search_tickets(db: DataApi, q: str, filters: Filters | None = None, *, limit: int = 20) -> TicketSearch:
    """One Data API call. Agent-only: ticket documents include internal notes."""
    q = (q or "").strip()
    if not q:
        raise errors.ValidationFailed("q must not be blank: give the words to search for")
    if len(q) > MAX_QUERY:
        raise errors.ValidationFailed(f"q is too long: at most {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_RESULTS:
        raise errors.ValidationFailed(f"limit must be between 1 and {MAX_RESULTS}, got {limit}")
    f = filters or Filters()
    rows = db.query(sql.SEARCH_TICKETS, {
        "q": q, "limit": limit,
        # Status names never contain commas (parse_statuses validates them against the known set).
        "statuses": ",".join(f.statuses) if f.statuses else None, "team_id": f.team_id,
        "assignee_mode": f.assignee_mode, "assignee_id": f.assignee_id,
    })
    found = int(rows[0]["found"]) if rows else 0
    return TicketSearch(items=[r["doc"] for r in rows], ranked_among=min(found, CANDIDATES),
                        more_matches=found > CANDIDATES)


def suggest_articles(db: DataApi, subject: str, body: str, *, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    text = f"{subject or ''}\n{body or ''}".strip()
    if not text:
        return []
    return [r["doc"] for r in db.query(sql.KB_SUGGEST, {"text": text, "limit": max(1, min(limit, SUGGESTIONS))})]

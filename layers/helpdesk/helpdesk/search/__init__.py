"""Full-text search over ticket subjects and message bodies, and knowledge-base suggestions.

Both are one Data API call, bounded (candidate sets and result sizes are capped)."""
from __future__ import annotations

from typing import Any

from helpdesk import errors
from helpdesk.db import search as sql
from helpdesk.db.client import DataApi
from helpdesk.views import Filters

MAX_QUERY = 200
MAX_RESULTS = 50
SUGGESTIONS = 3


def search_tickets(db: DataApi, q: str, filters: Filters | None = None, *, limit: int = 20,
                   include_internal: bool = True) -> list[dict[str, Any]]:
    q = (q or "").strip()
    if not q:
        raise errors.ValidationFailed("q must not be blank: give the words to search for")
    if len(q) > MAX_QUERY:
        raise errors.ValidationFailed(f"q is too long: at most {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_RESULTS:
        raise errors.ValidationFailed(f"limit must be between 1 and {MAX_RESULTS}, got {limit}")
    f = filters or Filters()
    rows = db.query(sql.SEARCH_TICKETS, {
        "q": q, "limit": limit, "include_internal": include_internal,
        "statuses": list(f.statuses) if f.statuses else None, "team_id": f.team_id,
        "assignee_mode": f.assignee_mode, "assignee_id": f.assignee_id,
    })
    return [r["doc"] for r in rows]


def suggest_articles(db: DataApi, subject: str, body: str, *, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    text = f"{subject or ''}\n{body or ''}".strip()
    if not text:
        return []
    return [r["doc"] for r in db.query(sql.KB_SUGGEST, {"text": text, "limit": max(1, min(limit, SUGGESTIONS))})]

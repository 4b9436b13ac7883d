"""Full-text search over tickets and knowledge-base suggestions."""
from __future__ import annotations

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.search import CANDIDATES, MAX_QUERY, MAX_RESULTS, search_tickets, suggest_articles
from helpdesk.views import Filters, parse_statuses, parse_tag

from ._shared import ItemsOut, assignee_filter, caller, parse_uuid, services

router = Router()


class SearchOut(ItemsOut):
    """Search is not paginated (next_cursor stays null): narrow the words or filters instead."""

    ranked_among: int = Field(description=f"matching tickets that were ranked (at most {CANDIDATES})")
    more_matches: bool = Field(description=f"more tickets matched: the ranking was among the {CANDIDATES} most "
                                           "recently updated matches; add words or filters to reach older ones")
    exact: Optional[str] = Field(default=None, description="the query was this ticket's reference (TKT-7, #7 or 7): "
                                                           "items is that ticket alone")


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="", max_length=500)
    body: str = Field(default="", max_length=100_000)


@router.get("/search", summary="Search tickets: a reference, the requester's name or email, or words, ranked",
            description=f"A query that is a ticket reference (TKT-7, #7, 7) answers that ticket (`exact`). Otherwise a "
                        "ticket matches when its subject and messages (internal notes included) together match the "
                        f"query, or its requester's name has every word of the query or their email starts with it "
                        f"(those rank first). The {CANDIDATES} most recently updated word matches that pass the filters "
                        "are ranked (a subject word weighs ten times a body word); `more_matches` says when there were "
                        "more. `snippet_parts` is the snippet as plain text pieces, `match` marking the query's words.")
def search(q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="words, \"phrases\", -excluded, or")],
           status: Annotated[Optional[str], Query(max_length=300)] = None,
           team: Annotated[Optional[str], Query(max_length=40)] = None,
           assignee: Annotated[Optional[str], Query(max_length=40, description="me, none or an agent id")] = None,
           tag: Annotated[Optional[str], Query(max_length=100, description="tickets carrying this tag")] = None,
           limit: Annotated[int, Query(ge=1, le=MAX_RESULTS, description=f"results 1..{MAX_RESULTS}")] = 20,
           ) -> SearchOut:
    who = caller(router)
    mode, assignee_id = assignee_filter(assignee, who)
    filters = Filters(statuses=parse_statuses(status), team_id=parse_uuid(team, "team") if team else None,
                      assignee_mode=mode, assignee_id=assignee_id, tag=parse_tag(tag))
    found = search_tickets(services().db, q, filters, limit=limit, viewer=who.agent_id)
    return SearchOut(items=found.items, ranked_among=found.ranked_among, more_matches=found.more_matches,
                     exact=found.exact)


@router.post("/kb/suggest", summary="Up to 3 knowledge-base articles for a subject and body")
def kb_suggest(body: SuggestIn) -> ItemsOut:
    caller(router)
    return ItemsOut(items=suggest_articles(services().db, body.subject, body.body))

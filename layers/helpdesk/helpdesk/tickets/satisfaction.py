"""The customer's side of a resolve: rate the help (good / bad, then an optional comment), confirm
the ticket is solved (it closes), or say it is not (it reopens), from the solved mail's signed links
(helpdesk.auth.survey) or the portal (helpdesk.auth.portal); and the satisfaction report.

- A rating is of the ticket's latest survey offer (one per resolve, made when the solved mail is
  claimed: helpdesk.db.satisfaction.CLAIM_SOLVED), and only while the ticket is resolved or closed.
  The same answer twice changes nothing; another answer replaces it (a customer may change their mind).
- "Solved" closes a resolved ticket now instead of after AUTO_CLOSE_HOURS (the sweep's job).
- "Not solved" is a customer message (their words, or NOT_SOLVED_TEXT), so every reopen rule of a
  customer message applies, from its one home (docs/architecture.md): a resolved ticket goes back to
  in_progress, a recently closed one is reopened, a long-closed one gets a follow-up. On a ticket
  that is already open again it writes nothing (a link clicked twice).
Data API calls: a rating 1; the survey page 1; "solved" 3 (requester, transition, its follow-up);
"not solved" 1 plus the customer message's calls."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import admin as admin_sql
from helpdesk.db import satisfaction as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.tickets.models import Actor

RATINGS = ("good", "bad")
MAX_COMMENT = 5000
NOT_SOLVED_TEXT = "It's not solved."  # the customer's message when they add no words of their own
RATABLE = ("resolved", "closed")
COMMENT_LIMIT = 50  # latest comments in the report
# What a customer reads for each status (the agents' words are web/js/states.js): a customer does not
# care whether their request is assigned or in progress, only whether we are on it or wait for them.
CUSTOMER_STATUS = {
    "new": "Received", "assigned": "Open", "in_progress": "Open", "reopened": "Open",
    "waiting_on_customer": "Awaiting your reply", "resolved": "Solved", "closed": "Closed",
    "spam": "Closed", "duplicate": "Closed", "merged": "Closed",
}


class SurveyReplaced(errors.Gone):
    """A mailed survey link of an earlier resolve: the request was reopened and solved again (HTTP 410)."""

    code = "survey_replaced"


def customer_status(status: str) -> str:
    return CUSTOMER_STATUS.get(status, "Open")


def _comment(comment: str | None) -> str | None:
    if comment is None or not comment.strip():
        return None
    if len(comment) > MAX_COMMENT:
        raise errors.ValidationFailed(f"comment is too long: at most {MAX_COMMENT} characters")
    return comment.strip()


def rate(db: DataApi, clock: Clock, ticket_id: uuid.UUID, rating: str, comment: str | None = None, *,
         offer_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Record the customer's rating of the latest offer (offer_id: the one a mailed link names)."""
    if rating not in RATINGS:
        raise errors.ValidationFailed(f"rating must be one of {', '.join(RATINGS)} (got {rating!r})")
    row = db.query_one(sql.RATE, {"ticket_id": ticket_id, "offer_id": offer_id, "rating": rating,
                                  "comment": _comment(comment), "now": clock.now()})
    if row is None or row.get("status") is None:
        raise errors.NotFound("this ticket no longer exists")
    if row.get("rating") is None:
        if row["status"] not in RATABLE:
            raise errors.Conflict(f"this request is {customer_status(row['status']).lower()} again, so it cannot be rated "
                                  "now; you can rate it once it is solved", ticket_status=row["status"])
        raise SurveyReplaced("this survey link is from an earlier resolution of the request; please use the latest "
                             "mail from us")
    return row["rating"]


def survey(db: DataApi, ticket_id: uuid.UUID, offer_id: uuid.UUID | None = None) -> dict[str, Any]:
    """What the survey page shows (1 call): the request, its status in the customer's words, and the
    rating given so far (`current`: whether the link's offer is still the latest)."""
    row = db.query_one(sql.SURVEY, {"ticket_id": ticket_id})
    if row is None:
        raise errors.NotFound("this ticket no longer exists")
    latest = row.get("latest") or {}
    current = offer_id is None or str(latest.get("offer_id")) == str(offer_id)
    return {"ref": f"TKT-{row['number']}", "subject": row["subject"], "status": row["status"],
            "status_label": customer_status(row["status"]), "resolved_at": row["resolved_at"],
            "closed_at": row["closed_at"], "current": current, "can_rate": current and row["status"] in RATABLE,
            "rating": latest.get("rating") if current else None, "comment": latest.get("comment") if current else None,
            "rated_at": latest.get("rated_at") if current else None}


def _requester(db: DataApi, ticket_id: uuid.UUID) -> dict[str, Any]:
    row = db.query_one(admin_sql.TICKET_REQUESTER, {"id": ticket_id})
    if row is None:
        raise errors.NotFound("this ticket no longer exists")
    return row


def confirm_solved(db: DataApi, clock: Clock, publisher: Publisher, ticket_id: uuid.UUID) -> dict[str, Any]:
    """The customer confirms: a resolved ticket closes now. Already closed: nothing to do."""
    from helpdesk.tickets.commands import TicketCommands

    requester = _requester(db, ticket_id)
    try:
        result = TicketCommands(db, clock, publisher).transition(
            ticket_id, "closed", Actor(type="customer", id=requester["customer_id"]),
            reason="the customer confirmed it is solved", expected_status="resolved")
        status = result.ticket.status
    except (errors.Conflict, errors.InvalidTransition) as exc:
        current = (exc.extra or {}).get("current_status") or (exc.extra or {}).get("from")
        if current != "closed":
            raise errors.Conflict(f"this request is {customer_status(str(current)).lower()}, not solved: there is "
                                  "nothing to confirm", ticket_status=current) from None
        status = "closed"
    return {"status": status, "status_label": customer_status(status)}


def not_solved(db: DataApi, clock: Clock, publisher: Publisher, ticket_id: uuid.UUID,
               comment: str | None = None) -> dict[str, Any]:
    """The customer says it is not solved: their message reopens the ticket (the customer-message rules)."""
    from helpdesk.routing.intake import receive_portal_reply

    row = db.query_one(sql.SURVEY, {"ticket_id": ticket_id})
    if row is None:
        raise errors.NotFound("this ticket no longer exists")
    if row["status"] not in RATABLE:  # open again already (a second click): nothing to write
        return {"ticket": f"TKT-{row['number']}", "status": row["status"],
                "status_label": customer_status(row["status"]), "followup_of": None, "reopened": False}
    result = receive_portal_reply(db, clock, publisher, ticket_id, _comment(comment) or NOT_SOLVED_TEXT)
    return {"ticket": f"TKT-{result.ticket.number}", "status": result.ticket.status,
            "status_label": customer_status(result.ticket.status),
            "followup_of": str(result.followup_of) if result.followup_of else None, "reopened": True}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _scored(row: dict[str, Any]) -> dict[str, Any]:
    offered, rated, good = int(row["offered"]), int(row["rated"]), int(row["good"])
    return {**row, "offered": offered, "rated": rated, "good": good, "bad": int(row["bad"]),
            "rating_rate": _share(rated, offered), "score": _share(good, rated)}


def satisfaction_report(db: DataApi, *, since: datetime, until: datetime, team_id: uuid.UUID | None = None,
                        comment_limit: int = COMMENT_LIMIT) -> dict[str, Any]:
    """Surveys offered in [since, until): rating rate (rated / offered) and score (good / rated) overall,
    by team and by the agent who solved the ticket, and the latest comments. 1 Data API call."""
    row = db.query_one(sql.REPORT, {"since": since, "until": until, "team_id": team_id, "comment_limit": comment_limit})
    assert row is not None
    totals = _scored({**row["totals"]})
    return {"since": since.isoformat(), "until": until.isoformat(), "team_id": str(team_id) if team_id else None,
            **totals, "teams": [_scored(r) for r in row["by_team"]], "agents": [_scored(r) for r in row["by_agent"]],
            "comments": row["comments"]}

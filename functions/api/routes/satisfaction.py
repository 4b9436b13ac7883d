"""The customer's side of a resolve (helpdesk.tickets.satisfaction): the survey page's reads and
answers behind the solved mail's signed links, the satisfaction report for leads, and the list of
all of a customer's requests behind the mailed requests link (helpdesk.tickets.customer_requests).

The links open web/satisfaction.html (a GET changes nothing: mail scanners prefetch links); the page
POSTs the answer here. The same answers are offered on the portal (routes/portal.py)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal, Optional

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, ConfigDict, Field

from helpdesk import errors
from helpdesk.auth.ratelimit import Limit, RateLimiter
from helpdesk.auth.customer_link import verify_requests_token
from helpdesk.auth.survey import verify_survey_token
from helpdesk.tickets import customer_requests, satisfaction

from ._shared import ApiModel, Doc, caller, services, settings, source_ip

router = Router()
MAX_REPORT_DAYS = 366
# "Not solved" writes a customer message: the portal's reply budget (routes/portal.py) applies.
NOT_SOLVED_PER_TICKET_PER_HOUR = 20
NOT_SOLVED_PER_IP_PER_HOUR = 60


class RatingIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["good", "bad"]
    comment: Optional[str] = Field(default=None, max_length=satisfaction.MAX_COMMENT)


class NotSolvedIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    comment: Optional[str] = Field(default=None, max_length=satisfaction.MAX_COMMENT,
                                   description="what is still wrong (becomes the customer's message)")


def not_solved_limits(ticket_id: uuid.UUID, ip: str) -> list[Limit]:
    return [Limit(f"portal-ticket:{ticket_id}", NOT_SOLVED_PER_TICKET_PER_HOUR),
            Limit(f"portal-ip:{ip}", NOT_SOLVED_PER_IP_PER_HOUR)]


def _link(token: str):
    return verify_survey_token(token, settings().signing_keys, services().clock.now())


@router.get("/public/satisfaction/<token>", summary="The satisfaction survey a solved mail links to (changes nothing)")
def survey(token: str) -> Doc:
    link = _link(token)
    return Doc(**satisfaction.survey(services().db, link.ticket_id, link.offer_id))


@router.post("/public/satisfaction/<token>/rating",
             summary="Rate the help (good / bad, optional comment); the same answer twice changes nothing")
def rate(token: str, body: RatingIn) -> Doc:
    link = _link(token)
    svc = services()
    return Doc(**satisfaction.rate(svc.db, svc.clock, link.ticket_id, body.rating, body.comment, offer_id=link.offer_id))


@router.post("/public/satisfaction/<token>/solved", summary="The customer confirms it is solved: the ticket closes")
def solved(token: str) -> Doc:
    link = _link(token)
    svc = services()
    return Doc(**satisfaction.confirm_solved(svc.db, svc.clock, svc.publisher, link.ticket_id))


@router.post("/public/satisfaction/<token>/not-solved",
             summary="The customer says it is not solved: their message reopens the ticket (rate-limited)")
def not_solved(token: str, body: NotSolvedIn) -> Doc:
    link = _link(token)
    svc = services()
    RateLimiter(svc.db, svc.clock).hit(not_solved_limits(link.ticket_id, source_ip(router)))
    return Doc(**satisfaction.not_solved(svc.db, svc.clock, svc.publisher, link.ticket_id, body.comment))


@router.get("/reports/satisfaction",
            summary="Satisfaction: rating rate and score (good share) overall, by team and by agent, latest comments")
def report(since: Annotated[AwareDatetime, Query()], until: Annotated[AwareDatetime, Query()],
           team: Annotated[Optional[uuid.UUID], Query()] = None) -> Doc:
    caller(router, "lead")
    if until <= since:
        raise errors.ValidationFailed("until must be after since")
    if (until - since).days > MAX_REPORT_DAYS:
        raise errors.ValidationFailed(f"the period is at most {MAX_REPORT_DAYS} days")
    return Doc(**satisfaction.satisfaction_report(services().db, since=since, until=until, team_id=team))


@router.get("/public/customer-requests/<token>",
            summary="All requests of the customer a mailed requests link names, each with its portal link")
def list_customer_requests(token: str) -> Doc:
    svc = services()
    config = settings()
    customer_id = verify_requests_token(token, config.signing_keys, svc.clock.now())
    return Doc(**customer_requests.list_requests(svc.db, config.signing_keys, svc.clock, config.web_base_url, customer_id))

"""The public web form (no login): rate-limited per sender and per IP, with a honeypot field.

Honeypot: the form has a field `website` hidden from people; bots fill it. A filled honeypot gets
202 {"status": "received"} and NOTHING is stored or counted: the bot sees a plausible success and
learns nothing, while a real submission answers 201 with the ticket reference.

The portal link is never in the answer: anyone can type an existing customer's address into the form,
and the link shows that customer's conversation. It is mailed to the address (the ticket's
acknowledgement, helpdesk.outbound.email), so only whoever reads that mailbox gets it."""
from __future__ import annotations

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import ConfigDict, Field

from helpdesk.auth.ratelimit import Limit, RateLimiter
from helpdesk.auth.uploads import MAX_FORM_ATTACHMENTS, FormAttachment, UploadRequest, grant_upload
from helpdesk.tickets.models import MAX_SUBJECT, Actor, normalize_email
from helpdesk import errors

from helpdesk.search import suggest_articles

from helpdesk import wiring

from ._shared import ApiModel, Doc, ItemsOut, open_ticket, services, settings, source_ip

router = Router()
PER_SENDER_PER_HOUR = 5
PER_IP_PER_HOUR = 20
UPLOADS_PER_IP_PER_HOUR = 30


class PublicTicketIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    requester_name: Optional[str] = Field(default=None, max_length=200)
    requester_email: str = Field(min_length=3, max_length=254)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=20_000)
    website: Optional[str] = Field(default=None, max_length=500, description="honeypot: leave empty")
    attachments: list[FormAttachment] = Field(default_factory=list, max_length=MAX_FORM_ATTACHMENTS,
                                              description="files uploaded with POST /public/attachments")


class SuggestIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="", max_length=500)
    body: str = Field(default="", max_length=20_000)


class PublicTicketOut(ApiModel):
    status: str
    ref: Optional[str] = None
    portal: Optional[str] = Field(default=None, description="where the link to follow the request goes (by mail)")


@router.post("/public/tickets", summary="Web form: open a ticket without signing in (rate-limited)",
             responses={201: {"description": "ticket opened", "content": {"application/json": {"model": PublicTicketOut}}},
                        202: {"description": "received", "content": {"application/json": {"model": PublicTicketOut}}},
                        429: {"description": "too many requests (Retry-After)"}})
def create_public_ticket(body: PublicTicketIn,
                         idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=255)] = None,
                         ) -> Response[PublicTicketOut]:
    if body.website:  # honeypot filled: a bot
        return Response(202, content_types.APPLICATION_JSON, PublicTicketOut(status="received").model_dump())
    try:
        email = normalize_email(body.requester_email)
    except ValueError as exc:
        raise errors.ValidationFailed(f"requester_email: {exc}") from None
    svc = services()
    RateLimiter(svc.db, svc.clock).hit([Limit(f"sender:{email}", PER_SENDER_PER_HOUR),
                                        Limit(f"ip:{source_ip(router)}", PER_IP_PER_HOUR)])
    result = open_ticket(svc, {"channel": "web", "subject": body.subject, "body": body.body,
                               "requester_email": email, "requester_name": body.requester_name,
                               "attachments": [a.as_ticket_attachment() for a in body.attachments]},
                         actor=Actor(type="customer"), idempotency_key=idempotency_key,
                         # Keys are chosen by anonymous clients: scoped per sender, a guessed key can never
                         # replay someone else's ticket.
                         scope=f"web:{email}")
    out = PublicTicketOut(status="created", ref=f"TKT-{result.ticket.number}",
                          portal="a link to follow this request was mailed to the address given")
    return Response(201, content_types.APPLICATION_JSON, out.model_dump())


PUBLIC_ARTICLE_FIELDS = ("id", "title", "snippet", "snippet_parts")


@router.post("/public/kb/suggest", summary="Up to 3 published articles for what the customer is typing (no login)")
def public_kb_suggest(body: SuggestIn) -> ItemsOut:
    articles = suggest_articles(services().db, body.subject, body.body)
    return ItemsOut(items=[{k: a.get(k) for k in PUBLIC_ARTICLE_FIELDS} for a in articles])


@router.post("/public/attachments", summary="A presigned upload for one file of the web form (no login)",
             responses={201: {"description": "upload grant", "content": {"application/json": {"model": Doc}}}})
def public_upload(body: UploadRequest) -> Response[Doc]:
    svc = services()
    RateLimiter(svc.db, svc.clock).hit([Limit(f"upload-ip:{source_ip(router)}", UPLOADS_PER_IP_PER_HOUR)])
    grant = grant_upload(wiring.aws_client("s3"), settings().attachments_bucket, body, svc.clock.now())
    return Response(201, content_types.APPLICATION_JSON, grant)

"""The customer portal: a signed link (no account) shows one ticket and the PUBLIC messages of the
customer's own conversation (helpdesk.tickets.portal) with its files (short-lived download links),
and lets the customer reply, with files (the reply follows the customer-message rules, docs/architecture.md:
it resumes a waiting ticket, reopens a recently closed one, or opens a follow-up), and answer the solved
mail's survey (rate, confirm, "not solved")."""
from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ConfigDict, Field

from helpdesk.auth.portal import verify_portal_token
from helpdesk.auth.ratelimit import Limit, RateLimiter
from helpdesk.auth.uploads import (MAX_FORM_ATTACHMENTS, MAX_REFERENCE_CHARS, ReplyTarget, UploadRequest, grant_upload,
                                   reply_attachments, sign_reply_reference)
from helpdesk.tickets import customer_requests, satisfaction
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.portal import portal_attachment, portal_view
from helpdesk.tickets.portal import portal_message as own_message_in_full

from ._shared import ApiModel, Doc, parse_uuid, services, settings, source_ip
from .satisfaction import NotSolvedIn, RatingIn, not_solved_limits

router = Router()
# A customer writes a few replies an hour; a script behind one link or one address writes hundreds.
REPLIES_PER_TICKET_PER_HOUR = 20
REPLIES_PER_IP_PER_HOUR = 60
UPLOADS_PER_TICKET_PER_HOUR = 30  # a few files per reply; the web form allows the same per IP
REQUESTS_LINKS_PER_TICKET_PER_HOUR = 3  # each one mails the customer: a script must not flood their mailbox


class PortalMessageIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20_000)
    attachments: list[Annotated[str, Field(min_length=1, max_length=MAX_REFERENCE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_FORM_ATTACHMENTS,
        description="`reference`s of files uploaded with POST /portal/{token}/attachments")


def _routing_intake():
    """helpdesk.routing.intake (rules, assignment, SLA clocks), imported on the first portal reply, as
    _shared.open_ticket does for new tickets, rather than on every cold start."""
    from helpdesk.routing import intake

    return intake


@router.get("/portal/<token>", summary="A customer's view of their ticket (public messages of their own conversation)")
def portal_ticket(token: str) -> Doc:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    return Doc(**portal_view(TicketCommands(svc.db, svc.clock, svc.publisher), ticket_id))


@router.get("/portal/<token>/messages/<message_id>",
            summary="One public message of the customer's ticket in full (the ticket view cuts bodies at 2,000 characters)")
def portal_message(token: str, message_id: str) -> Doc:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    wanted = parse_uuid(message_id, "message_id")
    return Doc(**own_message_in_full(TicketCommands(svc.db, svc.clock, svc.publisher), ticket_id, wanted))


@router.post("/portal/<token>/messages", summary="The customer replies through the portal (rate-limited per ticket and per IP)",
             responses={201: {"description": "received", "content": {"application/json": {"model": Doc}}},
                        429: {"description": "too many requests (Retry-After)"}})
def portal_reply(token: str, body: PortalMessageIn) -> Response[Doc]:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    # Per ticket, not per token string: every link of one ticket shares the budget.
    RateLimiter(svc.db, svc.clock).hit([Limit(f"portal-ticket:{ticket_id}", REPLIES_PER_TICKET_PER_HOUR),
                                        Limit(f"portal-ip:{source_ip(router)}", REPLIES_PER_IP_PER_HOUR)])
    files = []
    if body.attachments:  # checked (signature, ticket, customer, object in S3) before anything is written
        from helpdesk import wiring

        config = settings()
        customer_id = _requester(svc, ticket_id)["requester_id"]
        files = reply_attachments(body.attachments, ticket_ref=("id", ticket_id), uploader_id=uuid.UUID(str(customer_id)),
                                  keyring=config.signing_keys, now=svc.clock.now(),
                                  s3_client=wiring.aws_client("s3", config), bucket=config.attachments_bucket,
                                  source="portal_upload")
    # Through routing's intake: a reply that reopens a closed ticket is handed back to its owner or the queue.
    result = _routing_intake().receive_portal_reply(svc.db, svc.clock, svc.publisher, ticket_id, body.body, files)
    doc = {"ticket": f"TKT-{result.ticket.number}", "status": result.ticket.status,
           "followup_of": str(result.followup_of) if result.followup_of else None}
    return Response(201, content_types.APPLICATION_JSON, doc)


# The solved mail's answers, from the portal (routes/satisfaction.py answers the mailed survey links).
@router.post("/portal/<token>/rating", summary="Rate the help on the ticket's latest resolve (good / bad, optional comment)")
def portal_rate(token: str, body: RatingIn) -> Doc:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    return Doc(**satisfaction.rate(svc.db, svc.clock, ticket_id, body.rating, body.comment))


@router.post("/portal/<token>/solved", summary="The customer confirms it is solved: the ticket closes")
def portal_solved(token: str) -> Doc:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    return Doc(**satisfaction.confirm_solved(svc.db, svc.clock, svc.publisher, ticket_id))


@router.post("/portal/<token>/not-solved", summary="The customer says it is not solved: their message reopens the ticket")
def portal_not_solved(token: str, body: NotSolvedIn) -> Doc:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    RateLimiter(svc.db, svc.clock).hit(not_solved_limits(ticket_id, source_ip(router)))
    return Doc(**satisfaction.not_solved(svc.db, svc.clock, svc.publisher, ticket_id, body.comment))


@router.get("/portal/<token>/attachments/<attachment_ref>",
            summary="A short-lived download link for one file of the customer's conversation",
            description="attachment_ref: `<message id>.<index>` as the portal view lists it. Images, PDF and plain "
                        "text open in the browser; other types download as files. 503 when no attachments bucket is "
                        "configured.")
def portal_download(token: str, attachment_ref: str) -> Doc:
    from helpdesk import attachments, wiring  # imported on use: only this route needs them

    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    found = portal_attachment(TicketCommands(svc.db, svc.clock, svc.publisher), ticket_id, attachment_ref)
    config = settings()
    return Doc(**attachments.download_url(wiring.aws_client("s3", config), config.attachments_bucket, found))


def _requester(svc, ticket_id: uuid.UUID) -> dict:
    """The ticket's number and customer (1 call); NotFound when it is gone."""
    ticket = TicketCommands(svc.db, svc.clock, svc.publisher).get_ticket(ticket_id, include_internal=False,
                                                                         message_limit=0).ticket
    return {"number": int(ticket["number"]), "requester_id": ticket["requester_id"]}


@router.post("/portal/<token>/attachments", summary="A presigned upload for one file of the customer's next portal reply",
             description="Answers the S3 POST the browser makes (straight to the private bucket, at most the declared "
                         "size, exactly the declared type; the web form's limits) and the `reference` to put in "
                         "POST /portal/{token}/messages `attachments`, bound to this ticket and its customer.",
             responses={201: {"description": "upload grant", "content": {"application/json": {"model": Doc}}},
                        429: {"description": "too many requests (Retry-After)"}})
def portal_upload(token: str, body: UploadRequest) -> Response[Doc]:
    from helpdesk import wiring

    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    RateLimiter(svc.db, svc.clock).hit([Limit(f"portal-upload-ticket:{ticket_id}", UPLOADS_PER_TICKET_PER_HOUR),
                                        Limit(f"upload-ip:{source_ip(router)}", UPLOADS_PER_TICKET_PER_HOUR)])
    ticket = _requester(svc, ticket_id)
    config = settings()
    grant = grant_upload(wiring.aws_client("s3", config), config.attachments_bucket, body, svc.clock.now())
    target = ReplyTarget(ticket_id, ticket["number"], uuid.UUID(str(ticket["requester_id"])))
    grant["reference"] = sign_reply_reference(grant, body, target, config.signing_keys, svc.clock.now())
    return Response(201, content_types.APPLICATION_JSON, grant)


@router.post("/portal/<token>/requests-link",
             summary="Mail the customer a link to all their requests (to their address: only its owner sees the list)",
             responses={202: {"description": "the link will be mailed", "content": {"application/json": {"model": Doc}}},
                        429: {"description": "too many requests (Retry-After)"}})
def portal_requests_link(token: str) -> Response[Doc]:
    svc = services()
    ticket_id = verify_portal_token(token, settings().signing_keys, svc.clock.now())
    RateLimiter(svc.db, svc.clock).hit([Limit(f"requests-link:{ticket_id}", REQUESTS_LINKS_PER_TICKET_PER_HOUR),
                                        Limit(f"portal-ip:{source_ip(router)}", REPLIES_PER_IP_PER_HOUR)])
    customer_requests.request_link(svc.db, svc.clock, svc.publisher, ticket_id)
    return Response(202, content_types.APPLICATION_JSON, {"status": "mailed to the address of the request"})

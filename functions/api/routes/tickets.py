"""Tickets: create (idempotent), read, views, conversation, status, assignment, merge."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import ConfigDict, Field

from helpdesk import errors, wiring
from helpdesk.auth.uploads import (MAX_REFERENCE_CHARS, MAX_REPLY_ATTACHMENTS, ReplyTarget, UploadRequest, grant_upload,
                                   reply_attachments, sign_reply_reference)
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.workspace import WorkspaceCommands
from helpdesk.tickets.models import MAX_BODY, MAX_SUBJECT, Actor, Channel, Priority, parse_ticket_ref
from helpdesk.views import DEFAULT_PAGE, MAX_PAGE, MIN_PAGE, VIEWS, Filters, Views, conversation_page, parse_statuses, parse_tag

from ._shared import (ApiModel, Doc, ItemsOut, TicketOut, TicketPageOut, assignee_filter, caller, open_ticket, parse_uuid,
                      services, settings, ticket_json)

router = Router()


class TicketIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(max_length=MAX_BODY)
    requester_email: str = Field(max_length=254)
    requester_name: Optional[str] = Field(default=None, max_length=200)
    priority: Priority = "normal"
    team_id: Optional[uuid.UUID] = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    channel: Channel = "api"


class MessageIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_BODY)
    visibility: Literal["public", "internal"] = "public"
    attachments: list[Annotated[str, Field(min_length=1, max_length=MAX_REFERENCE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_REPLY_ATTACHMENTS,
        description="`reference`s of files uploaded with POST /tickets/{ref}/attachments (this ticket's, your own)")
    seen_position: Optional[int] = Field(default=None, ge=0, description="the position of the last message you saw: "
                                         "refused (409, reason newer_messages, with them) when a newer one exists")
    confirm_newer: bool = Field(default=False, description="send anyway although newer messages exist")


class UploadGrantOut(ApiModel):
    key: str = Field(description="the S3 key the file is stored under")
    upload: dict[str, Any] = Field(description="POST the file to `url` as multipart/form-data: every entry of "
                                               "`fields`, then the file as `file` (last)")
    expires_in: int = Field(description="seconds the upload is allowed for")
    reference: str = Field(description="put this in the reply's `attachments`")


class StatusIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(min_length=1, max_length=40)
    reason: Optional[str] = Field(default=None, max_length=1000)
    duplicate_of: Optional[str] = Field(default=None, min_length=1, max_length=40,
                                        description="with status duplicate (and only then): the ticket this one duplicates, id or TKT-n")


class PriorityIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    priority: str = Field(min_length=1, max_length=40, description="low, normal, high or urgent")
    reason: Optional[str] = Field(default=None, max_length=1000)


class AttachmentLinkOut(ApiModel):
    url: str = Field(description="a presigned S3 GET URL, valid for expires_in seconds")
    filename: str
    content_type: str
    size: int
    expires_in: int


class AssignIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: Optional[uuid.UUID] = None
    team_id: Optional[uuid.UUID] = None


class MergeIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=60, description="the target ticket: a UUID or TKT-n")
    confirm_different_requesters: bool = Field(
        default=False, description="required when the tickets have different requesters (409 otherwise); each "
                                   "customer's portal keeps showing only their own conversation")


def _commands() -> TicketCommands:
    svc = services()
    return TicketCommands(svc.db, svc.clock, svc.publisher)


def _agent_actor(least: str = "agent") -> tuple[Actor, Any]:
    who = caller(router, least)
    return Actor(type="agent", id=who.agent_id, role=who.role), who


@router.post("/tickets", summary="Create a ticket (Idempotency-Key makes retries safe)",
             responses={201: {"description": "created (or the original ticket, on a replay)",
                              "content": {"application/json": {"model": TicketOut}}}})
def create_ticket(body: TicketIn,
                  idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=255)] = None,
                  ) -> Response[TicketOut]:
    actor, _ = _agent_actor()
    result = open_ticket(services(), body.model_dump(mode="json"), actor=actor,
                         idempotency_key=idempotency_key, scope="api")
    headers = {"Location": f"/api/v1/tickets/{result.ticket.id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(201, content_types.APPLICATION_JSON, ticket_json(result.ticket), headers=headers)


@router.get("/tickets", summary="Views: all (filters), mine, queue, at_risk; cursor-paginated")
def list_tickets(
    view: Annotated[Literal["all", "mine", "queue", "at_risk"], Query(description="which view")] = "all",
    status: Annotated[Optional[str], Query(description="open, or comma-separated statuses", max_length=300)] = None,
    assignee: Annotated[Optional[str], Query(description="me, none, or an agent id", max_length=40)] = None,
    team: Annotated[Optional[str], Query(description="a team id (queue: default the caller's teams)", max_length=40)] = None,
    priority: Annotated[Optional[Literal["low", "normal", "high", "urgent"]], Query()] = None,
    tag: Annotated[Optional[str], Query(description="tickets carrying this tag", max_length=100)] = None,
    sort: Annotated[Literal["updated", "created", "priority"],
                    Query(description="all and mine: updated (default), created (newest first), priority")] = "updated",
    limit: Annotated[int, Query(ge=MIN_PAGE, le=MAX_PAGE, description=f"page size {MIN_PAGE}..{MAX_PAGE}")] = DEFAULT_PAGE,
    cursor: Annotated[Optional[str], Query(max_length=500)] = None,
    counts: Annotated[bool, Query(description="also every view's count for the navigation (same call)")] = False,
) -> TicketPageOut:
    who = caller(router)
    mode, assignee_id = assignee_filter(assignee, who)
    team_id = parse_uuid(team, "team") if team else None
    filters = Filters(statuses=parse_statuses(status), team_id=None if view == "queue" else team_id,
                      assignee_mode=mode, assignee_id=assignee_id, priority=priority, tag=parse_tag(tag))
    svc = services()
    page = Views(svc.db, svc.clock).page(
        view, filters, me=who.agent_id, team_id=team_id if view == "queue" else None, limit=limit, cursor=cursor, sort=sort,
        with_counts=counts)
    view_counts = {name: c.as_dict() for name, c in page.view_counts.items()} if page.view_counts else None
    return TicketPageOut(items=page.items, next_cursor=page.next_cursor, count=page.count.as_dict(), view=page.view,
                         view_counts=view_counts)


@router.get("/tickets/<ticket_ref>", summary="A ticket (UUID or TKT-n) with SLA clocks and latest messages")
def get_ticket(ticket_ref: str,
               messages: Annotated[int, Query(ge=0, le=100, description="latest messages to include 0..100")] = 50) -> Doc:
    caller(router)
    view = _commands().get_ticket(ticket_ref, include_internal=True, message_limit=messages)
    return Doc(**ticket_json(view.ticket), messages=view.messages)


@router.post("/tickets/<ticket_ref>/messages", summary="Reply (public) or add an internal note",
             responses={201: {"description": "added", "content": {"application/json": {"model": Doc}}}})
def add_message(ticket_ref: str, body: MessageIn) -> Response[Doc]:
    actor, who = _agent_actor()
    agent_id = who.require_agent()
    files: list[dict[str, Any]] = []
    if body.attachments:  # checked (signature, ticket, agent, object in S3) before anything is written
        config = settings()
        files = reply_attachments(body.attachments, ticket_ref=parse_ticket_ref(ticket_ref), uploader_id=agent_id,
                                  keyring=config.signing_keys, now=services().clock.now(),
                                  s3_client=wiring.aws_client("s3", config), bucket=config.attachments_bucket)
    svc = services()
    result = WorkspaceCommands(svc.db, svc.clock, svc.publisher).reply(ticket_ref, {
        "body": body.body, "visibility": body.visibility, "author_type": "agent", "author_agent_id": agent_id,
        "channel": "api", "attachments": files}, actor, seen_position=body.seen_position, confirmed=body.confirm_newer)
    message = result.message.model_dump(mode="json") if result.message else {}
    return Response(201, content_types.APPLICATION_JSON,
                    {"message": message, "ticket": ticket_json(result.ticket) if result.ticket else None})


@router.post("/tickets/<ticket_ref>/attachments", summary="A presigned upload for one file of a reply or note",
             description="Answers the S3 POST the client makes (straight to the private bucket, at most the "
                         "declared size, exactly the declared type) and the `reference` to put in "
                         "POST /tickets/{ref}/messages `attachments`. The reference is bound to this ticket and "
                         "the calling agent. 503 when no attachments bucket is configured.",
             responses={201: {"description": "upload grant", "content": {"application/json": {"model": UploadGrantOut}}}})
def reply_upload(ticket_ref: str, body: UploadRequest) -> Response[UploadGrantOut]:
    _, who = _agent_actor()
    agent_id = who.require_agent()
    config = settings()
    svc = services()
    # The ticket must exist and not be merged away (404/410 now, not after the upload).
    ticket = _commands().get_ticket(ticket_ref, include_internal=False, message_limit=0).ticket
    grant = grant_upload(wiring.aws_client("s3", config), config.attachments_bucket, body, svc.clock.now())
    target = ReplyTarget(uuid.UUID(str(ticket["id"])), int(ticket["number"]), agent_id)
    reference = sign_reply_reference(grant, body, target, config.signing_keys, svc.clock.now())
    out = UploadGrantOut(**grant, reference=reference)
    return Response(201, content_types.APPLICATION_JSON, out.model_dump())


@router.get("/tickets/<ticket_ref>/messages", summary="The conversation, newest first, paginated by position")
def list_messages(ticket_ref: str,
                  limit: Annotated[int, Query(ge=1, le=100, description="page size 1..100")] = 50,
                  cursor: Annotated[Optional[str], Query(max_length=30, description="next_cursor of the previous page")] = None,
                  ) -> ItemsOut:
    caller(router)
    items, next_cursor = conversation_page(services().db, ticket_ref, limit=limit, cursor=cursor)
    return ItemsOut(items=items, next_cursor=next_cursor)


class MessageFullOut(Doc):
    id: str
    body: str = Field(description="the whole new text of the message (views show its first 2,000 characters)")
    body_full: Optional[str] = Field(None, description="the whole mail as received: quoted history and forwarded "
                                                       "mails included (null when it is the body)")
    quoted: Optional[str] = Field(None, description="the part of body_full below the new text (quoted or forwarded)")
    body_html: Optional[str] = Field(None, description="the mail's HTML, sanitized at intake")


@router.get("/tickets/<ticket_ref>/messages/<message_id>",
            summary="One message in full: its whole text, the quoted/forwarded part and the sanitized HTML",
            description="Views cut bodies at 2,000 characters (`body_truncated`); this returns the rest. 404 when the "
                        "message is not on this ticket, 410 for a merged ticket.")
def get_message(ticket_ref: str, message_id: str) -> MessageFullOut:
    caller(router)
    message = _commands().get_message(ticket_ref, parse_uuid(message_id, "message_id"), include_internal=True)
    return MessageFullOut(**message)


@router.get("/tickets/<ticket_ref>/attachments/<attachment_id>",
            summary="A short-lived download URL for one attachment of the ticket",
            description="attachment_id: the attachment's UUID, or `<message id>.<index>` (its place in that message's "
                        "`attachments` list). 404 when it is not on this ticket, 410 for a merged ticket, 503 when no "
                        "attachments bucket is configured. Images, PDF and plain text open in the browser; other "
                        "types download as files.")
def attachment_link(ticket_ref: str, attachment_id: str) -> AttachmentLinkOut:
    caller(router)
    from helpdesk import attachments  # imported on use: only this route needs it

    attachment = attachments.find_attachment(services().db, ticket_ref, attachment_id)
    config = settings()
    link = attachments.download_url(wiring.aws_client("s3", config), config.attachments_bucket, attachment)
    return AttachmentLinkOut(**link)


@router.post("/tickets/<ticket_ref>/status", summary="Change status (422 names from, to and allowed)")
def change_status(ticket_ref: str, body: StatusIn) -> TicketOut:
    actor, _ = _agent_actor()
    result = _commands().transition(ticket_ref, body.status, actor, reason=body.reason, duplicate_of=body.duplicate_of)
    return TicketOut(**ticket_json(result.ticket))


@router.post("/tickets/<ticket_ref>/priority",
             summary="Change priority (SLA policy matched again, open clocks re-timed; 422 names allowed values)")
def change_priority(ticket_ref: str, body: PriorityIn) -> TicketOut:
    actor, _ = _agent_actor()
    result = _commands().change_priority(ticket_ref, body.priority, actor, reason=body.reason)
    return TicketOut(**ticket_json(result.ticket))


@router.post("/tickets/<ticket_ref>/assign", summary="Assign to an agent, or move to a team's queue")
def assign(ticket_ref: str, body: AssignIn) -> TicketOut:
    actor, _ = _agent_actor()
    if (body.agent_id is None) == (body.team_id is None):
        raise errors.ValidationFailed("give exactly one of agent_id or team_id")
    result = _commands().assign(ticket_ref, actor, agent_id=body.agent_id, team_id=body.team_id)
    return TicketOut(**ticket_json(result.ticket))


@router.post("/tickets/<ticket_ref>/merge", summary="Merge this ticket into another (its messages move)")
def merge(ticket_ref: str, body: MergeIn) -> TicketOut:
    actor, _ = _agent_actor()
    result = _commands().merge(ticket_ref, body.into, actor, allow_other_requester=body.confirm_different_requesters)
    return TicketOut(**ticket_json(result.ticket))

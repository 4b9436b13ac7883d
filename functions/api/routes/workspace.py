"""The agent workspace's ticket page: tags, macros (CRUD, preview, apply), presence, the activity log
and the customer panel (helpdesk.tickets.workspace)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ConfigDict, Field

from helpdesk.tickets import workspace
from helpdesk.tickets.models import MAX_TAG, MAX_TAGS, Actor, Priority
from helpdesk.tickets.workspace import Macros, WorkspaceCommands

from ._shared import ApiModel, Doc, ItemsOut, TicketOut, caller, services, ticket_json

router = Router()

Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG)]
MacroStatus = Literal["in_progress", "waiting_on_customer", "resolved"]


def _commands() -> WorkspaceCommands:
    svc = services()
    return WorkspaceCommands(svc.db, svc.clock, svc.publisher)


def _agent() -> tuple[Actor, Any]:
    who = caller(router)
    return Actor(type="agent", id=who.require_agent(), role=who.role), who


# -- tags ------------------------------------------------------------------------------------------
class TagsIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    add: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS, description="tags to add (lower-cased)")
    remove: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS, description="tags to remove")


@router.patch("/tickets/<ticket_ref>/tags", summary="Add and remove tags (one write, audited, event ticket.tags_changed)")
def change_tags(ticket_ref: str, body: TagsIn) -> TicketOut:
    actor, _ = _agent()
    add, remove = workspace.check_tag_change(body.add, body.remove)
    result = _commands().change_tags(ticket_ref, actor, add=add, remove=remove)
    return TicketOut(**ticket_json(result.ticket))


# -- the activity log and the customer panel -------------------------------------------------------
@router.get("/tickets/<ticket_ref>/activity",
            summary="What happened to the ticket besides messages: status, assignment, priority, tags, merge, SLA",
            description="The ticket's audit rows, oldest first (the latest 200), each with who (actor_type, "
                        "actor_id, actor_name) and when (at). Message events are the conversation itself.")
def ticket_activity(ticket_ref: str) -> ItemsOut:
    caller(router)
    return ItemsOut(items=workspace.activity(services().db, ticket_ref))


class CustomerPanelOut(ApiModel):
    requester: Optional[Doc] = Field(description="id, email, name, tier, customer_since, tickets_total")
    open_tickets: list[Doc] = Field(description="the requester's other open tickets, latest activity first (10)")
    recent_tickets: list[Doc] = Field(description="the requester's other tickets that are not open, newest first (10)")
    related: list[Doc] = Field(description="tickets related to this one; relation: parent, possible_followup_of, "
                                           "duplicate_of, followup, merged_from")


@router.get("/tickets/<ticket_ref>/customer-panel",
            summary="The requester, their other open and recent tickets, and the tickets related to this one")
def customer_panel(ticket_ref: str) -> CustomerPanelOut:
    caller(router)
    return CustomerPanelOut(**workspace.customer_panel(services().db, ticket_ref))


# -- presence --------------------------------------------------------------------------------------
class PresenceIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    activity: Literal["viewing", "replying"] = "viewing"


class PresenceOut(ApiModel):
    ticket_id: str
    others: list[Doc] = Field(description="the other agents on this ticket: agent_id, name, activity, seen_at")
    expires_in: int = Field(description="seconds a heartbeat counts; beat again before then")


@router.post("/tickets/<ticket_ref>/presence",
             summary="Heartbeat: I am viewing or replying to this ticket; answers who else is")
def presence(ticket_ref: str, body: PresenceIn) -> PresenceOut:
    actor, _ = _agent()
    svc = services()
    seen = workspace.heartbeat(svc.db, svc.clock, ticket_ref, actor.id, body.activity)
    return PresenceOut(ticket_id=seen.ticket_id, others=seen.others, expires_in=workspace.PRESENCE_SECONDS)


@router.delete("/tickets/<ticket_ref>/presence", responses={204: {"description": "gone"}},
               summary="I left the ticket: others stop seeing me at once")
def leave(ticket_ref: str):
    actor, _ = _agent()
    workspace.leave(services().db, ticket_ref, actor.id)
    return Response(204, None, None)


# -- macros ----------------------------------------------------------------------------------------
class MacroIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    shared: bool = Field(default=False, description="shared with every agent (leads and admins); else personal")
    body: Optional[str] = Field(default=None, max_length=20000,
                                description="the reply; placeholders: " + ", ".join("{{" + p + "}}" for p in workspace.PLACEHOLDERS))
    visibility: Literal["public", "internal"] = "public"
    set_status: Optional[MacroStatus] = None
    set_priority: Optional[Priority] = None
    add_tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    assign_to_me: bool = False
    assign_agent_id: Optional[uuid.UUID] = None


class MacroPatch(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = Field(default=None, min_length=1, max_length=120)
    body: Optional[str] = Field(default=None, max_length=20000)
    visibility: Optional[Literal["public", "internal"]] = None
    set_status: Optional[MacroStatus] = None
    set_priority: Optional[Priority] = None
    add_tags: Optional[list[Tag]] = Field(default=None, max_length=MAX_TAGS)
    remove_tags: Optional[list[Tag]] = Field(default=None, max_length=MAX_TAGS)
    assign_to_me: Optional[bool] = None
    assign_agent_id: Optional[uuid.UUID] = None


class ApplyIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    seen_position: Optional[int] = Field(default=None, ge=0, description="the position of the last message you saw: "
                                         "a macro with a reply is refused (409, newer_messages) if a newer one exists")
    confirm_newer: bool = Field(default=False, description="send anyway although newer messages exist")


def _macros() -> Macros:
    svc = services()
    return Macros(svc.db, svc.clock)


@router.get("/macros", summary="The shared macros and my own")
def list_macros() -> ItemsOut:
    _, who = _agent()
    return ItemsOut(items=_macros().list(who.agent_id))


@router.post("/macros", summary="Create a macro (shared ones: lead or admin)",
             responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_macro(body: MacroIn) -> Response[Doc]:
    _, who = _agent()
    doc = _macros().create(body.model_dump(mode="json"), who)
    return Response(201, "application/json", doc, headers={"Location": f"/api/v1/macros/{doc['id']}"})


@router.get("/macros/<macro_id>")
def get_macro(macro_id: uuid.UUID) -> Doc:
    _, who = _agent()
    return Doc(**_macros().get(macro_id, who.agent_id))


@router.patch("/macros/<macro_id>", summary="Change the given fields (null clears body, status, priority, assignee)")
def update_macro(macro_id: uuid.UUID, body: MacroPatch) -> Doc:
    _, who = _agent()
    return Doc(**_macros().update(macro_id, body.model_dump(mode="json", exclude_unset=True), who))


@router.delete("/macros/<macro_id>", responses={204: {"description": "deleted"}})
def delete_macro(macro_id: uuid.UUID):
    _, who = _agent()
    _macros().delete(macro_id, who)
    return Response(204, None, None)


@router.get("/tickets/<ticket_ref>/macros/<macro_id>/preview",
            summary="The macro with its body filled in for this ticket (rendered_body), as apply would send it")
def preview_macro(ticket_ref: str, macro_id: uuid.UUID) -> Doc:
    _, who = _agent()
    return Doc(**_macros().preview(ticket_ref, macro_id, who.agent_id))


@router.post("/tickets/<ticket_ref>/macros/<macro_id>/apply",
             summary="Apply a macro: reply, status, priority, tags and assignee in one write",
             description="422 (from, to, allowed) when its status is not reachable in one step from the ticket's "
                         "(after its assignment); 409 newer_messages (with them) when seen_position is stale.")
def apply_macro(ticket_ref: str, macro_id: uuid.UUID, body: ApplyIn) -> Doc:
    actor, _ = _agent()
    result = _commands().apply_macro(ticket_ref, macro_id, actor, seen_position=body.seen_position,
                                     confirmed=body.confirm_newer)
    message = result.message.model_dump(mode="json", exclude={"body"}) if result.message else None
    return Doc(ticket=ticket_json(result.ticket), message=message)

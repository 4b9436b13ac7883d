"""Triggers (helpdesk.triggers): business rules an admin writes (events, conditions, actions), their
recent firings, and a dry run that says what would fire on a ticket and what it would do, changing
nothing. Reading and the dry run need lead; writing needs admin. The engine itself runs in the
notifier, after the outbox, never here."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from helpdesk.triggers.models import TriggerDefinition, TriggerIn, TriggerUpdate

from ._shared import ApiModel, Doc, ItemsOut, caller, services
from .sla_admin import _json

router = Router()


def triggers(svc):
    from helpdesk.triggers.store import Triggers

    return Triggers(svc.db, svc.clock)


class DryRunIn(ApiModel):
    ticket: str = Field(min_length=1, max_length=100, description="the ticket: its id or TKT-n")
    event: Literal["ticket_created", "ticket_updated", "customer_replied", "sla_warning", "sla_breached"] = Field(
        description="the event to evaluate the triggers on")
    trigger: TriggerDefinition | None = Field(
        default=None, description="a draft trigger to evaluate alone instead of the stored active ones")


@router.post("/triggers", summary="Create a trigger (events, conditions, actions)",
             responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_trigger(body: TriggerIn) -> Response[Doc]:
    created = triggers(services()).create(body, by=caller(router, "admin"))
    return Response(201, content_types.APPLICATION_JSON, _json(created.model_dump(mode="json")))


@router.get("/triggers", summary="Every trigger, in evaluation order (position, then name)")
def list_triggers() -> ItemsOut:
    caller(router, "lead")
    return ItemsOut(items=[t.model_dump(mode="json") for t in triggers(services()).list()])


@router.post("/triggers/dry-run", summary="What would fire on this ticket for this event, and what it would do "
                                          "(changes nothing)")
def dry_run(body: DryRunIn) -> Doc:
    caller(router, "lead")
    return Doc(**triggers(services()).dry_run(body.ticket, body.event, draft=body.trigger))


@router.get("/triggers/<trigger_id>")
def get_trigger(trigger_id: uuid.UUID) -> Doc:
    caller(router, "lead")
    return Doc(**triggers(services()).get(trigger_id).model_dump(mode="json"))


@router.patch("/triggers/<trigger_id>", summary="Change the given fields of a trigger")
def update_trigger(trigger_id: uuid.UUID, body: TriggerUpdate) -> Doc:
    given: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
    updated = triggers(services()).update(trigger_id, given, by=caller(router, "admin"))
    return Doc(**updated.model_dump(mode="json"))


@router.delete("/triggers/<trigger_id>", responses={204: {"description": "deleted"}})
def delete_trigger(trigger_id: uuid.UUID):
    triggers(services()).delete(trigger_id, by=caller(router, "admin"))
    return Response(204, None, None)


@router.get("/triggers/<trigger_id>/firings", summary="The trigger's latest firings (ticket, chain, what each "
                                                       "action did), newest first")
def list_firings(trigger_id: uuid.UUID, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ItemsOut:
    caller(router, "lead")
    return ItemsOut(items=_json(triggers(services()).firings(trigger_id, limit=limit)))

"""Business-hours schedules and SLA policies (the sla engineer's modules: helpdesk.sla.schedule_store,
helpdesk.sla.policies); reading needs agent, writing needs admin. Bodies are passed through to
those modules, which validate them (ValidationFailed -> 422)."""
from __future__ import annotations

import uuid
from typing import Any, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.sla.policies import SlaPolicyIn
from helpdesk.sla.schedule_store import ScheduleIn
from helpdesk.tickets.models import Channel, Priority, Tier
from pydantic import ConfigDict, Field
from pydantic_core import to_jsonable_python

from ._shared import ApiModel, Doc, ItemsOut, caller, services

router = Router()


def _json(value: Any) -> Any:
    """Whatever the domain module returns (models, dicts with UUIDs and datetimes) as plain JSON."""
    return to_jsonable_python(value)


def schedules(svc):
    from helpdesk.sla.schedule_store import Schedules

    return Schedules(svc.db, svc.clock)


def policies(svc):
    from helpdesk.sla.policies import SlaPolicies

    return SlaPolicies(svc.db, svc.clock)


@router.post("/schedules", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_schedule(body: ScheduleIn) -> Response[Doc]:
    # Passed as a dict: the module's own parse also validates the schedule document itself.
    schedule = _json(schedules(services()).create(body.model_dump(mode="json", exclude_unset=True),
                                                  by=caller(router, "admin")))
    return Response(201, content_types.APPLICATION_JSON, schedule)


class OpenHoursIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(description="a schedule document (as in ScheduleIn), saved or not")
    days: int = Field(7, ge=1, le=31)


class DeadlinePreviewIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority = "normal"
    channel: Channel = "email"
    tier: Tier = "standard"
    team_id: Optional[uuid.UUID] = None
    customer_email: Optional[str] = Field(None, max_length=254, description="a known customer's contract and tier win")


@router.post("/schedules/open-hours", summary="A schedule's open hours over the next days, from now (a check)")
def schedule_open_hours(body: OpenHoursIn) -> Doc:
    caller(router)
    from helpdesk.sla.preview import open_hours

    return Doc(**open_hours(body.document, services().clock.now(), body.days))


@router.post("/sla-policies/preview", summary="The SLA policy and deadlines a ticket created now would get")
def sla_preview(body: DeadlinePreviewIn) -> Doc:
    caller(router)
    from helpdesk.sla.preview import deadline_preview

    svc = services()
    return Doc(**_json(deadline_preview(svc.db, svc.clock, **body.model_dump())))


@router.get("/schedules")
def list_schedules() -> ItemsOut:
    caller(router)
    return ItemsOut(items=_json(schedules(services()).list()))


@router.get("/schedules/<schedule_id>")
def get_schedule(schedule_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_json(schedules(services()).get(schedule_id)))


@router.put("/schedules/<schedule_id>")
def update_schedule(schedule_id: uuid.UUID, body: ScheduleIn) -> Doc:
    schedule = _json(schedules(services()).update(schedule_id, body.model_dump(mode="json", exclude_unset=True),
                                                  by=caller(router, "admin")))
    return Doc(**schedule)


@router.post("/sla-policies", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_policy(body: SlaPolicyIn) -> Response[Doc]:
    policy = _json(policies(services()).create(body.model_dump(mode="json", exclude_unset=True),
                                               by=caller(router, "admin")))
    return Response(201, content_types.APPLICATION_JSON, policy)


@router.get("/sla-policies")
def list_policies() -> ItemsOut:
    caller(router)
    return ItemsOut(items=_json(policies(services()).list()))


@router.get("/sla-policies/<policy_id>")
def get_policy(policy_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_json(policies(services()).get(policy_id)))


@router.put("/sla-policies/<policy_id>")
def update_policy(policy_id: uuid.UUID, body: SlaPolicyIn) -> Doc:
    policy = _json(policies(services()).update(policy_id, body.model_dump(mode="json", exclude_unset=True),
                                               by=caller(router, "admin")))
    return Doc(**policy)


@router.delete("/sla-policies/<policy_id>", responses={204: {"description": "deleted"}})
def delete_policy(policy_id: uuid.UUID):
    policies(services()).delete(policy_id, by=caller(router, "admin"))
    return Response(204, None, None)

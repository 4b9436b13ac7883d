"""Agents (skills, capacity, role, teams) and out-of-office with a delegate."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, ConfigDict

from helpdesk import errors
from helpdesk.admin import AgentIn, AgentPatch, Agents
from helpdesk.auth import Principal
from helpdesk.notify.preferences import NotificationPreferences, Preferences

from ._shared import ApiModel, Doc, ItemsOut, audit, caller, services, settings

router = Router()


class OutOfOfficeIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: Optional[AwareDatetime] = None
    delegate_id: Optional[uuid.UUID] = None


def _agents() -> Agents:
    svc = services()
    return Agents(svc.db, svc.clock)


def assignment(svc):
    """helpdesk.routing.assignment.Assignment (the routing engineer's module)."""
    from helpdesk.routing.assignment import Assignment

    return Assignment(svc.db, svc.clock, svc.publisher)


@router.get("/agents/me", summary="The signed-in agent (role from the sign-in groups)")
def me() -> Doc:
    who = caller(router)
    if who.agent_id is None:
        return Doc(id=None, email=who.email, role=who.role, team_ids=[], agent_record=False)
    return Doc(**{**_agents().get(who.agent_id), "role": who.role, "agent_record": True})


def _preferences() -> NotificationPreferences:
    svc = services()
    return NotificationPreferences(svc.db, svc.clock)


@router.get("/agents/me/notifications", summary="The signed-in agent's notification preferences (defaults until set)")
def get_my_notifications() -> Preferences:
    agent_id = caller(router).require_agent()
    return _preferences().get(agent_id)


@router.put("/agents/me/notifications",
            summary="Replace the signed-in agent's notification preferences",
            description="channels: per event type (ticket.assigned, ticket.replied, sla.warning, sla.breached) the "
                        "channels to use (email, slack; [] for none; an event type left out uses both). Quiet hours "
                        "(quiet_start/quiet_end, both or neither, in `timezone`): `defer` delivers when they end, "
                        "`drop` never sends.")
def put_my_notifications(body: Preferences) -> Preferences:
    agent_id = caller(router).require_agent()
    return _preferences().put(agent_id, body)


@router.post("/agents", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_agent(body: AgentIn) -> Response[Doc]:
    agent = _agents().create(body, by=caller(router, "admin"))
    return Response(201, content_types.APPLICATION_JSON, agent)


@router.get("/agents")
def list_agents(team: Annotated[Optional[uuid.UUID], Query()] = None, include_inactive: bool = False) -> ItemsOut:
    caller(router)
    return ItemsOut(items=_agents().list(team_id=team, include_inactive=include_inactive))


@router.get("/agents/<agent_id>")
def get_agent(agent_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_agents().get(agent_id))


@router.patch("/agents/<agent_id>")
def update_agent(agent_id: uuid.UUID, body: AgentPatch) -> Doc:
    agent = _agents().update(agent_id, body, by=caller(router, "admin"))
    return Doc(**agent)


@router.post("/agents/<agent_id>/invite",
             summary="Invite the agent to sign in (admin): a Cognito user mailed a temporary password in AWS; "
                     "locally nothing is sent (the answer says via: local)")
def invite_agent(agent_id: uuid.UUID) -> Doc:
    who = caller(router, "admin")
    from helpdesk import wiring
    from helpdesk.admin.invitations import invite

    config = settings()
    cognito = wiring.aws_client("cognito-idp", config) if config.user_pool_id else None
    invitation = invite(cognito, config.user_pool_id, _agents().get(agent_id))
    audit(who, "invite", "agent", agent_id, invitation)
    return Doc(**invitation)


def _may_manage(agent_id: uuid.UUID) -> Principal:
    who = caller(router)
    if who.agent_id != agent_id and not who.has_role("lead"):
        raise errors.Forbidden("only a lead or admin may set another agent's out-of-office")
    return who


@router.put("/agents/<agent_id>/out-of-office", summary="Set out-of-office (tickets handed to the delegate)")
def set_out_of_office(agent_id: uuid.UUID, body: OutOfOfficeIn) -> Doc:
    who = _may_manage(agent_id)
    assignment(services()).set_out_of_office(agent_id, body.start, body.end, body.delegate_id, by=who)
    return Doc(**_agents().get(agent_id))


@router.delete("/agents/<agent_id>/out-of-office", responses={204: {"description": "cleared"}})
def clear_out_of_office(agent_id: uuid.UUID):
    who = _may_manage(agent_id)
    assignment(services()).clear_out_of_office(agent_id, by=who)
    return Response(204, None, None)

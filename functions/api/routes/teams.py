"""Teams: admins create and change them (each change and its admin audit row in one call); every agent can
read them. A change is pushed to routing's per-process cache at once (other warm processes see it within
routing.config.TTL_SECONDS)."""
from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.admin import TeamIn, TeamPatch, Teams
from helpdesk.routing.config import invalidate as invalidate_routing

from ._shared import Doc, ItemsOut, caller, services

router = Router()


def _teams() -> Teams:
    svc = services()
    return Teams(svc.db, svc.clock)


@router.post("/teams", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_team(body: TeamIn) -> Response[Doc]:
    team = _teams().create(body, by=caller(router, "admin"))
    invalidate_routing(services().db)
    return Response(201, content_types.APPLICATION_JSON, team)


@router.get("/teams")
def list_teams() -> ItemsOut:
    caller(router)
    return ItemsOut(items=_teams().list())


@router.get("/teams/<team_id>")
def get_team(team_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_teams().get(team_id))


@router.patch("/teams/<team_id>")
def update_team(team_id: uuid.UUID, body: TeamPatch) -> Doc:
    team = _teams().update(team_id, body, by=caller(router, "admin"))
    invalidate_routing(services().db)
    return Doc(**team)

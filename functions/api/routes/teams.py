"""Teams: admins create and change them; every agent can read them."""
from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.admin import TeamIn, TeamPatch, Teams

from ._shared import Doc, ItemsOut, caller, services

router = Router()


def _teams() -> Teams:
    svc = services()
    return Teams(svc.db, svc.clock)


@router.post("/teams", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_team(body: TeamIn) -> Response[Doc]:
    caller(router, "admin")
    return Response(201, content_types.APPLICATION_JSON, _teams().create(body))


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
    caller(router, "admin")
    return Doc(**_teams().update(team_id, body))

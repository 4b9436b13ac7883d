"""Routing rules (the routing engineer's helpdesk.routing.rules.RoutingRules) and a dry run that
says which rule and team an intake event would get, without creating anything."""
from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.routing.models import Intake, RuleIn, RuleUpdate

from ._shared import Doc, ItemsOut, caller, services
from .sla_admin import _json

router = Router()


def rules(svc):
    from helpdesk.routing.rules import RoutingRules

    return RoutingRules(svc.db, svc.clock)


@router.post("/routing-rules", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_rule(body: RuleIn) -> Response[Doc]:
    rule = _json(rules(services()).create(body, by=caller(router, "admin")))
    return Response(201, content_types.APPLICATION_JSON, rule)


@router.get("/routing-rules")
def list_rules() -> ItemsOut:
    caller(router)
    return ItemsOut(items=_json(rules(services()).list()))


@router.post("/routing-rules/dry-run", summary="Which rule and team would this intake event get?")
def dry_run(body: Intake) -> Doc:
    caller(router, "lead")
    return Doc(**_json(rules(services()).dry_run(body.model_dump(mode="json"))))


@router.get("/routing-rules/<rule_id>")
def get_rule(rule_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_json(rules(services()).get(rule_id)))


@router.patch("/routing-rules/<rule_id>", summary="Change the given fields of a rule")
def update_rule(rule_id: uuid.UUID, body: RuleUpdate) -> Doc:
    rule = _json(rules(services()).update(rule_id, body.model_dump(mode="json", exclude_unset=True),
                                          by=caller(router, "admin")))
    return Doc(**rule)


@router.delete("/routing-rules/<rule_id>", responses={204: {"description": "deleted"}})
def delete_rule(rule_id: uuid.UUID):
    rules(services()).delete(rule_id, by=caller(router, "admin"))
    return Response(204, None, None)

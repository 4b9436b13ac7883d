"""Organizations (customers grouped by email domain, with the tier and SLA contract their members
inherit): agents read, admins change (each change is in the admin audit trail)."""
from __future__ import annotations

import uuid
from typing import Annotated, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpdesk.admin.organizations import OrganizationIn, OrganizationPatch, Organizations

from ._shared import Doc, ItemsOut, caller, services

router = Router()


def _organizations() -> Organizations:
    svc = services()
    return Organizations(svc.db, svc.clock)


@router.post("/organizations", summary="Create an organization (admin); customers of its domains join it",
             responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_organization(body: OrganizationIn) -> Response[Doc]:
    org = _organizations().create(body, by=caller(router, "admin"))
    return Response(201, content_types.APPLICATION_JSON, org)


@router.get("/organizations", summary="Organizations by name, or by name or domain beginning with q")
def list_organizations(q: Annotated[Optional[str], Query(max_length=200)] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ItemsOut:
    caller(router)
    return ItemsOut(items=_organizations().list(q=q, limit=limit))


@router.get("/organizations/suggestions",
            summary="Domains of customers in no organization, most customers first: candidates for organizations "
                    "(never public mail domains such as gmail.com) (admin)")
def organization_suggestions(min_customers: Annotated[int, Query(ge=1, le=1000)] = 2,
                             limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ItemsOut:
    caller(router, "admin")
    return ItemsOut(items=_organizations().suggestions(min_customers=min_customers, limit=limit))


@router.get("/organizations/<org_id>")
def get_organization(org_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_organizations().get(org_id))


@router.patch("/organizations/<org_id>",
              summary="Change name, domains (the list replaces the old one), tier or SLA contract (admin); "
                      "members without their own terms follow at once")
def update_organization(org_id: uuid.UUID, body: OrganizationPatch) -> Doc:
    org = _organizations().update(org_id, body, by=caller(router, "admin"))
    return Doc(**org)


@router.delete("/organizations/<org_id>", summary="Delete an organization (admin); members keep only their own terms",
               responses={204: {"description": "deleted"}})
def delete_organization(org_id: uuid.UUID):
    _organizations().delete(org_id, by=caller(router, "admin"))
    return Response(204, None, None)


@router.get("/organizations/<org_id>/members", summary="An organization's customers by email (after: the last email seen)")
def list_members(org_id: uuid.UUID, after: Annotated[Optional[str], Query(max_length=254)] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ItemsOut:
    caller(router)
    items = _organizations().members(org_id, after=after, limit=limit)
    return ItemsOut(items=items, next_cursor=items[-1]["email"] if len(items) == limit else None)

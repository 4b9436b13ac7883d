"""The admin audit trail: who changed which setting (admin)."""
from __future__ import annotations

import uuid
from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic_core import to_jsonable_python

from helpdesk.admin.audit import MAX_PAGE, AdminAudit, Resource

from ._shared import ItemsOut, caller, services

router = Router()


@router.get("/admin/audit", summary="Changes of settings, newest first, with who made them (admin)",
            description="Filters: resource, resource_id, actor (an agent id). Pass next_cursor back as `before` "
                        "for older changes.")
def list_admin_audit(resource: Annotated[Optional[Resource], Query(description="only changes of this kind of setting")] = None,
                     resource_id: Annotated[Optional[str], Query(max_length=200)] = None,
                     actor: Annotated[Optional[uuid.UUID], Query()] = None,
                     before: Annotated[Optional[int], Query(ge=1, le=2**63 - 1)] = None,
                     limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> ItemsOut:
    caller(router, "admin")
    svc = services()
    rows = AdminAudit(svc.db, svc.clock).list(resource=resource, resource_id=resource_id, actor_id=actor,
                                              before=before, limit=limit)
    return ItemsOut(items=to_jsonable_python(rows), next_cursor=str(rows[-1]["id"]) if len(rows) == limit else None)

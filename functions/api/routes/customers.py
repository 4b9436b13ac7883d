"""Customers: lookup by email, and their tickets."""
from __future__ import annotations

import uuid
from typing import Annotated, Optional

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpdesk.admin import Customers
from helpdesk.admin.customers import CustomerPatch
from helpdesk.views import DEFAULT_PAGE, MAX_PAGE, MIN_PAGE, Filters, Views, parse_statuses

from ._shared import Doc, ItemsOut, TicketPageOut, caller, services

router = Router()


@router.get("/customers", summary="Find customers by exact email or by the beginning of their email (q)")
def find_customers(email: Annotated[Optional[str], Query(max_length=254)] = None,
                   q: Annotated[Optional[str], Query(max_length=254)] = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 20) -> ItemsOut:
    caller(router)
    return ItemsOut(items=Customers(services().db).find(email=email, prefix=q, limit=limit))


@router.get("/customers/<customer_id>")
def get_customer(customer_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**Customers(services().db).get(customer_id))


@router.patch("/customers/<customer_id>",
              summary="Set a customer's own tier and SLA contract (null: inherit the organization's) or organization (admin)")
def update_customer(customer_id: uuid.UUID, body: CustomerPatch) -> Doc:
    svc = services()
    customer = Customers(svc.db, svc.clock).update(customer_id, body, by=caller(router, "admin"))
    return Doc(**customer)


@router.get("/customers/<customer_id>/tickets", summary="A customer's tickets, newest activity first")
def customer_tickets(customer_id: uuid.UUID,
                     status: Annotated[Optional[str], Query(max_length=300)] = None,
                     limit: Annotated[int, Query(ge=MIN_PAGE, le=MAX_PAGE)] = DEFAULT_PAGE,
                     cursor: Annotated[Optional[str], Query(max_length=500)] = None) -> TicketPageOut:
    who = caller(router)
    svc = services()
    page = Views(svc.db, svc.clock).page("all", Filters(statuses=parse_statuses(status), requester_id=customer_id),
                                         me=who.agent_id, limit=limit, cursor=cursor)
    return TicketPageOut(items=page.items, next_cursor=page.next_cursor, count=page.count.as_dict(), view=page.view)

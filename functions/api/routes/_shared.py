"""What every route needs: the caller (principal with role), the wired collaborators, and a few
response shapes. Routes raise domain errors; problems.py maps them to HTTP in one place."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpdesk import errors, wiring
from helpdesk.auth import DEFAULT_RESOLVER, Principal
from helpdesk.clock import Clock
from helpdesk.config import get_settings
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher

_publishers: dict[Any, Publisher] = {}


@dataclass
class Services:
    db: DataApi
    clock: Clock
    publisher: Publisher


def services() -> Services:
    # Looked up on every request (not imported by value) so tests and the local stack can rewire.
    factory = wiring.publisher
    if factory not in _publishers:  # an SNS client per warm process, not per request
        _publishers.clear()
        _publishers[factory] = factory()
    return Services(wiring.data_api(), wiring.clock(), _publishers[factory])


def claims_of(event: Any) -> dict[str, Any] | None:
    raw = event.raw_event if hasattr(event, "raw_event") else event
    authorizer = (raw.get("requestContext") or {}).get("authorizer") or {}
    return authorizer.get("claims")


def caller(router: Any, least: str = "agent") -> Principal:
    """The signed-in agent, checked to hold at least `least` (agent < lead < admin)."""
    return DEFAULT_RESOLVER.resolve(services().db, claims_of(router.current_event)).require(least)


def source_ip(router: Any) -> str:
    raw = router.current_event.raw_event
    return str(((raw.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "unknown")


def settings():
    return get_settings()


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise errors.ValidationFailed(f"{what} {value!r} is not a UUID") from None


def assignee_filter(assignee: str | None, who: Principal) -> tuple[str, uuid.UUID | None]:
    """The `assignee` query parameter (me, none or an agent id) as Filters' (assignee_mode, assignee_id)."""
    if assignee == "me":
        return "agent", who.require_agent()
    if assignee == "none":
        return "none", None
    if assignee:
        return "agent", parse_uuid(assignee, "assignee")
    return "any", None


def open_ticket(svc: Services, new_ticket: Any, *, actor: Any, idempotency_key: str | None, scope: str):
    """Every channel opens tickets through routing: rules pick the team, then push assignment."""
    from helpdesk.routing.intake import open_ticket as routed_open

    return routed_open(svc.db, svc.clock, svc.publisher, new_ticket, actor=actor,
                       idempotency_key=idempotency_key, idempotency_scope=scope)


def ticket_json(ticket: Any) -> dict[str, Any]:
    doc = ticket.model_dump(mode="json") if isinstance(ticket, BaseModel) else dict(ticket)
    doc.pop("priority_rank", None)
    doc.pop("search_tsv", None)
    doc["ref"] = f"TKT-{doc['number']}"
    return doc


class ApiModel(BaseModel):
    """Base of the routes' request and response models. Their schemas are built on first use
    (defer_build): a cold start pays only for the models of the routes it serves, not for all ~30."""

    model_config = ConfigDict(defer_build=True)


class Doc(ApiModel):
    """A JSON object; the listed fields are documented, others may follow."""

    model_config = ConfigDict(extra="allow")


class TicketOut(Doc):
    id: uuid.UUID
    number: int
    ref: str
    subject: str
    status: str
    priority: str
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None


class CountOut(ApiModel):
    value: int
    capped: bool
    display: str = Field(description='"999+" when the count was capped')


class ViewCountsOut(ApiModel):
    mine: CountOut = Field(description="my open tickets")
    queue: CountOut = Field(description="my teams' queues")
    at_risk: CountOut = Field(description="open tickets with a clock past its warning instant")
    all: CountOut = Field(description="every ticket")
    mine_unread: CountOut = Field(description="my open tickets with a customer message I have not opened")


class TicketPageOut(ApiModel):
    items: list[Doc]
    next_cursor: str | None
    count: CountOut
    view: str
    view_counts: ViewCountsOut | None = Field(default=None, description="with counts=true: every view's count")


class ItemsOut(ApiModel):
    items: list[Doc]
    next_cursor: str | None = None


def audit(who: Principal, action: str, resource: str, resource_id: Any, body: Any = None) -> None:
    """Record an admin change (helpdesk.admin.audit) with what was sent: the fields a PATCH set."""
    from helpdesk.admin.audit import AdminAudit

    data = body.model_dump(mode="json", exclude_unset=True) if isinstance(body, BaseModel) else body
    svc = services()
    AdminAudit(svc.db, svc.clock).record(who, action, resource, resource_id, data)  # type: ignore[arg-type]

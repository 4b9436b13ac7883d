"""The event envelope and one pydantic payload model per event type.

Wire format (the SNS message body, and the SQS body with raw delivery):

    {"id": "<uuid>", "type": "ticket.assigned", "version": 1, "ticket_id": "<uuid>|null",
     "occurred_at": "2026-03-02T15:00:00+00:00", "payload": {...}}

The types below are exactly what the producers write (helpdesk/db/tickets/ and the functions of
migration 1170 for the ticket commands, helpdesk/db/macros.py for macros, helpdesk/db/sla.py for sla.*, helpdesk/db/routing.py for
agent.out_of_office_started, helpdesk/db/customer_requests.py for customer.requests_link). A payload
model lists the fields consumers rely on; extra
fields are kept (additive changes need no new version); a breaking change is a new `version`
with its own model registered beside the old one. An unknown type or version is rejected with
UnknownEventType naming what is known, so a producer bug is loud instead of silently dropped.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import (AwareDatetime, BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError,
                      model_validator)

from helpdesk import errors

AuthorType = Literal["customer", "agent", "system"]
SlaKind = Literal["first_response", "next_reply", "resolution"]


class UnknownEventType(errors.ValidationFailed):
    """An event type (or version) no payload model is registered for."""


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class TicketCreated(EventPayload):
    number: int
    channel: str
    subject: str
    priority: str
    team_id: uuid.UUID | None = None
    requester_email: str | None = None
    message_id: uuid.UUID
    parent_ticket_id: uuid.UUID | None = None


class TicketReplied(EventPayload):
    message_id: uuid.UUID
    author_type: AuthorType
    visibility: Literal["public", "internal"]
    channel: str
    number: int
    assignee_id: uuid.UUID | None = None
    first_response: bool = False


class TicketStatusChanged(EventPayload):
    # `from` is a Python keyword: the attribute is from_status, the wire name stays "from".
    from_status: str = Field(alias="from")
    to_status: str = Field(alias="to")
    reason: str | None = None
    number: int
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    merged_into: uuid.UUID | None = None
    merged_into_number: int | None = None
    duplicate_of: uuid.UUID | None = None  # set when to is "duplicate"


class TicketAssigned(EventPayload):
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    previous_agent_id: uuid.UUID | None = None
    reason: str
    number: int


class TicketMerged(EventPayload):
    merged_from: uuid.UUID
    merged_from_number: int
    number: int
    messages_moved: int


class OutboundRequested(EventPayload):
    message_id: uuid.UUID
    channel: str
    number: int


class TicketPriorityChanged(EventPayload):
    from_priority: str = Field(alias="from")
    to_priority: str = Field(alias="to")
    reason: str | None = None
    number: int
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class TicketTagsChanged(EventPayload):
    """Written by the tag change command (helpdesk/db/tickets/tags.py) and by macros (helpdesk/db/macros.py):
    the tags after the change."""

    number: int
    tags: list[str]
    added: list[str] = []
    removed: list[str] = []
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class SlaWarning(EventPayload):
    """Written by the SLA sweep (helpdesk/db/sla.py) for one clock about to breach."""

    kind: SlaKind
    due_at: AwareDatetime
    number: int
    priority: str | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class SlaBreachedClock(EventPayload):
    kind: SlaKind
    due_at: AwareDatetime
    target_seconds: int | None = None
    policy_id: uuid.UUID | None = None


class SlaBreached(EventPayload):
    """Written by the SLA sweep once per ticket per sweep: every clock that breached, the priority
    raise and any escalation to another team; `notify` names who should hear about it."""

    kind: SlaKind
    clocks: list[SlaBreachedClock] = []
    number: int
    status: str | None = None
    priority_from: str | None = None
    priority_to: str | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    previous_team_id: uuid.UUID | None = None
    escalated_to_team_id: uuid.UUID | None = None
    notify: list[str] = ["assignee", "team_lead"]


class AgentOutOfOfficeStarted(EventPayload):
    """Routing's out-of-office handover (no ticket_id): the agent's tickets went to a delegate or the queue."""

    agent_id: uuid.UUID
    delegate_id: uuid.UUID | None = None
    until: AwareDatetime | None = None
    tickets_handed_over: int = 0
    to_delegate: bool = False


class CustomerRequestsLink(EventPayload):
    """A customer asked, from a ticket's portal, for the link to all their requests (mailed by outbound;
    written by helpdesk/db/customer_requests.py)."""

    customer_id: uuid.UUID
    number: int


# (type, version) -> payload model. Add a row here when a producer starts writing a new type.
PAYLOADS: dict[tuple[str, int], type[EventPayload]] = {
    ("ticket.created", 1): TicketCreated,
    ("ticket.replied", 1): TicketReplied,
    ("ticket.status_changed", 1): TicketStatusChanged,
    ("ticket.assigned", 1): TicketAssigned,
    ("ticket.merged", 1): TicketMerged,
    ("outbound.requested", 1): OutboundRequested,
    ("sla.warning", 1): SlaWarning,
    ("sla.breached", 1): SlaBreached,
    ("ticket.priority_changed", 1): TicketPriorityChanged,
    ("ticket.tags_changed", 1): TicketTagsChanged,
    ("agent.out_of_office_started", 1): AgentOutOfOfficeStarted,
    ("customer.requests_link", 1): CustomerRequestsLink,
}
EVENT_TYPES: tuple[str, ...] = tuple(sorted({t for t, _ in PAYLOADS}))


def payload_model(event_type: str, version: int = 1) -> type[EventPayload]:
    model = PAYLOADS.get((event_type, version))
    if model is None:
        if event_type not in EVENT_TYPES:
            raise UnknownEventType(f"unknown event type {event_type!r}; known types: {', '.join(EVENT_TYPES)}",
                                   event_type=event_type)
        versions = sorted(v for t, v in PAYLOADS if t == event_type)
        raise UnknownEventType(f"unknown version {version} of event type {event_type!r}; known versions: {versions}",
                               event_type=event_type, version=version)
    return model


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    type: str
    version: int = 1
    ticket_id: uuid.UUID | None = None
    occurred_at: AwareDatetime
    payload: SerializeAsAny[EventPayload]

    @model_validator(mode="before")
    @classmethod
    def _typed_payload(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        model = payload_model(str(data.get("type")), int(data.get("version") or 1))
        payload = data.get("payload")
        if isinstance(payload, str):  # jsonb that arrived as text
            payload = json.loads(payload)
        if not isinstance(payload, model):
            payload = model.model_validate(payload if payload is not None else {})
        return {**data, "payload": payload}

    # -- conversions --------------------------------------------------------------------------
    @classmethod
    def from_outbox_row(cls, row: dict[str, Any]) -> "Event":
        """An outbox row as the commands return it (`to_jsonb(outbox)`) or the relay reads it."""
        return validate_outbox_row(row)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def parse_event(body: str | bytes | dict[str, Any]) -> Event:
    """An event from a queue message body: the event JSON itself (SNS raw message delivery) or the
    SNS notification envelope around it ({"Type": "Notification", "Message": "<event json>"}).
    Raises ValidationFailed (UnknownEventType for an unknown type) naming every problem."""
    try:
        doc = json.loads(body) if isinstance(body, (str, bytes)) else body
        if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
            doc = json.loads(doc["Message"])
    except (TypeError, ValueError) as exc:
        raise errors.ValidationFailed(f"event body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.ValidationFailed(f"event body must be a JSON object, got {type(doc).__name__}")
    return _validated(doc)


def validate_outbox_row(row: dict[str, Any]) -> Event:
    """Like parse_event, for an outbox row (raises ValidationFailed naming the problem)."""
    return _validated({
        "id": row.get("id"), "type": row.get("event_type"), "version": row.get("schema_version") or 1,
        "ticket_id": row.get("ticket_id"), "occurred_at": row.get("occurred_at"), "payload": row.get("payload"),
    })


class _Envelope(BaseModel):
    id: uuid.UUID
    type: str
    version: int = 1
    ticket_id: uuid.UUID | None = None
    occurred_at: AwareDatetime
    payload: dict[str, Any]


def _validated(doc: dict[str, Any]) -> Event:
    """Validate envelope and payload separately so the message names every problem with its path."""
    type_ = doc.get("type")
    if not isinstance(type_, str):
        raise errors.ValidationFailed(f"event type must be a string; known types: {', '.join(EVENT_TYPES)}")
    version = doc.get("version") or 1
    model = payload_model(type_, version if isinstance(version, int) else 0)
    payload = doc.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
    problems: list[str] = []
    envelope = typed = None
    try:
        envelope = _Envelope.model_validate({**doc, "payload": payload if isinstance(payload, dict) else {}})
    except ValidationError as exc:
        problems += _describe(exc)
    if not isinstance(payload, dict):
        problems.append(f"payload: must be a JSON object, got {type(payload).__name__}")
    else:
        try:
            typed = model.model_validate(payload)
        except ValidationError as exc:
            problems += _describe(exc, prefix="payload.")
    if problems or envelope is None or typed is None:
        raise errors.ValidationFailed(f"invalid {type_} event {doc.get('id')}: {'; '.join(problems)}",
                                      event_type=type_, problems=problems)
    return Event.model_validate({**envelope.model_dump(), "payload": typed})


def _describe(exc: ValidationError, prefix: str = "") -> list[str]:
    return [f"{prefix}{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()]

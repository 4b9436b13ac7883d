"""A trigger's definition as data: when it runs (events), when it acts (conditions), what it does
(actions). Validated here, once, for the API, the store and the engine alike; an error names the
field by its path (`conditions.all.1.value`, `actions.0.agent_id`) and what is allowed.

    {"name": "Urgent words", "position": 10, "is_active": true,
     "events": ["ticket_created", "customer_replied"],
     "conditions": {"all": [{"field": "channel", "op": "is", "value": "email"},
                            {"field": "subject_or_body", "op": "contains_any", "value": ["outage", "down"]}],
                    "any": []},
     "actions": [{"type": "set_priority", "value": "urgent"},
                 {"type": "add_tags", "value": ["outage"]},
                 {"type": "post_slack", "channel": "C0123ABCD", "text": "{{ticket.ref}} {{ticket.subject}}"}]}

`conditions` hold when every condition of `all` holds and, if `any` is not empty, at least one of
`any` does. Each condition is {"field", "op", "value"}; FIELDS lists the fields, their operators and
what their value is.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from helpdesk import errors
from helpdesk.tickets import states
from helpdesk.tickets.models import MAX_TAG, MAX_TAGS, PRIORITIES, TIERS

# -- events ---------------------------------------------------------------------------------------
# What an admin picks, and the outbox events (helpdesk.events.schemas) each one means. A
# ticket.replied is "customer_replied" when a customer wrote it and an update otherwise.
TRIGGER_EVENTS: dict[str, tuple[str, ...]] = {
    "ticket_created": ("ticket.created",),
    "ticket_updated": ("ticket.status_changed", "ticket.assigned", "ticket.priority_changed", "ticket.tags_changed",
                       "ticket.merged", "ticket.replied"),
    "customer_replied": ("ticket.replied",),
    "sla_warning": ("sla.warning",),
    "sla_breached": ("sla.breached",),
}
TriggerEvent = Literal["ticket_created", "ticket_updated", "customer_replied", "sla_warning", "sla_breached"]
# Every outbox event type a trigger may run on (the engine ignores the others without a call).
WATCHED_EVENT_TYPES = frozenset(t for types in TRIGGER_EVENTS.values() for t in types)


def trigger_event(event_type: str, payload: dict[str, Any]) -> str | None:
    """The trigger event an outbox event is, or None when no trigger runs on it."""
    if event_type == "ticket.replied":
        return "customer_replied" if payload.get("author_type") == "customer" else "ticket_updated"
    return next((name for name, types in TRIGGER_EVENTS.items() if event_type in types), None)


# -- conditions -----------------------------------------------------------------------------------
CHANNELS = ("email", "web", "chat", "slack", "api")
STATUSES = tuple(s.value for s in states.Status)
ENUM_OPS = ("is", "is_not", "in", "not_in")
WORD_OPS = ("contains_any", "contains_all", "contains_none")
TAG_OPS = ("includes_any", "includes_all", "includes_none")
NUMBER_OPS = ("greater_than", "less_than")
MAX_WORDS = 50
MAX_WORD = 100
MAX_CONDITIONS = 50
MAX_ACTIONS = 20
MAX_HOURS = 24 * 366
# A definition (events, conditions, actions as JSON) stays far under the Data API's 64 KB row.
MAX_DEFINITION_BYTES = 16_000


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # enum | ref | tags | words | hours
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()
    about: str = ""


FIELDS: dict[str, FieldSpec] = {
    "channel": FieldSpec("enum", ENUM_OPS, CHANNELS, "the channel the ticket came in by"),
    "status": FieldSpec("enum", ENUM_OPS, STATUSES, "the ticket's status"),
    "priority": FieldSpec("enum", ENUM_OPS + ("at_least", "at_most"), PRIORITIES, "the ticket's priority"),
    "tier": FieldSpec("enum", ENUM_OPS, TIERS, "the requester's support tier"),
    "team_id": FieldSpec("ref", ENUM_OPS, (), "the ticket's team"),
    "assignee_id": FieldSpec("ref", ENUM_OPS, (), "the ticket's assignee"),
    "tags": FieldSpec("tags", TAG_OPS, (), "the ticket's tags"),
    "subject": FieldSpec("words", WORD_OPS, (), "words or phrases in the subject"),
    "body": FieldSpec("words", WORD_OPS, (), "words or phrases in the message the event is about (else the latest)"),
    "subject_or_body": FieldSpec("words", WORD_OPS, (), "words or phrases in the subject or that message"),
    "hours_since_created": FieldSpec("hours", NUMBER_OPS, (), "hours since the ticket was created"),
    "hours_since_updated": FieldSpec("hours", NUMBER_OPS, (), "hours since the ticket last changed"),
    "hours_since_customer_message": FieldSpec("hours", NUMBER_OPS, (),
                                              "hours since the customer last wrote (never written: no match)"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{where} must be a non-empty list of words or phrases")
    if len(value) > MAX_WORDS:
        raise ValueError(f"{where} has {len(value)} entries; at most {MAX_WORDS}")
    out = []
    for word in value:
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_WORD:
            raise ValueError(f"{where}: each entry must be text of 1 to {MAX_WORD} characters, got {_short(word)}")
        out.append(" ".join(word.split()))
    return tuple(dict.fromkeys(out))


def _tags(value: Any, where: str, *, limit: int = MAX_TAGS) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{where} must be a non-empty list of tags")
    if len(value) > limit:
        raise ValueError(f"{where} has {len(value)} tags; at most {limit}")
    for tag in value:
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= MAX_TAG:
            raise ValueError(f"{where}: each tag must be text of 1 to {MAX_TAG} characters, got {_short(tag)}")
    return tuple(dict.fromkeys(t.strip().lower() for t in value))


ConditionField = Literal["channel", "status", "priority", "tier", "team_id", "assignee_id", "tags", "subject", "body",
                         "subject_or_body", "hours_since_created", "hours_since_updated", "hours_since_customer_message"]
ConditionOp = Literal["is", "is_not", "in", "not_in", "at_least", "at_most", "includes_any", "includes_all",
                      "includes_none", "contains_any", "contains_all", "contains_none", "greater_than", "less_than"]
_VALUE_KINDS = {"enum": "one of: {choices} (a list of them for in / not_in)",
                "ref": "an id, or null for none (a list of them for in / not_in)",
                "tags": "a list of tags", "words": "a list of words or phrases (whole words, any case)",
                "hours": "a number of hours"}


def _conditions_doc() -> str:
    lines = ["A condition on the ticket: {field, op, value}. Per field, its operators and value:"]
    for name, spec in FIELDS.items():
        kind = _VALUE_KINDS[spec.kind].format(choices=", ".join(spec.choices))
        lines.append(f"- {name} ({spec.about}): {', '.join(spec.ops)}; value: {kind}")
    return "\n".join(lines)


class Condition(_Strict):
    __doc__ = _conditions_doc()

    field: ConditionField
    op: ConditionOp
    value: Any = None

    @field_validator("op")
    @classmethod
    def _op_of_field(cls, v: str, info: ValidationInfo) -> str:
        spec = FIELDS.get(info.data.get("field", ""))
        if spec is not None and v not in spec.ops:
            raise ValueError(f"op {v!r} does not apply to field {info.data['field']}; allowed: {', '.join(spec.ops)}")
        return v

    @field_validator("value")
    @classmethod
    def _value_of_field(cls, v: Any, info: ValidationInfo) -> Any:
        field_, op = info.data.get("field"), info.data.get("op")
        if field_ is None or op is None:
            return v  # the field or op is wrong: that is the error reported
        return _condition_value(field_, op, FIELDS[field_], v)


def _condition_value(field: str, op: str, spec: FieldSpec, value: Any) -> Any:
    many = op in ("in", "not_in")
    if spec.kind == "enum":
        values = value if many else [value]
        if many and (not isinstance(value, (list, tuple)) or not value):
            raise ValueError(f"value of {field} {op} must be a non-empty list; allowed entries: {', '.join(spec.choices)}")
        for v in values:
            if v not in spec.choices:
                raise ValueError(f"value {v!r} is not a {field}; allowed: {', '.join(spec.choices)}")
        return tuple(dict.fromkeys(values)) if many else value
    if spec.kind == "ref":
        values = value if many else [value]
        if many and (not isinstance(value, (list, tuple)) or not value):
            raise ValueError(f"value of {field} {op} must be a non-empty list of ids (null for none)")
        out = []
        for v in values:
            if v is None:
                out.append(None)
                continue
            try:
                out.append(str(uuid.UUID(str(v))))
            except ValueError:
                raise ValueError(f"value {v!r} of {field} is not an id (a UUID) or null") from None
        return tuple(dict.fromkeys(out)) if many else out[0]
    if spec.kind == "tags":
        return _tags(value, f"value of {field} {op}", limit=MAX_WORDS)
    if spec.kind == "words":
        return _words(value, f"value of {field} {op}")
    # hours
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_HOURS:
        raise ValueError(f"value of {field} must be a number of hours from 0 to {MAX_HOURS}, got {value!r}")
    return float(value)


class Conditions(_Strict):
    all: tuple[Condition, ...] = Field(default=(), max_length=MAX_CONDITIONS)
    any: tuple[Condition, ...] = Field(default=(), max_length=MAX_CONDITIONS)


# -- actions --------------------------------------------------------------------------------------
# {{name}} placeholders a mail or Slack text may use (helpdesk.triggers.evaluate.render).
PLACEHOLDERS = ("ticket.ref", "ticket.number", "ticket.subject", "ticket.status", "ticket.priority", "ticket.channel",
                "ticket.tags", "ticket.url", "requester.email", "requester.name", "team.name", "trigger.name")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
MAX_SUBJECT = 500
MAX_TEXT = 10_000
# Statuses a trigger may set with a bare status change: assigned and merged are entered only by their
# own commands (set_assignee assigns), duplicate needs the ticket it duplicates.
SETTABLE_STATUSES = tuple(s.value for s in states.Status
                          if s not in states.ENTERED_BY_COMMAND and s is not states.Status.DUPLICATE)
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,30}$")


def _template(text: str, where: str) -> str:
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"{where} uses unknown placeholder(s) {', '.join('{{' + u + '}}' for u in unknown)}; "
                         f"allowed: {', '.join('{{' + p + '}}' for p in PLACEHOLDERS)}")
    return text


class SetPriority(_Strict):
    type: Literal["set_priority"]
    value: Literal["low", "normal", "high", "urgent"]


class SetStatus(_Strict):
    type: Literal["set_status"]
    value: str

    @field_validator("value")
    @classmethod
    def _settable(cls, v: str) -> str:
        if v not in SETTABLE_STATUSES:
            raise ValueError(f"a trigger cannot set status {v!r}; allowed: {', '.join(SETTABLE_STATUSES)} "
                             "(assign with set_assignee)")
        return v


class AddTags(_Strict):
    type: Literal["add_tags"]
    value: tuple[str, ...]

    @field_validator("value", mode="before")
    @classmethod
    def _valid(cls, v: Any) -> tuple[str, ...]:
        return _tags(v, "value")


class RemoveTags(AddTags):
    type: Literal["remove_tags"]  # type: ignore[assignment]


class SetTeam(_Strict):
    type: Literal["set_team"]
    team_id: uuid.UUID


class SetAssignee(_Strict):
    type: Literal["set_assignee"]
    agent_id: uuid.UUID


class SendMail(_Strict):
    """A mail from a template: to the requester (threaded: their answer comes back to the ticket), to the
    members of a team, or to listed agents."""

    type: Literal["send_mail"]
    to: Literal["requester", "team", "agents"]
    team_id: uuid.UUID | None = None
    agent_ids: tuple[uuid.UUID, ...] = Field(default=(), max_length=50)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _recipients(self) -> "SendMail":
        if (self.to == "team") != (self.team_id is not None):
            raise ValueError("team_id is required when to is team, and allowed only then")
        if (self.to == "agents") != bool(self.agent_ids):
            raise ValueError("agent_ids (at least one) is required when to is agents, and allowed only then")
        _template(self.subject, "subject")
        _template(self.body, "body")
        return self


class PostSlack(_Strict):
    type: Literal["post_slack"]
    channel: str
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not SLACK_CHANNEL.match(v):
            raise ValueError(f"{v!r} is not a Slack channel id (like C0123ABCD)")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _template(v, "text")


Action = Annotated[Union[SetPriority, SetStatus, AddTags, RemoveTags, SetTeam, SetAssignee, SendMail, PostSlack],
                   Field(discriminator="type")]
ACTION_TYPES = ("set_priority", "set_status", "add_tags", "remove_tags", "set_team", "set_assignee", "send_mail",
                "post_slack")


# -- the trigger ----------------------------------------------------------------------------------
def _check_size(definition_json: str) -> None:
    size = len(definition_json.encode())
    if size > MAX_DEFINITION_BYTES:
        raise ValueError(f"the trigger's events, conditions and actions take {size} bytes as JSON; at most "
                         f"{MAX_DEFINITION_BYTES} (split it into several triggers)")


def _non_empty(v: tuple[Any, ...]) -> tuple[Any, ...]:
    """A list of at least one entry (checked after its entries, so an invalid entry is the one error)."""
    if not v:
        raise ValueError("must have at least one entry")
    return v


class TriggerDefinition(_Strict):
    """What the evaluator needs (a stored trigger, or a draft in a dry run)."""

    name: str = Field(min_length=1, max_length=200)
    position: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    is_active: bool = True
    events: tuple[TriggerEvent, ...] = Field(max_length=len(TRIGGER_EVENTS))
    conditions: Conditions = Conditions()
    actions: tuple[Action, ...] = Field(max_length=MAX_ACTIONS)

    @field_validator("events")
    @classmethod
    def _events(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_non_empty(v)))

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: tuple[Any, ...]) -> tuple[Any, ...]:
        return _non_empty(v)

    @model_validator(mode="after")
    def _size(self) -> "TriggerDefinition":
        _check_size(self.model_dump_json(include={"events", "conditions", "actions"}))
        return self


class Trigger(TriggerDefinition):
    """A stored trigger."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    id: uuid.UUID
    description: str | None = None
    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime


class TriggerIn(TriggerDefinition):
    """A new trigger (POST /triggers)."""

    description: str | None = Field(default=None, max_length=2000)

    @classmethod
    def parse(cls, data: Any) -> "TriggerIn":
        return _parse(cls, data)


class TriggerUpdate(_Strict):
    """The fields of a trigger to change (PATCH /triggers/{id}); the others stay."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    is_active: bool | None = None
    events: tuple[TriggerEvent, ...] | None = Field(default=None, max_length=len(TRIGGER_EVENTS))
    conditions: Conditions | None = None
    actions: tuple[Action, ...] | None = Field(default=None, max_length=MAX_ACTIONS)

    @field_validator("events")
    @classmethod
    def _events(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else tuple(dict.fromkeys(_non_empty(v)))

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        return None if v is None else _non_empty(v)

    @model_validator(mode="after")
    def _size(self) -> "TriggerUpdate":
        _check_size(self.model_dump_json(include={"events", "conditions", "actions"}, exclude_none=True))
        return self

    @classmethod
    def parse(cls, data: Any) -> "TriggerUpdate":
        return _parse(cls, data)


def _parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.ValidationFailed(describe_errors(exc), errors=exc.errors(include_url=False, include_context=False)) from None


def describe_errors(exc: ValidationError) -> str:
    """Each problem as `path: message`, the path as the JSON has it (an action's type is not a level)."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for i, p in enumerate(err["loc"])
               if not (p in ACTION_TYPES and i > 0 and isinstance(err["loc"][i - 1], int))]
        parts.append(f"{'.'.join(loc) or 'body'}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def dump_definition(trigger: TriggerDefinition) -> dict[str, Any]:
    """The JSON stored for events, conditions and actions."""
    doc = trigger.model_dump(mode="json", include={"events", "conditions", "actions"})
    return doc

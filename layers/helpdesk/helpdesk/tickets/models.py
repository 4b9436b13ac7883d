"""Typed inputs and outputs of the ticket commands. Limits live here, named, so errors can cite them."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from helpdesk.errors import ValidationFailed

MAX_SUBJECT = 500
MAX_BODY = 100_000
MAX_TAGS = 20
MAX_TAG = 50
Channel = Literal["email", "web", "chat", "slack", "api"]
Priority = Literal["low", "normal", "high", "urgent"]
# A customer's support tier (customers.tier): routing rules and SLA policies match on it.
Tier = Literal["standard", "premium", "enterprise"]
TIERS: tuple[str, ...] = get_args(Tier)
Visibility = Literal["public", "internal"]
AuthorType = Literal["customer", "agent", "system"]
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

# Deliberately simple: one @, no spaces, a dot in the domain. Real validation is delivery.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TICKET_REF = re.compile(r"^TKT-(\d{1,18})$", re.IGNORECASE)


def normalize_email(value: str) -> str:
    """The address as stored and matched: lower case, NFC, the domain in its ASCII (IDNA) form.
    International addresses (RFC 6531/6532) are accepted: a UTF-8 local part is kept as written,
    a Unicode domain becomes its xn-- form (display_email shows it back in Unicode)."""
    email = unicodedata.normalize("NFC", value.strip()).lower()
    local, at, domain = email.rpartition("@")
    if at and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{value!r} is not an email address (its domain is not a valid international "
                             "domain name)") from None
        email = f"{local}@{domain}"
    if len(email) > 254 or not _EMAIL.match(email) or _CONTROL.search(local):
        raise ValueError(f"{value!r} is not an email address (expected name@domain.tld)")
    return email


def display_email(email: str) -> str:
    """A stored address with its domain in Unicode again (xn-- labels decoded), for people to read."""
    local, at, domain = email.rpartition("@")
    if not at or "xn--" not in domain:
        return email
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return email


class _Input(BaseModel):
    # defer_build: a model's validator is built when first used, so a Lambda cold start pays only for
    # the models its request needs (the admin inputs alone cost ~10 ms to build at import).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True, defer_build=True)

    @classmethod
    def parse(cls, data: Any) -> Any:
        """Validate, turning pydantic's error into ValidationFailed naming each field and its rule."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed(describe_validation_error(exc), errors=exc.errors(include_url=False, include_context=False)) from None


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


class NewTicket(_Input):
    """One intake event from any channel: what a new ticket is made from."""

    channel: Channel
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(max_length=MAX_BODY)
    requester_email: str
    requester_name: str | None = Field(default=None, max_length=200)
    priority: Priority = "normal"
    team_id: UUID | None = None
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    # Channel details.
    inbound_message_id: str | None = Field(default=None, max_length=998)
    body_full: str | None = Field(default=None, max_length=MAX_BODY * 5)
    body_html: str | None = Field(default=None, max_length=MAX_BODY * 5)
    channel_thread_id: str | None = Field(default=None, max_length=300)
    participants: list[str] = Field(default_factory=list, max_length=50)
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict)
    parent_ticket_id: UUID | None = None
    possible_followup_of: UUID | None = None

    @field_validator("subject")
    @classmethod
    def _subject_has_text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("subject must not be blank")
        return v

    @field_validator("requester_email")
    @classmethod
    def _email(cls, v: str) -> str:
        return normalize_email(v)

    @field_validator("participants")
    @classmethod
    def _participants(cls, v: list[str]) -> list[str]:
        return sorted({normalize_email(p) for p in v})

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for tag in v:
            if not 1 <= len(tag) <= MAX_TAG:
                raise ValueError(f"each tag must be 1 to {MAX_TAG} characters")
        return list(dict.fromkeys(t.lower() for t in v))


class NewMessage(_Input):
    body: str = Field(min_length=1, max_length=MAX_BODY)
    visibility: Visibility = "public"
    author_type: AuthorType
    author_agent_id: UUID | None = None
    author_email: str | None = None
    channel: Literal["email", "web", "chat", "slack", "api", "system"] = "api"
    inbound_message_id: str | None = Field(default=None, max_length=998)
    body_full: str | None = Field(default=None, max_length=MAX_BODY * 5)
    body_html: str | None = Field(default=None, max_length=MAX_BODY * 5)
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("author_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else normalize_email(v)


class Ticket(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: UUID
    number: int
    subject: str
    status: str
    priority: str
    channel: str
    requester_id: UUID
    team_id: UUID | None = None
    assignee_id: UUID | None = None
    parent_ticket_id: UUID | None = None
    merged_into_id: UUID | None = None
    possible_followup_of: UUID | None = None
    tags: list[str] = []
    channel_thread_id: str | None = None
    reopen_count: int = 0
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    message_count: int = 0
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> str:
        return f"TKT-{self.number}"


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: UUID
    position: int
    ticket_id: UUID
    author_type: str
    author_customer_id: UUID | None = None
    author_agent_id: UUID | None = None
    visibility: str
    channel: str
    body: str
    body_full: str | None = None
    body_html: str | None = None
    inbound_message_id: str | None = None
    attachments: list[dict[str, Any]] = []
    metadata: dict[str, Any] = {}
    created_at: datetime


class Actor(BaseModel):
    """Who runs a command: an agent (with role), a customer, the system (sweep, intake) or a trigger."""

    model_config = ConfigDict(frozen=True)

    # A trigger (helpdesk.triggers) acting on a ticket: id is the trigger's id.
    type: Literal["customer", "agent", "system", "trigger"]
    id: UUID | None = None
    role: Literal["agent", "lead", "admin"] | None = None

    @classmethod
    def system(cls) -> "Actor":
        return cls(type="system")


def parse_ticket_ref(value: str) -> tuple[str, UUID | int]:
    """'TKT-42' -> ('number', 42); a UUID -> ('id', UUID). Anything else is a clear error."""
    match = TICKET_REF.match(value.strip())
    if match:
        return "number", int(match.group(1))
    try:
        return "id", UUID(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a ticket id: expected a UUID or a reference like TKT-42") from None

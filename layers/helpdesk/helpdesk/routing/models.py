"""Typed inputs and outputs of routing: rule documents, the intake a rule is matched against."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.tickets.models import MAX_TAG, MAX_TAGS, TIERS, Channel, NewTicket, Priority, Tier, _Input, normalize_email

MAX_VALUES = 100  # per condition list
MAX_KEYWORD = 100
MAX_RULE_NAME = 200
MAX_POSITION = 1_000_000


def _clean_words(values: list[str], what: str, limit: int) -> list[str]:
    out: list[str] = []
    for value in values:
        word = " ".join(value.split()).lower()
        if not 1 <= len(word) <= limit:
            raise ValueError(f"each {what} must be 1 to {limit} characters (not blank)")
        if word not in out:
            out.append(word)
    return out


class RuleConditions(_Input):
    """All given conditions must hold (AND); within one list any value may match (OR).
    An empty document matches every intake."""

    channels: list[Channel] = Field(default_factory=list, max_length=MAX_VALUES)
    # The support address the customer wrote to (envelope recipient), e.g. billing@example.com.
    recipients: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    # Whole words or phrases in the subject or the body, case-insensitive.
    keywords: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    tiers: list[Tier] = Field(default_factory=list, max_length=len(TIERS))
    # Any of these tags on the ticket.
    tags: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_email(r) for r in v))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        return _clean_words(v, "keyword", MAX_KEYWORD)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _clean_words(v, "tag", 50)

    @field_validator("channels", "tiers", "priorities")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    def is_catch_all(self) -> bool:
        return not (self.channels or self.recipients or self.keywords or self.tiers or self.tags or self.priorities)


def _clean_add_tags(v: list[str] | None) -> list[str] | None:
    return None if v is None else _clean_words(v, "tag in add_tags", MAX_TAG)


class RuleIn(_Input):
    name: str = Field(min_length=1, max_length=MAX_RULE_NAME)
    team_id: UUID
    # Lower runs first; omitted: after every existing rule.
    position: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    is_active: bool = True
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    # Tags the rule adds to the tickets it routes (at intake, any channel): skill routing reads them.
    add_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("add_tags")
    @classmethod
    def _add_tags(cls, v: list[str] | None) -> list[str] | None:
        return _clean_add_tags(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name must not be blank")
        return v.strip()


class RuleUpdate(_Input):
    """A partial update: only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_RULE_NAME)
    team_id: UUID | None = None
    position: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    is_active: bool | None = None
    conditions: RuleConditions | None = None
    add_tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)

    @field_validator("add_tags")
    @classmethod
    def _add_tags(cls, v: list[str] | None) -> list[str] | None:
        return _clean_add_tags(v)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [k for k, v in data.items() if v is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)}: null is not allowed in an update (omit the field to keep it)")
            if not data:
                raise ValueError("an update needs at least one of name, team_id, position, is_active, conditions, add_tags")
        return data


class Rule(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    id: UUID
    name: str
    position: int
    is_active: bool
    conditions: RuleConditions
    team_id: UUID
    add_tags: list[str] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Intake(_Input):
    """What a rule looks at. Built from a NewTicket (open_ticket) or given to dry_run."""

    channel: Channel
    subject: str = Field(default="", max_length=500)
    body: str = Field(default="", max_length=100_000)
    recipients: list[str] = Field(default_factory=list, max_length=50)
    # Omitted in a dry run: looked up from requester_email (new customers are standard).
    tier: Tier | None = None
    requester_email: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    priority: Priority = "normal"

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_email(r) for r in v))

    @field_validator("requester_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else normalize_email(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return [t.lower() for t in v]

    @classmethod
    def from_new_ticket(cls, new: NewTicket, tier: str | None = None) -> "Intake":
        return cls.model_validate({
            "channel": new.channel, "subject": new.subject, "body": new.body,
            "recipients": recipients_of(new), "tier": tier, "requester_email": new.requester_email,
            "tags": list(new.tags), "priority": new.priority,
        })


def recipients_of(new: NewTicket) -> list[str]:
    """The support addresses an intake was sent to: metadata["recipient"] (a string) and/or
    metadata["recipients"] (a list), as the email intake records the envelope recipients.
    Unparseable entries are ignored (routing must not reject mail)."""
    found: list[str] = []
    meta = new.metadata or {}
    raw: list[Any] = []
    if isinstance(meta.get("recipient"), str):
        raw.append(meta["recipient"])
    if isinstance(meta.get("recipients"), list):
        raw.extend(meta["recipients"])
    for value in raw:
        if not isinstance(value, str):
            continue
        try:
            email = normalize_email(value)
        except ValueError:
            continue
        if email not in found:
            found.append(email)
    return found[:50]

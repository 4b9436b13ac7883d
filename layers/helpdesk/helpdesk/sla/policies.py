"""SLA policies: ordered, first match on priority, customer tier, team and channel.

A ticket gets the first active policy (by position, then name) whose non-null conditions all match;
a customer's contract policy (customers.sla_policy_id) overrides that order. The matching itself runs
inside CREATE_TICKET's statement (helpdesk.db.tickets) and CHANGE_PRIORITY; `match` here uses the same
rule for the admin UI's dry run.
"""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import sla as sql
from helpdesk.db.client import DataApi, Row
from helpdesk.tickets.models import Channel, Priority, Tier, describe_validation_error

TARGET_KINDS = ("first_response", "next_reply", "resolution", "reopen")
MAX_TARGET_SECONDS = 366 * 24 * 3600


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seconds: int = Field(ge=60, le=MAX_TARGET_SECONDS, description="the target in seconds (business or calendar)")
    business: bool = Field(True, description="counted in the schedule's business hours (false: calendar time, 24/7)")


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    first_response: Target | None = None
    next_reply: Target | None = None
    resolution: Target | None = None
    reopen: Target | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> "Targets":
        if not any(getattr(self, k) for k in TARGET_KINDS):
            raise ValueError(f"at least one target is needed; allowed: {', '.join(TARGET_KINDS)}")
        return self


class SlaPolicyIn(BaseModel):
    """What an admin sends to create or replace a policy. NULL conditions match anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(100, ge=0, le=1_000_000, description="lower is tried first")
    priority: Priority | None = None
    tier: Tier | None = None
    team_id: uuid.UUID | None = None
    channel: Channel | None = None
    targets: Targets
    schedule_id: uuid.UUID | None = Field(None, description="business hours; default: the ticket team's schedule")
    is_active: bool = True

    @classmethod
    def parse(cls, data: Any) -> "SlaPolicyIn":
        if isinstance(data, cls):
            return data
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise errors.ValidationFailed(describe_validation_error(exc),
                                          errors=exc.errors(include_url=False, include_context=False)) from None


def _policy(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "position", "priority", "tier", "team_id", "channel", "targets",
                                "schedule_id", "is_active", "created_at")}


class SlaPolicies:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def _params(self, data: SlaPolicyIn) -> dict[str, Any]:
        return {"name": data.name, "position": data.position, "priority": data.priority, "tier": data.tier,
                "team_id": data.team_id, "channel": data.channel,
                "targets": data.targets.model_dump(exclude_none=True), "schedule_id": data.schedule_id,
                "is_active": data.is_active}

    def _write(self, statement: str, params: dict[str, Any], name: str) -> Row | None:
        try:
            return self.db.query_one(statement, params)
        except errors.UniqueViolation:
            raise errors.Conflict(f"an SLA policy named {name!r} already exists") from None
        except errors.ForeignKeyViolation as exc:
            raise errors.ValidationFailed(f"unknown team_id or schedule_id: {exc.detail}") from None

    def create(self, data: SlaPolicyIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new policy, recorded in the admin audit trail as `by`'s change in the same statement."""
        new = SlaPolicyIn.parse(data)
        row = self._write(sql.POLICY_INSERT, {**self._params(new), "now": self.clock.now(),
                                              "audit": audit.entry(by, "create", "sla_policy", sent(new))}, new.name)
        assert row is not None
        return _policy(row)

    def list(self) -> list[dict[str, Any]]:
        return [_policy(r) for r in self.db.query(sql.POLICY_LIST)]

    def get(self, policy_id: uuid.UUID | str) -> dict[str, Any]:
        row = self.db.query_one(sql.POLICY_GET, {"id": _uuid(policy_id)})
        if row is None:
            raise errors.NotFound(f"SLA policy {policy_id} not found")
        return _policy(row)

    def update(self, policy_id: uuid.UUID | str, data: SlaPolicyIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """Replace a policy. Running clocks keep the targets they started with; new tickets get the new ones.
        Recorded in the admin audit trail as `by`'s change in the same statement."""
        new = SlaPolicyIn.parse(data)
        row = self._write(sql.POLICY_UPDATE, {**self._params(new), "id": _uuid(policy_id), "now": self.clock.now(),
                                              "audit": audit.entry(by, "update", "sla_policy", sent(new))}, new.name)
        if row is None:
            raise errors.NotFound(f"SLA policy {policy_id} not found")
        return _policy(row)

    def delete(self, policy_id: uuid.UUID | str, by: Principal) -> None:
        try:
            row = self.db.query_one(sql.POLICY_DELETE, {"id": _uuid(policy_id), "now": self.clock.now(),
                                                        "audit": audit.entry(by, "delete", "sla_policy")})
        except errors.ForeignKeyViolation:
            raise errors.Conflict(f"SLA policy {policy_id} is in use by tickets or customer contracts; "
                                  "deactivate it instead (is_active: false)") from None
        if row is None:
            raise errors.NotFound(f"SLA policy {policy_id} not found")

    def match(self, *, priority: str, channel: str, tier: str = "standard", team_id: uuid.UUID | None = None,
              customer_email: str | None = None) -> dict[str, Any] | None:
        """The policy a new ticket with these attributes would get (one read)."""
        row = self.db.query_one(sql.POLICY_MATCH, {"priority": priority, "channel": channel, "tier": tier,
                                                   "team_id": team_id, "customer_email": customer_email})
        return {**_policy(row), "contract": row["contract"]} if row else None

    def set_customer_contract(self, customer_id: uuid.UUID | str, policy_id: uuid.UUID | str | None) -> dict[str, Any]:
        """Give a customer a contract policy that overrides the ordered match (None removes it)."""
        try:
            row = self.db.query_one(sql.CUSTOMER_SET_POLICY, {"customer_id": _uuid(customer_id),
                                                              "policy_id": _uuid(policy_id) if policy_id else None,
                                                              "now": self.clock.now()})
        except errors.ForeignKeyViolation:
            raise errors.ValidationFailed(f"SLA policy {policy_id} does not exist") from None
        if row is None:
            raise errors.NotFound(f"customer {customer_id} not found")
        return row


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed(f"{value!r} is not an id (expected a UUID)") from None


__all__ = ["SlaPolicies", "SlaPolicyIn", "Target", "Targets", "TARGET_KINDS"]

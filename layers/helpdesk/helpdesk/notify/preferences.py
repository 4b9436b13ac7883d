"""Per-agent notification preferences: channels per event type, quiet hours in the agent's timezone.

Quiet hours: `defer` (the default) holds the notification and delivers it when quiet hours end
(nothing is lost; the notifier's scheduled run delivers what is due); `drop` records it as
suppressed and never sends it (the agent sees the ticket in the workspace anyway).
"""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import notify as sql
from helpdesk.db.client import DataApi

Channel = Literal["email", "slack"]
CHANNELS: tuple[str, ...] = ("email", "slack")
# The events an agent can be notified of (helpdesk.notify.rules decides who).
NOTIFIABLE: tuple[str, ...] = ("ticket.assigned", "ticket.replied", "sla.warning", "sla.breached")
DEFAULT_CHANNELS: tuple[str, ...] = ("email", "slack")


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    channels: dict[str, list[Channel]] = {}
    quiet_start: time | None = None
    quiet_end: time | None = None
    quiet_mode: Literal["defer", "drop"] = "defer"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. 'Europe/Berlin', 'America/New_York')") from exc
        return value

    @field_validator("channels")
    @classmethod
    def _known_types(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(NOTIFIABLE))
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(unknown)}; allowed: {', '.join(NOTIFIABLE)}")
        return {k: sorted(set(v), key=CHANNELS.index) for k, v in value.items()}

    @model_validator(mode="after")
    def _quiet_pair(self) -> "Preferences":
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end go together (both or neither)")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ")
        return self

    @classmethod
    def parse(cls, data: dict[str, Any]) -> "Preferences":
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'preferences'}: {e['msg']}" for e in exc.errors())
            raise errors.ValidationFailed(f"invalid notification preferences: {problems}") from exc

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> "Preferences":
        if not row or row.get("timezone") is None:
            return cls()
        return cls.model_validate({k: row.get(k) for k in ("timezone", "channels", "quiet_start", "quiet_end", "quiet_mode")
                                   if row.get(k) is not None})

    def channels_for(self, event_type: str) -> tuple[str, ...]:
        chosen = self.channels.get(event_type)
        return tuple(chosen) if chosen is not None else DEFAULT_CHANNELS

    def quiet_until(self, now: datetime) -> datetime | None:
        """When the quiet period containing `now` ends (an aware instant), or None if not quiet."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        t = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        quiet = (start <= t < end) if start < end else (t >= start or t < end)
        if not quiet:
            return None
        end_date = local.date() if t < end else local.date() + timedelta(days=1)
        # Wall-clock end in the agent's zone; fold=0 picks the first of an ambiguous (DST) time.
        return datetime.combine(end_date, end, tzinfo=zone)


class NotificationPreferences:
    """Read and replace an agent's preferences (the API exposes them as /agents/me/notifications)."""

    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def get(self, agent_id: uuid.UUID) -> Preferences:
        return Preferences.from_row(self.db.query_one(sql.GET_PREFERENCES, {"agent_id": agent_id}))

    def put(self, agent_id: uuid.UUID, data: Preferences | dict[str, Any]) -> Preferences:
        prefs = data if isinstance(data, Preferences) else Preferences.parse(data)
        row = self.db.execute(sql.PUT_PREFERENCES, {
            "agent_id": agent_id, "timezone": prefs.timezone, "channels": prefs.channels,
            "quiet_start": prefs.quiet_start.isoformat() if prefs.quiet_start else None,
            "quiet_end": prefs.quiet_end.isoformat() if prefs.quiet_end else None,
            "quiet_mode": prefs.quiet_mode, "now": self.clock.now(),
        }).first()
        if row is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return prefs


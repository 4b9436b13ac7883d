"""Business-hour schedules stored for teams and policies: a name and the schedule JSON document (helpdesk.sla.business_hours)."""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import sla as sql
from helpdesk.db.client import DataApi, Row
from helpdesk.sla.policies import _uuid
from helpdesk.sla.business_hours import Schedule
from helpdesk.tickets.models import describe_validation_error


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    document: dict[str, Any]

    @classmethod
    def parse(cls, data: Any) -> "ScheduleIn":
        if isinstance(data, cls):
            return data
        try:
            parsed = cls.model_validate(data)
        except ValidationError as exc:
            raise errors.ValidationFailed(describe_validation_error(exc)) from None
        Schedule.parse(parsed.document)  # raises ValidationFailed naming the field
        return parsed


def _schedule(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "document", "created_at", "updated_at")}


class Schedules:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def _write(self, statement: str, params: dict[str, Any]) -> Row | None:
        try:
            return self.db.query_one(statement, params)
        except errors.UniqueViolation:
            raise errors.Conflict(f"a schedule named {params['name']!r} already exists") from None

    def create(self, data: ScheduleIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new schedule, recorded in the admin audit trail as `by`'s change in the same statement."""
        new = ScheduleIn.parse(data)
        # Stored canonical: what Schedule.parse reads back is exactly what was validated.
        doc = Schedule.parse(new.document).to_document()
        row = self._write(sql.SCHEDULE_INSERT, {"name": new.name, "document": doc, "now": self.clock.now(),
                                                "audit": audit.entry(by, "create", "schedule", sent(new))})
        assert row is not None
        return _schedule(row)

    def list(self) -> list[dict[str, Any]]:
        return [_schedule(r) for r in self.db.query(sql.SCHEDULE_LIST)]

    def get(self, schedule_id: uuid.UUID | str) -> dict[str, Any]:
        row = self.db.query_one(sql.SCHEDULE_GET, {"id": _uuid(schedule_id)})
        if row is None:
            raise errors.NotFound(f"schedule {schedule_id} not found")
        return _schedule(row)

    def update(self, schedule_id: uuid.UUID | str, data: ScheduleIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """Replace a schedule. Clocks already running keep the copy they started with (sla_targets.schedule).
        Recorded in the admin audit trail as `by`'s change in the same statement."""
        new = ScheduleIn.parse(data)
        doc = Schedule.parse(new.document).to_document()
        row = self._write(sql.SCHEDULE_UPDATE, {"id": _uuid(schedule_id), "name": new.name, "document": doc,
                                                "now": self.clock.now(),
                                                "audit": audit.entry(by, "update", "schedule", sent(new))})
        if row is None:
            raise errors.NotFound(f"schedule {schedule_id} not found")
        return _schedule(row)

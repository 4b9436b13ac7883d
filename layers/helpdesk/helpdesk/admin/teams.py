"""Teams: name, support address, assignment mode, schedule, escalation team, the default flag."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, StrictBool, field_validator

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import patch_params, sent, write
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import admin as sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import _Input, normalize_email

AssignmentMode = Literal["push", "round_robin", "pull"]


class TeamIn(_Input):
    name: str = Field(min_length=1, max_length=200)
    email_address: str | None = None
    schedule_id: uuid.UUID | None = None
    assignment_mode: AssignmentMode = "push"
    escalation_team_id: uuid.UUID | None = None
    is_default: StrictBool = False  # where tickets no routing rule matched go (one team at a time)

    @field_validator("email_address")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else normalize_email(v)


class TeamPatch(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email_address: str | None = None
    schedule_id: uuid.UUID | None = None
    assignment_mode: AssignmentMode | None = None
    escalation_team_id: uuid.UUID | None = None
    is_default: StrictBool | None = None

    @field_validator("email_address")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else normalize_email(v)


class Teams:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: TeamIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new team, recorded in the admin audit trail as `by`'s change in the same statement."""
        team = data if isinstance(data, TeamIn) else TeamIn.parse(data)
        doc = write(self.db, sql.CREATE_TEAM, {**team.model_dump(), "now": self.clock.now(),
                                               "audit": audit.entry(by, "create", "team", sent(team))},
                    f"team {team.name!r}")
        assert doc is not None
        return doc

    def list(self) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.db.query(sql.LIST_TEAMS)]

    def get(self, team_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_TEAM, {"id": team_id})
        if row is None:
            raise errors.NotFound(f"team {team_id} not found")
        return row["doc"]

    def update(self, team_id: uuid.UUID, data: TeamPatch | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The changed team, recorded in the admin audit trail as `by`'s change in the same statement."""
        patch = data if isinstance(data, TeamPatch) else TeamPatch.parse(data)
        params = patch_params(patch, ("name", "email_address", "schedule_id", "assignment_mode", "escalation_team_id", "is_default"))
        doc = write(self.db, sql.UPDATE_TEAM, {**params, "id": team_id, "now": self.clock.now(),
                                               "audit": audit.entry(by, "update", "team", sent(patch))}, f"team {team_id}")
        if doc is None:
            raise errors.NotFound(f"team {team_id} not found")
        return doc

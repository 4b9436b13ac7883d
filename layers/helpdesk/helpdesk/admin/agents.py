"""Agents: role, skills, capacity, team memberships, Slack id, active or not."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import patch_params, sent, write
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import admin as sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import _Input, normalize_email

Role = Literal["agent", "lead", "admin"]
MAX_SKILLS = 50


def _skills(v: list[str]) -> list[str]:
    for s in v:
        if not 1 <= len(s) <= 50:
            raise ValueError("each skill must be 1 to 50 characters")
    return list(dict.fromkeys(s.lower() for s in v))


class AgentIn(_Input):
    email: str
    name: str = Field(min_length=1, max_length=200)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    skills: list[str] = Field(default_factory=list, max_length=MAX_SKILLS)
    capacity: StrictInt = Field(default=10, ge=0, le=1000)
    role: Role = "agent"
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,30}$",
                                      description="the agent's Slack member id, for notifications by DM")

    _e = field_validator("email")(classmethod(lambda cls, v: normalize_email(v)))
    _s = field_validator("skills")(classmethod(lambda cls, v: _skills(v)))


class AgentPatch(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    team_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    skills: list[str] | None = Field(default=None, max_length=MAX_SKILLS)
    capacity: StrictInt | None = Field(default=None, ge=0, le=1000)
    role: Role | None = None
    is_active: StrictBool | None = None
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,30}$")

    _s = field_validator("skills")(classmethod(lambda cls, v: None if v is None else _skills(v)))


class Agents:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: AgentIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new agent, recorded in the admin audit trail as `by`'s change in the same statement."""
        agent = data if isinstance(data, AgentIn) else AgentIn.parse(data)
        params = {**agent.model_dump(), "team_ids": [str(t) for t in agent.team_ids], "now": self.clock.now(),
                  "audit": audit.entry(by, "create", "agent", sent(agent))}
        doc = write(self.db, sql.CREATE_AGENT, params, f"agent {agent.email}")
        assert doc is not None
        return doc

    def list(self, *, team_id: uuid.UUID | None = None, include_inactive: bool = False) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.db.query(sql.LIST_AGENTS, {"team_id": team_id, "include_inactive": include_inactive})]

    def get(self, agent_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_AGENT, {"id": agent_id})
        if row is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return row["doc"]

    def update(self, agent_id: uuid.UUID, data: AgentPatch | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The changed agent, recorded in the admin audit trail as `by`'s change in the same statement."""
        patch = data if isinstance(data, AgentPatch) else AgentPatch.parse(data)
        params = patch_params(patch, ("name", "team_ids", "skills", "capacity", "role", "is_active", "slack_user_id"))
        if params["team_ids"] is None:
            params["team_ids"] = []
        doc = write(self.db, sql.UPDATE_AGENT, {**params, "id": agent_id, "now": self.clock.now(),
                                                "audit": audit.entry(by, "update", "agent", sent(patch))}, f"agent {agent_id}")
        if doc is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return doc

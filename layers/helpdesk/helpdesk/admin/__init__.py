"""Admin resources: teams, agents (skills, capacity, role, team memberships), customers, KB articles.

Each command is one Data API call; inputs are pydantic models whose errors name the field and the
rule (ValidationFailed), database rule violations become Conflict / ValidationFailed."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import admin as sql
from helpdesk.db import kb as kb_sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import _Input, display_email, normalize_email

AssignmentMode = Literal["push", "round_robin", "pull"]
Role = Literal["agent", "lead", "admin"]
MAX_SKILLS = 50


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


class ArticleIn(_Input):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    is_published: StrictBool = True


class ArticlePatch(_Input):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=20)
    is_published: StrictBool | None = None


NOT_NULL = {"name", "assignment_mode", "role", "skills", "capacity", "is_active", "team_ids", "title", "body", "tags",
            "is_published"}


def _patch_params(patch: _Input, fields: tuple[str, ...]) -> dict[str, Any]:
    sent = patch.model_fields_set
    params: dict[str, Any] = {}
    for f in fields:
        value = getattr(patch, f)
        if f in sent and value is None and f in NOT_NULL:
            raise errors.ValidationFailed(f"{f} cannot be null; leave it out to keep the current value")
        params[f"set_{f}"] = f in sent
        params[f] = [str(x) for x in value] if isinstance(value, list) and f == "team_ids" else value
    return params


def _write(db: DataApi, statement: str, params: dict[str, Any], what: str) -> dict[str, Any] | None:
    try:
        row = db.query_one(statement, params)
    except errors.UniqueViolation as exc:
        raise errors.Conflict(f"{what} already exists ({exc.extra.get('constraint') or 'unique'})") from exc
    except errors.ForeignKeyViolation as exc:
        raise errors.ValidationFailed(f"{what}: unknown reference ({exc.detail})") from exc
    except errors.CheckViolation as exc:
        raise errors.ValidationFailed(f"{what}: {exc.detail}") from exc
    return row["doc"] if row else None


class Teams:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: TeamIn | dict[str, Any]) -> dict[str, Any]:
        team = data if isinstance(data, TeamIn) else TeamIn.parse(data)
        doc = _write(self.db, sql.CREATE_TEAM, {**team.model_dump(), "now": self.clock.now()}, f"team {team.name!r}")
        assert doc is not None
        return doc

    def list(self) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.db.query(sql.LIST_TEAMS)]

    def get(self, team_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_TEAM, {"id": team_id})
        if row is None:
            raise errors.NotFound(f"team {team_id} not found")
        return row["doc"]

    def update(self, team_id: uuid.UUID, data: TeamPatch | dict[str, Any]) -> dict[str, Any]:
        patch = data if isinstance(data, TeamPatch) else TeamPatch.parse(data)
        params = _patch_params(patch, ("name", "email_address", "schedule_id", "assignment_mode", "escalation_team_id", "is_default"))
        doc = _write(self.db, sql.UPDATE_TEAM, {**params, "id": team_id, "now": self.clock.now()}, f"team {team_id}")
        if doc is None:
            raise errors.NotFound(f"team {team_id} not found")
        return doc


class Agents:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: AgentIn | dict[str, Any]) -> dict[str, Any]:
        agent = data if isinstance(data, AgentIn) else AgentIn.parse(data)
        params = {**agent.model_dump(), "team_ids": [str(t) for t in agent.team_ids], "now": self.clock.now()}
        doc = _write(self.db, sql.CREATE_AGENT, params, f"agent {agent.email}")
        assert doc is not None
        return doc

    def list(self, *, team_id: uuid.UUID | None = None, include_inactive: bool = False) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.db.query(sql.LIST_AGENTS, {"team_id": team_id, "include_inactive": include_inactive})]

    def get(self, agent_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_AGENT, {"id": agent_id})
        if row is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return row["doc"]

    def update(self, agent_id: uuid.UUID, data: AgentPatch | dict[str, Any]) -> dict[str, Any]:
        patch = data if isinstance(data, AgentPatch) else AgentPatch.parse(data)
        params = _patch_params(patch, ("name", "team_ids", "skills", "capacity", "role", "is_active", "slack_user_id"))
        if params["team_ids"] is None:
            params["team_ids"] = []
        doc = _write(self.db, sql.UPDATE_AGENT, {**params, "id": agent_id, "now": self.clock.now()}, f"agent {agent_id}")
        if doc is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return doc


class Customers:
    def __init__(self, db: DataApi) -> None:
        self.db = db

    def find(self, *, email: str | None = None, prefix: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        if email is None and not prefix:
            raise errors.ValidationFailed("give email (exact) or q (the beginning of an email address)")
        if email is not None:
            try:
                email = normalize_email(email)
            except ValueError as exc:
                raise errors.ValidationFailed(f"email: {exc}") from None
        if prefix is not None:
            prefix = prefix.strip().lower().replace("%", "").replace("_", r"\_")
            if len(prefix) < 2:
                raise errors.ValidationFailed("q needs at least 2 characters")
        rows = self.db.query(sql.FIND_CUSTOMERS, {"email": email, "prefix": prefix, "limit": max(1, min(limit, 100))})
        return [_with_display_email(r["doc"]) for r in rows]

    def get(self, customer_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_CUSTOMER, {"id": customer_id})
        if row is None:
            raise errors.NotFound(f"customer {customer_id} not found")
        return _with_display_email(row["doc"])


def _with_display_email(doc: dict[str, Any]) -> dict[str, Any]:
    """email is stored with an ASCII (IDNA) domain for matching; email_display is what people read."""
    if isinstance(doc.get("email"), str):
        doc["email_display"] = display_email(doc["email"])
    return doc


class KbArticles:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: ArticleIn | dict[str, Any]) -> dict[str, Any]:
        art = data if isinstance(data, ArticleIn) else ArticleIn.parse(data)
        doc = _write(self.db, kb_sql.CREATE_ARTICLE, {**art.model_dump(), "now": self.clock.now()}, "article")
        assert doc is not None
        return doc

    def get(self, article_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(kb_sql.GET_ARTICLE, {"id": article_id})
        if row is None:
            raise errors.NotFound(f"article {article_id} not found")
        return row["doc"]

    def list(self, *, include_unpublished: bool, limit: int = 50, after: tuple[str, uuid.UUID] | None = None) -> list[dict[str, Any]]:
        rows = self.db.query(kb_sql.LIST_ARTICLES, {
            "include_unpublished": include_unpublished, "limit": limit,
            "after_title": after[0] if after else None, "after_id": after[1] if after else None})
        return [r["doc"] for r in rows]

    def update(self, article_id: uuid.UUID, data: ArticlePatch | dict[str, Any]) -> dict[str, Any]:
        patch = data if isinstance(data, ArticlePatch) else ArticlePatch.parse(data)
        params = _patch_params(patch, ("title", "body", "tags", "is_published"))
        doc = _write(self.db, kb_sql.UPDATE_ARTICLE, {**params, "id": article_id, "now": self.clock.now()}, f"article {article_id}")
        if doc is None:
            raise errors.NotFound(f"article {article_id} not found")
        return doc

    def delete(self, article_id: uuid.UUID) -> None:
        if self.db.query_one(kb_sql.DELETE_ARTICLE, {"id": article_id}) is None:
            raise errors.NotFound(f"article {article_id} not found")

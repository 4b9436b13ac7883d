"""Test data built through the domain's own admin services, the way an admin would build it.

Every test package uses these (through the `factories` fixture of tests/conftest.py and the
`make_team` / `make_agent` fixtures built on it) instead of INSERTs of domain rows, so a test never
holds data the product could not hold (an agent with no email, a second default team).
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable, NamedTuple

from helpdesk.admin import Agents, Teams
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db.client import DataApi
from helpdesk.routing import config as routing_config
from helpdesk.sla.schedule_store import Schedules


# The admin the factories build as: their changes land in the admin audit trail like anyone's.
FACTORY = Principal(email="factories@tests.invalid", role="admin", agent_id=None)


class AgentRef(NamedTuple):
    id: uuid.UUID
    email: str


def _unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


class Factories:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def schedule(self, document: dict[str, Any], *, name: str = "hours") -> uuid.UUID:
        return uuid.UUID(str(Schedules(self.db, self.clock).create({"name": _unique(name), "document": document}, by=FACTORY)["id"]))

    def team(self, name: str = "team", *, mode: str = "push", schedule: dict[str, Any] | None = None,
             is_default: bool = False, email: str | None = None, escalation_team_id: uuid.UUID | None = None) -> uuid.UUID:
        doc = Teams(self.db, self.clock).create({
            "name": _unique(name), "assignment_mode": mode, "is_default": is_default, "email_address": email,
            "schedule_id": self.schedule(schedule) if schedule is not None else None,
            "escalation_team_id": escalation_team_id}, by=FACTORY)
        routing_config.invalidate(self.db)  # routing reads teams through a per-process copy
        return uuid.UUID(str(doc["id"]))

    def agent(self, name: str = "agent", *, role: str = "agent", teams: Iterable[uuid.UUID] = (), capacity: int = 10,
              skills: Iterable[str] = (), active: bool = True, slack: str | None = None,
              domain: str = "example.com") -> AgentRef:
        email = f"{_unique(name).lower()}@{domain}"
        agents = Agents(self.db, self.clock)
        doc = agents.create({"email": email, "name": name, "role": role, "team_ids": list(teams), "capacity": capacity,
                             "skills": list(skills), "slack_user_id": slack}, by=FACTORY)
        agent_id = uuid.UUID(str(doc["id"]))
        if not active:
            agents.update(agent_id, {"is_active": False}, by=FACTORY)
        routing_config.invalidate(self.db)
        return AgentRef(agent_id, email)

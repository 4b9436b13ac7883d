"""What routing decides with (active rules, teams with mode, default flag and schedule), read in one
call and kept per process for a short while, so most ticket creates spend no call on routing.

Staleness is bounded by TTL_SECONDS: a rule or team changed through another process (another Lambda
container) is seen within that time; changes made through RoutingRules in this process are seen at
once (it invalidates). The assignment mode itself is always read fresh inside the push statement;
only which rule matches and whether a team is on shift come from here.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from helpdesk.db import routing as sql
from helpdesk.db.client import DataApi
from helpdesk.db.per_database import PerDatabase
from helpdesk.routing.matching import first_match
from helpdesk.routing.models import Intake, Rule

log = logging.getLogger(__name__)
TTL_SECONDS = 30.0


@dataclass(frozen=True)
class TeamInfo:
    id: UUID
    name: str
    assignment_mode: str
    is_default: bool
    schedule_doc: Any = None


@dataclass
class RoutingConfig:
    rules: tuple[Rule, ...]
    teams: dict[UUID, TeamInfo]
    loaded_at: float = field(default_factory=time.monotonic)
    _schedules: dict[UUID, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, db: DataApi) -> "RoutingConfig":
        rules: list[Rule] = []
        teams: dict[UUID, TeamInfo] = {}
        for row in db.query(sql.LOAD_CONFIG):
            doc = row["doc"]
            if row["kind"] == "rule":
                rules.append(Rule.model_validate(doc))
            else:
                team = TeamInfo(UUID(doc["id"]), doc["name"], doc["assignment_mode"], bool(doc["is_default"]), doc.get("schedule"))
                teams[team.id] = team
        return cls(tuple(rules), teams)

    @property
    def default_team_id(self) -> UUID | None:
        return next((t.id for t in self.teams.values() if t.is_default), None)

    def route(self, intake: Intake) -> tuple[Rule | None, UUID | None]:
        """(matching rule, team): the first matching rule's team, else the default team, else None."""
        rule = first_match(self.rules, intake)
        if rule is not None:
            return rule, rule.team_id
        return None, self.default_team_id

    # -- shifts ---------------------------------------------------------------------------------
    def on_shift(self, team_id: UUID | None, at: datetime) -> bool:
        """Whether the team's schedule is open at `at`. No schedule (or no schedule engine): 24/7."""
        if team_id is None:
            return False
        team = self.teams.get(team_id)
        if team is None or not team.schedule_doc:
            return True
        schedule = self._schedule(team)
        if schedule is None:
            return True
        is_open = getattr(schedule, "is_open", None)
        if is_open is not None:
            return bool(is_open(at))
        from datetime import timedelta

        from helpdesk.sla import business_time_between

        return business_time_between(at, at + timedelta(seconds=1), schedule) > timedelta(0)

    def off_shift_teams(self, at: datetime) -> list[str]:
        return [str(t.id) for t in self.teams.values() if t.schedule_doc and not self.on_shift(t.id, at)]

    def _schedule(self, team: TeamInfo) -> Any:
        if team.id in self._schedules:
            return self._schedules[team.id]
        schedule = None
        try:
            from helpdesk.sla import Schedule  # the SLA engine owns the business-hours calendar

            schedule = Schedule.parse(team.schedule_doc)
        except ImportError:
            log.warning("helpdesk.sla.Schedule unavailable: team %s treated as always on shift", team.id)
        except Exception:  # noqa: BLE001 - a bad stored schedule must not strand tickets
            log.exception("team %s has an unreadable schedule: treated as always on shift", team.id)
        self._schedules[team.id] = schedule
        return schedule


_cache: PerDatabase[RoutingConfig] = PerDatabase(RoutingConfig.load)


def routing_config(db: DataApi, *, refresh: bool = False, max_age: float = TTL_SECONDS) -> RoutingConfig:
    """The cached config for this DataApi (one per process in Lambda), reloaded when older than max_age."""
    return _cache.get(db, max_age=max_age, refresh=refresh)


def invalidate(db: DataApi | None = None) -> None:
    _cache.invalidate(db)

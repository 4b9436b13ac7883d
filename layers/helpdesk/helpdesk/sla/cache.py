"""SLA deadlines of a new ticket computed before its create statement, so that no follow-up is needed.

A new ticket's clocks need due_at/warn_at walked in business time (Python, helpdesk.sla.deadlines). Instead
of a follow-up statement after the create, create_ticket predicts, per customer tier, the policy the
statement will pick (the same ordered first match on priority, tier, team and channel) from this
process's copy of the active policies and schedules, and computes the deadlines at the statement's
`now`. The statement uses them only when its own choice has exactly the inputs the prediction used:
the same policy id, the same `targets` and the same schedule document (jsonb equality). Deadlines are
a pure function of (now, target seconds, business flag, schedule document, warn lead), so a match
writes what the follow-up would have written; anything else (a contract policy, a policy or schedule
edited since the copy was read, a team schedule change, no copy yet) keeps the pending path and the
follow-up fills the deadlines as before. A stale copy can cost a follow-up, never a wrong deadline.

How the copy is filled without spending a call: when a create had to take the pending path for a
reason the copy explains (no copy yet, or `sla_stale`: the ordered match picked something else than
predicted), its follow-up statement, which runs anyway, also returns the configuration rows
(helpdesk.db.tickets.followup.FINISH with load_sla_config). A copy older than TTL_SECONDS is
refreshed the same way at the next follow-up. `load` reads it explicitly (one call) for warming.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from helpdesk.db import sla as sql
from helpdesk.db.client import DataApi
from helpdesk.sla.deadlines import configured_warn_before, deadline_for
from helpdesk.tickets.models import TIERS

TTL_SECONDS = 300.0
# The clocks CREATE_TICKET starts (its `sla` CTE).
CREATE_KINDS = ("first_response", "resolution")
# A customer message may start the next-reply clock of any policy on any schedule copy: beyond this
# many (policy, schedule) business-time walks per message, leave it to the follow-up.
MAX_NEXT_REPLY_WALKS = 40


@dataclass(frozen=True)
class CachedPolicy:
    id: str
    priority: str | None
    tier: str | None
    team_id: str | None
    channel: str | None
    targets: dict[str, Any]
    schedule_id: str | None

    def matches(self, *, priority: str, tier: str, team_id: str | None, channel: str) -> bool:
        return ((self.priority is None or self.priority == priority) and (self.tier is None or self.tier == tier)
                and (self.team_id is None or self.team_id == team_id)
                and (self.channel is None or self.channel == channel))


@dataclass
class SlaConfig:
    """Active policies in the statement's order (position, name: ordered by PostgreSQL, so its collation
    decides ties exactly as in the statement), schedule documents, and each team's schedule."""

    policies: tuple[CachedPolicy, ...]
    schedules: dict[str, Any]
    team_schedules: dict[str, str]
    loaded_at: float = field(default_factory=time.monotonic)
    # md5 of each schedule document's jsonb text, computed by PostgreSQL (what ADD_MESSAGE compares)
    schedule_md5: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> "SlaConfig":
        policies: list[tuple[int, CachedPolicy]] = []
        schedules: dict[str, Any] = {}
        md5: dict[str, str] = {}
        teams: dict[str, str] = {}
        for row in rows:
            doc = row["doc"]
            if row["kind"] == "sla_policy":
                policies.append((int(doc["ord"]), CachedPolicy(
                    str(doc["id"]), doc.get("priority"), doc.get("tier"),
                    str(doc["team_id"]) if doc.get("team_id") else None, doc.get("channel"), doc["targets"],
                    str(doc["schedule_id"]) if doc.get("schedule_id") else None)))
            elif row["kind"] == "sla_schedule":
                schedules[str(doc["id"])] = doc["document"]
                if doc.get("md5"):
                    md5[str(doc["id"])] = doc["md5"]
            elif row["kind"] == "sla_team":
                teams[str(doc["id"])] = str(doc["schedule_id"])
        policies.sort(key=lambda p: p[0])
        return cls(tuple(p for _, p in policies), schedules, teams, schedule_md5=md5)

    @classmethod
    def load(cls, db: DataApi) -> "SlaConfig":
        return cls.from_rows(db.query(sql.SLA_CONFIG))

    @property
    def age(self) -> float:
        return time.monotonic() - self.loaded_at

    def match(self, *, priority: str, tier: str, team_id: str | None, channel: str) -> CachedPolicy | None:
        return next((p for p in self.policies
                     if p.matches(priority=priority, tier=tier, team_id=team_id, channel=channel)), None)

    def schedule_for(self, policy: CachedPolicy, team_id: str | None) -> Any:
        """coalesce(policy schedule, team schedule), as CREATE_TICKET resolves it."""
        if policy.schedule_id is not None:
            return self.schedules.get(policy.schedule_id)
        schedule_id = self.team_schedules.get(team_id) if team_id else None
        return self.schedules.get(schedule_id) if schedule_id else None

    def plan(self, *, priority: str, channel: str, teams: Mapping[str, str | None], now: datetime,
             warn_before: timedelta | None = None) -> dict[str, Any]:
        """{tier: {"policy_id", "targets", "schedule", "deadlines": {kind: {"due_at", "warn_at"}}}} for the
        tiers whose predicted policy starts a clock. `teams` maps each tier to the team the statement
        will use for it (the routing plan's choice, or the given team)."""
        if warn_before is None:
            warn_before = configured_warn_before()
        out: dict[str, Any] = {}
        memo: dict[tuple[str, str | None], dict[str, Any]] = {}
        for tier in TIERS:
            team_id = teams.get(tier)
            policy = self.match(priority=priority, tier=tier, team_id=team_id, channel=channel)
            if policy is None:
                continue
            schedule = self.schedule_for(policy, team_id)
            key = (policy.id, None if policy.schedule_id else self.team_schedules.get(team_id or ""))
            if key not in memo:
                memo[key] = _predict(policy, schedule, now, warn_before)
            out[tier] = memo[key]
        return out


    def next_reply_plan(self, now: datetime, warn_before: timedelta | None = None,
                        max_walks: int = MAX_NEXT_REPLY_WALKS) -> dict[str, Any] | None:
        """For a customer message (ADD_MESSAGE may start the next-reply clock): per policy with a
        next_reply target, {"target", "by_schedule": {md5 of the schedule document or "none": deadlines}}.
        The ticket's policy and its clocks' schedule copy are not known here, so every known pair is
        computed; None when there is none, or more than max_walks of them (then the follow-up does it)."""
        policies = [(p, p.targets["next_reply"]) for p in self.policies if _valid_target(p.targets.get("next_reply"))]
        if not policies:
            return None
        candidates: dict[str, Any] = {"none": None}
        for schedule_id, digest in self.schedule_md5.items():
            candidates.setdefault(digest, self.schedules.get(schedule_id))
        if len(policies) * len(candidates) > max_walks:
            return None
        if warn_before is None:
            warn_before = configured_warn_before()
        plan: dict[str, Any] = {}
        for policy, target in policies:
            by_schedule: dict[str, Any] = {}
            for key, schedule in candidates.items():
                deadline = _deadline("next_reply", target, schedule, now, warn_before)
                if deadline is not None:
                    by_schedule[key] = deadline
            plan[policy.id] = {"target": target, "by_schedule": by_schedule}
        return plan



def _valid_target(target: Any) -> bool:
    return (isinstance(target, dict) and type(target.get("seconds")) is int
            and type(target.get("business", True)) is bool)


def _deadline(kind: str, target: dict[str, Any], schedule: Any, now: datetime,
              warn_before: timedelta) -> dict[str, str] | None:
    """The deadlines the follow-up would compute for a clock of `kind` started at `now`, or None."""
    if not _valid_target(target):
        return None  # not what the admin API stores: leave it to the statement's own cast and the follow-up
    try:
        # The very function the follow-up runs, on the row the statement would have returned.
        d = deadline_for({"ticket_id": "", "kind": kind, "recompute_from": now, "paused_at": None, "due_at": None,
                          "target_seconds": target["seconds"], "business": target.get("business", True),
                          "schedule": schedule}, warn_before)
    except Exception:  # noqa: BLE001 - e.g. a schedule with no business time: the follow-up logs it
        return None
    return {"due_at": d["due_at"], "warn_at": d["warn_at"]}


def _predict(policy: CachedPolicy, schedule: Any, now: datetime, warn_before: timedelta) -> dict[str, Any]:
    deadlines: dict[str, Any] = {}
    for kind in CREATE_KINDS:
        deadline = _deadline(kind, policy.targets.get(kind), schedule, now, warn_before)
        if deadline is not None:
            deadlines[kind] = deadline
    return {"policy_id": policy.id, "targets": policy.targets, "schedule": schedule, "deadlines": deadlines}


# Keyed by the database the DataApi reaches (cluster ARN, database name), not by the DataApi object:
# the API handler builds a DataApi per request (helpdesk.wiring.data_api), and the copy must outlive
# it. A copy shared by two DataApis of one database is as valid for both; one left over from a reset
# database (tests) only mismatches, which the statement detects and the next follow-up refreshes.
_cache: dict[tuple[str, str], SlaConfig] = {}
_lock = threading.Lock()


def _key(db: DataApi) -> tuple[str, str]:
    target = getattr(db, "_target", None) or {}
    return (str(target.get("resourceArn", id(db))), str(target.get("database", "")))


def cached(db: DataApi) -> SlaConfig | None:
    """This process's copy for `db`'s database, or None (never reads: filling it rides on a follow-up)."""
    with _lock:
        return _cache.get(_key(db))


def needs_refresh(db: DataApi, max_age: float = TTL_SECONDS) -> bool:
    config = cached(db)
    return config is None or config.age >= max_age


def store(db: DataApi, config: SlaConfig) -> SlaConfig:
    with _lock:
        _cache[_key(db)] = config
    return config


def load(db: DataApi) -> SlaConfig:
    """Read the configuration now (one call) and keep it: for warming a process or a benchmark."""
    return store(db, SlaConfig.load(db))


def invalidate(db: DataApi | None = None) -> None:
    with _lock:
        if db is None:
            _cache.clear()
        else:
            _cache.pop(_key(db), None)


__all__ = ["SlaConfig", "CachedPolicy", "cached", "needs_refresh", "store", "load", "invalidate", "TTL_SECONDS"]

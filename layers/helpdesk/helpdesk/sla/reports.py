"""SLA reports: time to first response and to resolution per team and priority, in business time.

Honest numbers: measured in the business hours of the clock's own schedule (calendar time for 24/7
clocks, the team's schedule when the ticket had no clock), minus the business time spent waiting on
the customer; spam, duplicate and merged tickets are left out; p50 and p95 stand beside the mean
(a few slow tickets move the mean, not the median). Breach rate: the share of tickets with a clock
that had any clock breached.

Waiting periods come from the audit trail's hot tier: for periods whose audit rows were already
exported to S3 the waiting time cannot be subtracted (report on recent periods).
"""
from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator

from helpdesk import errors
from helpdesk.db import sla as sql
from helpdesk.db.client import DataApi
from helpdesk.sla.business_hours import Schedule, business_time_between

PAGE = 1000
_ALWAYS = Schedule.always()


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values: Iterable[float]) -> dict[str, Any]:
    data = sorted(values)
    return {"count": len(data), "p50": percentile(data, 50), "p95": percentile(data, 95),
            "mean": (sum(data) / len(data)) if data else None}


def _schedule(clock: dict[str, Any] | None, team_schedule: Any) -> Schedule:
    if clock is not None:
        if not clock.get("business") or not clock.get("schedule"):
            return _ALWAYS
        return Schedule.parse(clock["schedule"])
    return Schedule.parse(team_schedule) if team_schedule else _ALWAYS


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def measure(start: datetime, end: datetime, waiting: list[tuple[datetime, datetime | None]], schedule: Schedule) -> float:
    """Business seconds from start to end, less the business time waiting on the customer inside it."""
    total = business_time_between(start, end, schedule)
    for w_start, w_end in waiting:
        a, b = max(w_start, start), min(w_end or end, end)
        if b > a:
            total -= business_time_between(a, b, schedule)
    return max(total, timedelta(0)).total_seconds()


def sla_report(db: DataApi, *, since: datetime, until: datetime, team_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Per team (and per priority within it) plus overall: first response and resolution in business seconds
    (count, p50, p95, mean) and breach rate, for tickets created in [since, until). Reads in pages of 1,000."""
    groups: dict[tuple[str | None, str | None], dict[str, list]] = defaultdict(
        lambda: {"first_response": [], "resolution": [], "clocked": [], "breached": []})
    for row, values in measured_tickets(db, since=since, until=until, team_id=team_id):
        _add(groups, row, values)
    return _shape(groups, since, until, team_id)


def measured_tickets(db: DataApi, *, since: datetime, until: datetime, team_id: uuid.UUID | str | None = None
                     ) -> Iterator[tuple[dict[str, Any], dict[str, float]]]:
    """Each ticket created in [since, until) (spam, duplicate and merged left out) with its first response
    and resolution in business seconds, waiting on the customer subtracted (only those it has). Pages of 1,000."""
    if since.tzinfo is None or until.tzinfo is None:
        raise errors.ValidationFailed("since and until must be aware datetimes (with a time zone)")
    if until <= since:
        raise errors.ValidationFailed(f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    after: tuple[Any, Any] = (None, None)
    while True:
        rows = db.query(sql.REPORT_TICKETS, {"since": since, "until": until, "team_id": team_id, "limit": PAGE,
                                             "after_created": after[0], "after_id": after[1]})
        for row in rows:
            yield row, _durations(row)
        if len(rows) < PAGE:
            break
        after = (rows[-1]["created_at"], uuid.UUID(rows[-1]["id"]))


def _durations(row: dict[str, Any]) -> dict[str, float]:
    clocks = row.get("clocks") or {}
    created = _instant(row["created_at"])
    assert created is not None
    waiting = [(_instant(a), _instant(b)) for a, b in (row.get("waiting") or [])]
    first = _instant(row.get("first_response_at"))
    resolved = _instant(row.get("resolved_at"))
    values: dict[str, float] = {}
    if first is not None:
        values["first_response"] = measure(created, first, waiting, _schedule(clocks.get("first_response"), row.get("team_schedule")))
    if resolved is not None:
        values["resolution"] = measure(created, resolved, waiting, _schedule(clocks.get("resolution"), row.get("team_schedule")))
    return values


def _add(groups: dict, row: dict[str, Any], values: dict[str, float]) -> None:
    clocks = row.get("clocks") or {}
    team = row["team_id"]
    keys = [(team, None), (team, row["priority"]), ("*", None)]
    for key in keys:
        g = groups[key]
        if key[0] != "*":
            g["team_name"] = row.get("team_name")
        for kind, seconds in values.items():
            g[kind].append(seconds)
        if clocks:
            g["clocked"].append(1)
            g["breached"].append(1 if any(c.get("breached") for c in clocks.values()) else 0)
        else:
            g.setdefault("unclocked", []).append(1)
        g.setdefault("tickets", []).append(1)


def _stats(g: dict[str, list]) -> dict[str, Any]:
    clocked = len(g["clocked"])
    return {"tickets": len(g.get("tickets", [])),
            "first_response": summarize(g["first_response"]),
            "resolution": summarize(g["resolution"]),
            "breach_rate": (sum(g["breached"]) / clocked) if clocked else None,
            "breached": sum(g["breached"])}


def _shape(groups: dict, since: datetime, until: datetime, team_id: Any) -> dict[str, Any]:
    teams: dict[Any, dict[str, Any]] = {}
    for (team, priority), g in groups.items():
        if team == "*":
            continue
        entry = teams.setdefault(team, {"team_id": team, "team_name": g.get("team_name"), "by_priority": {}})
        if priority is None:
            entry.update(_stats(g))
        else:
            entry["by_priority"][priority] = _stats(g)
    overall = _stats(groups[("*", None)]) if ("*", None) in groups else _stats(
        {"first_response": [], "resolution": [], "clocked": [], "breached": []})
    return {"since": since.isoformat(), "until": until.isoformat(), "team_id": str(team_id) if team_id else None,
            "unit": "business seconds", "overall": overall,
            "teams": sorted(teams.values(), key=lambda t: str(t["team_id"]))}

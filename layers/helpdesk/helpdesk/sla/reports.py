"""SLA reports: time to first response and to resolution per team and priority, in business time.

Honest numbers: measured in the business hours of the clock's own schedule (calendar time for 24/7
clocks, the team's schedule when the ticket had no clock), minus the business time spent waiting on
the customer; spam, duplicate and merged tickets are left out; p50 and p95 (linear interpolation
between closest ranks) stand beside the mean (a few slow tickets move the mean, not the median).
Breach rate: the share of tickets with a clock that had any clock breached.

Every figure is computed set-based in one statement (helpdesk.db.insight.REPORT_SLA), on the SQL
mirror of helpdesk.sla.business_hours (migration 1240, held to it by a property test).

Waiting periods come from the audit trail's hot tier: for periods whose audit rows were already
exported to S3 the waiting time cannot be subtracted (report on recent periods).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from helpdesk import errors
from helpdesk.db import insight as sql
from helpdesk.db.client import DataApi


def sla_report(db: DataApi, *, since: datetime, until: datetime, now: datetime,
               team_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Per team (and per priority within it) plus overall: first response and resolution in business seconds
    (count, p50, p95, mean) and breach rate, for tickets created in [since, until). One Data API call (two
    the first time a process meets a schedule's holiday_country: helpdesk.insight.business_time)."""
    from helpdesk.insight.business_time import query_measured

    if since.tzinfo is None or until.tzinfo is None:
        raise errors.ValidationFailed("since and until must be aware datetimes (with a time zone)")
    if until <= since:
        raise errors.ValidationFailed(f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    team = str(team_id) if team_id else None
    rows = query_measured(db, sql.REPORT_SLA, {"since": since, "until": until, "team_id": team},
                          first=since, last=max(until, now))
    overall = _stats(None)
    teams: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row["all_teams"]:
            overall = _stats(row)
            continue
        entry = teams.setdefault(row["team_id"], {"team_id": row["team_id"], "team_name": row["team_name"],
                                                  "by_priority": {}})
        if row["all_priorities"]:
            entry.update(_stats(row))
        else:
            entry["by_priority"][row["priority"]] = _stats(row)
    return {"since": since.isoformat(), "until": until.isoformat(), "team_id": team,
            "unit": "business seconds", "overall": overall,
            "teams": sorted(teams.values(), key=lambda t: str(t["team_id"]))}


def _stats(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {"tickets": 0, "fr_count": 0, "res_count": 0, "clocked": 0, "breached": 0}

    def times(prefix: str) -> dict[str, Any]:
        return {"count": row[f"{prefix}_count"], "p50": row.get(f"{prefix}_p50"), "p95": row.get(f"{prefix}_p95"),
                "mean": row.get(f"{prefix}_mean")}

    return {"tickets": row["tickets"], "first_response": times("fr"), "resolution": times("res"),
            "breach_rate": (row["breached"] / row["clocked"]) if row["clocked"] else None, "breached": row["breached"]}

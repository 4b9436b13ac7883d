"""The leads' reports: volume by channel and team over time, the backlog and its age, and per agent
(handled, solved, reopen rate, first response and resolution), each also as CSV.

Every figure is computed set-based by one statement per report (helpdesk.db.insight). The agents'
first response and resolution are business time, measured as the SLA report measures them (the
clock's schedule, waiting on the customer subtracted, spam/duplicates/merged left out, p50 and p95
beside the mean), by the SQL mirror of helpdesk.sla.business_hours (migration 1240; a property test
holds the two together).
"""
from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk import errors
from helpdesk.db import insight as sql
from helpdesk.db.client import DataApi

UNITS = ("day", "week", "month")
# The longest period per unit: a report stays one response well under the Data API's 1 MiB
# (periods x (channels + teams + 1) rows).
MAX_DAYS = {"day": 92, "week": 366, "month": 366}
MAX_AGENT_DAYS = 366


def _check_period(since: datetime, until: datetime, max_days: int) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise errors.ValidationFailed("since and until must be aware datetimes (with a time zone)")
    if until <= since:
        raise errors.ValidationFailed(f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    if until - since > timedelta(days=max_days):
        raise errors.ValidationFailed(f"the period is at most {max_days} days, got {(until - since).days}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.ValidationFailed(f"timezone {name!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)",
                                      field="timezone") from None


def period_starts(since: datetime, until: datetime, unit: str, zone: ZoneInfo) -> list[str]:
    """The local dates (YYYY-MM-DD) that start each day, week (Monday) or month touching [since, until)."""
    first, last = since.astimezone(zone).date(), (until - timedelta(microseconds=1)).astimezone(zone).date()
    if unit == "week":
        first -= timedelta(days=first.weekday())
    elif unit == "month":
        first = first.replace(day=1)
    out: list[str] = []
    day = first
    while day <= last:
        out.append(day.isoformat())
        if unit == "day":
            day += timedelta(days=1)
        elif unit == "week":
            day += timedelta(days=7)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def volume_report(db: DataApi, *, since: datetime, until: datetime, unit: str = "day", timezone: str = "UTC",
                  team_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Tickets created per day, week or month (local to `timezone`), in total, by channel and by team;
    every period of [since, until) is listed, with 0 where nothing came in. One Data API call."""
    if unit not in UNITS:
        raise errors.ValidationFailed(f"unit {unit!r} is not one of {', '.join(UNITS)}", field="unit")
    _check_period(since, until, MAX_DAYS[unit])
    zone = _zone(timezone)
    periods = period_starts(since, until, unit, zone)
    rows = db.query(sql.REPORT_VOLUME, {"since": since, "until": until, "unit": unit, "tz": timezone,
                                        "team_id": str(team_id) if team_id else None})
    total = dict.fromkeys(periods, 0)
    channels: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(periods, 0))
    teams: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        period = row["period"]
        if row["breakdown"] == "total":
            total[period] = row["tickets"]
        elif row["breakdown"] == "channel":
            channels[row["channel"]][period] = row["tickets"]
        else:
            team = teams.setdefault(row["team_id"], {"team_id": row["team_id"], "team_name": row["team_name"],
                                                     "tickets": dict.fromkeys(periods, 0)})
            team["tickets"][period] = row["tickets"]
    return {"since": since.isoformat(), "until": until.isoformat(), "unit": unit, "timezone": timezone,
            "team_id": str(team_id) if team_id else None, "periods": periods,
            "total": [total[p] for p in periods],
            "by_channel": [{"channel": c, "tickets": [counts[p] for p in periods], "sum": sum(counts.values())}
                           for c, counts in sorted(channels.items())],
            "by_team": [{"team_id": t["team_id"], "team_name": t["team_name"] or "(no team)",
                         "tickets": [t["tickets"][p] for p in periods], "sum": sum(t["tickets"].values())}
                        for t in sorted(teams.values(), key=lambda t: (t["team_name"] is None, t["team_name"] or ""))]}


BACKLOG_FIELDS = ("in_flight", "new", "assigned", "in_progress", "reopened", "waiting_on_customer", "backlog",
                  "unassigned", "oldest_age_seconds", "p50_age_seconds", "p95_age_seconds", "older_than_1d",
                  "older_than_3d", "older_than_7d")


def backlog_report(db: DataApi, *, now: datetime, team_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """The tickets in flight now per team and overall: by status, the backlog (our turn: all but waiting
    on the customer), unassigned, and the backlog's age (wall-clock: oldest, p50, p95, how many older
    than 1, 3 and 7 days). One Data API call."""
    rows = db.query(sql.REPORT_BACKLOG, {"now": now, "team_id": str(team_id) if team_id else None})
    empty = {f: (None if f.endswith("_seconds") else 0) for f in BACKLOG_FIELDS}
    overall, teams = dict(empty), []
    for row in rows:
        figures = {f: row[f] for f in BACKLOG_FIELDS}
        if row["grouped"]:
            overall = figures
        else:
            teams.append({"team_id": row["team_id"], "team_name": row["team_name"] or "(no team)", **figures})
    return {"as_of": now.isoformat(), "team_id": str(team_id) if team_id else None, "unit": "seconds",
            "overall": overall, "teams": teams}


def agents_report(db: DataApi, *, since: datetime, until: datetime, now: datetime,
                  team_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Per agent (the current assignee) for tickets created in [since, until): handled, solved, reopened,
    the reopen rate (reopened / ever solved), and first response and resolution in business seconds
    (count, p50, p95, mean; the SLA report's measure: the clock's schedule, waiting on the customer
    subtracted). One Data API call (a second, once per process, when a schedule names a holiday_country
    not met before: its public holidays come from Python). `satisfaction` is None until the lifecycle
    issue brings ratings (its figures belong there)."""
    from helpdesk.insight.business_time import query_measured

    _check_period(since, until, MAX_AGENT_DAYS)
    team = str(team_id) if team_id else None
    rows = query_measured(db, sql.REPORT_AGENTS, {"since": since, "until": until, "team_id": team},
                          first=since, last=max(until, now))

    def times(row: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {"count": row[f"{prefix}_count"], "p50": row[f"{prefix}_p50"], "p95": row[f"{prefix}_p95"],
                "mean": row[f"{prefix}_mean"]}

    agents = [{"agent_id": row["agent_id"], "agent_name": row["agent_name"], "agent_email": row["agent_email"],
               "handled": row["handled"], "solved": row["solved"], "reopened": row["reopened"],
               "reopen_rate": (row["reopened"] / row["ever_solved"]) if row["ever_solved"] else None,
               "first_response": times(row, "fr"), "resolution": times(row, "res"), "satisfaction": None}
              for row in rows]
    return {"since": since.isoformat(), "until": until.isoformat(), "team_id": team,
            "unit": "business seconds", "agents": agents}


# -- CSV -------------------------------------------------------------------------------------------

def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must not run a team or agent name as a formula
    return value


def volume_csv(report: dict[str, Any]) -> str:
    """One row per period, then channel or team: period, breakdown, name, tickets."""
    rows: list[list[Any]] = []
    for i, period in enumerate(report["periods"]):
        rows.append([period, "total", "all", report["total"][i]])
        rows += [[period, "channel", c["channel"], c["tickets"][i]] for c in report["by_channel"]]
        rows += [[period, "team", t["team_name"], t["tickets"][i]] for t in report["by_team"]]
    return _csv(["period", "breakdown", "name", "tickets"], rows)


def backlog_csv(report: dict[str, Any]) -> str:
    rows = [[t["team_name"], *(t[f] for f in BACKLOG_FIELDS)] for t in report["teams"]]
    rows.append(["All teams", *(report["overall"][f] for f in BACKLOG_FIELDS)])
    return _csv(["team", *BACKLOG_FIELDS], rows)


_SUMMARY = ("count", "p50", "p95", "mean")


def agents_csv(report: dict[str, Any]) -> str:
    header = ["agent", "email", "handled", "solved", "reopened", "reopen_rate",
              *(f"first_response_{s}" for s in _SUMMARY), *(f"resolution_{s}" for s in _SUMMARY), "satisfaction"]
    rows = [[a["agent_name"], a["agent_email"], a["handled"], a["solved"], a["reopened"], a["reopen_rate"],
             *(a["first_response"][s] for s in _SUMMARY), *(a["resolution"][s] for s in _SUMMARY), a["satisfaction"]]
            for a in report["agents"]]
    return _csv(header, rows)


def sla_csv(report: dict[str, Any]) -> str:
    """helpdesk.sla.reports.sla_report per team and overall (business seconds)."""
    header = ["team", "tickets", *(f"first_response_{s}" for s in _SUMMARY), *(f"resolution_{s}" for s in _SUMMARY),
              "breach_rate"]

    def row(name: str, g: dict[str, Any]) -> list[Any]:
        return [name, g["tickets"], *(g["first_response"][s] for s in _SUMMARY),
                *(g["resolution"][s] for s in _SUMMARY), g["breach_rate"]]

    return _csv(header, [row(t.get("team_name") or "(no team)", t) for t in report["teams"]]
                + [row("All teams", report["overall"])])

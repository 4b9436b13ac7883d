"""Operational metrics for the dashboard (tickets created, SLA targets met and breached, first
response times), computed from one minute of database rows, plus the outbox backlog (events not yet
relayed to SNS: OutboxBacklog, OutboxOldestAgeSeconds, OutboxParked), read in the same call.

The sweep emits them (it already runs every minute), so no write path pays for metrics and a
crashed consumer cannot lose them. Names are the contract with infra/monitoring.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.db import metrics as sql
from helpdesk.db.client import DataApi

WINDOW = timedelta(minutes=1)
MAX_FIRST_RESPONSES = 1000  # per minute; far above 50,000 tickets a day


@dataclass(frozen=True)
class MetricPoint:
    name: str
    unit: str  # "Count" or "Seconds"
    value: float
    dimension: tuple[str, str] | None = None
    second_dimension: tuple[str, str] | None = None  # e.g. the status beside the team


def last_full_minute(now: datetime) -> tuple[datetime, datetime]:
    """The window [since, until): the last complete minute, so runs within the same minute agree."""
    until = now.replace(second=0, microsecond=0)
    return until - WINDOW, until


def window_metrics(db: DataApi, since: datetime, until: datetime) -> list[MetricPoint]:
    """TicketsCreated by channel, SlaTargetsMet by target, each FirstResponseTime (in the
    ticket's business time when its clock runs on a schedule) and the outbox backlog. One Data API call."""
    from helpdesk.sla import Schedule, business_time_between

    points: list[MetricPoint] = []
    for row in db.query(sql.METRICS_WINDOW, {"since": since, "until": until, "limit": MAX_FIRST_RESPONSES}):
        if row["metric"] == "outbox_pending":
            # Age at the window's end (`until`, at most a minute before the run): every run emits it, 0
            # when nothing waits, so the alarm always has a datapoint while the sweep runs.
            oldest = _instant(row["started_at"]) if row.get("started_at") else None
            age = max((until - oldest).total_seconds(), 0.0) if oldest else 0.0
            points.append(MetricPoint("OutboxBacklog", "Count", row["n"]))
            points.append(MetricPoint("OutboxOldestAgeSeconds", "Seconds", age))
        elif row["metric"] == "outbox_parked":
            points.append(MetricPoint("OutboxParked", "Count", row["n"]))
        elif row["metric"] == "tickets_created":
            points.append(MetricPoint("TicketsCreated", "Count", row["n"], ("channel", row["dimension"])))
        elif row["metric"] == "targets_met":
            points.append(MetricPoint("SlaTargetsMet", "Count", row["n"], ("target", row["dimension"])))
        else:
            started, met = _instant(row["started_at"]), _instant(row["met_at"])
            if row["business"] and row["schedule"]:
                elapsed = business_time_between(started, met, Schedule.parse(row["schedule"]))
            else:
                elapsed = met - started
            points.append(MetricPoint("FirstResponseTime", "Seconds", max(elapsed.total_seconds(), 0.0)))
    return points


def breach_points(events: list[dict]) -> list[MetricPoint]:
    """SlaBreaches by target from the sla.breached events one sweep wrote."""
    counts: dict[str, int] = {}
    for event in events:
        if event.get("event_type", event.get("type")) != "sla.breached":
            continue
        payload = event.get("payload") or {}
        kinds = [c.get("kind") for c in payload.get("clocks") or []] or [payload.get("kind")]
        for kind in kinds:
            if kind:
                counts[kind] = counts.get(kind, 0) + 1
    return [MetricPoint("SlaBreaches", "Count", n, ("target", kind)) for kind, n in sorted(counts.items())]


def _instant(value):
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)

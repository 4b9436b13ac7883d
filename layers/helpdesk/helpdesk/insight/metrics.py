"""The operations metrics a support lead watches, as CloudWatch embedded metrics (EMF).

Where each comes from (never an extra Data API call on a request):
- the sweep's operations snapshot, one statement a minute (`operations_snapshot`): TimeToAssignment
  (one value per ticket first assigned in the minute, so CloudWatch gives p50/p95), TicketsReopened
  and TicketsResolved (the reopen rate is their ratio), SupportOpen (1 while the support address's
  business hours are open); and every GAUGE_MINUTES minutes the gauges, which read every ticket in
  flight: TicketsInFlight (team, status), AgentUtilization (team), BacklogTickets /
  BacklogOldestAgeSeconds / BacklogMedianAgeSeconds (team, and overall without a team);
- the inbound mail consumer, per mail (`inbound_points`): InboundMail by outcome (the threading layer
  that decided, a new ticket, or what else happened: the threading-health signal) and MailQuarantined
  by reason;
- the outbound consumer, per event (`outbound_points`, `outbound_failure_points`):
  AutoAcknowledgementsSent, RepliesSent by channel, OutboundSendFailures by channel.

InboundMail, MailQuarantined and OutboundSendFailures are also emitted without their own dimension
(only service): a CloudWatch alarm cannot sum a SEARCH, so the alarms read these totals.

The names are the contract with infra/monitoring.py (its CUSTOM_METRICS) and docs/runbook.md.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any, Iterable

from helpdesk.db import insight as sql
from helpdesk.db.client import DataApi
from helpdesk.sla.metrics import MetricPoint

SERVICE = "helpdesk"  # the dimension every metric carries; the dashboard and alarms select on it
MAX_ASSIGNMENTS = 1000  # first assignments measured per minute; far above 50,000 tickets a day
# The gauges scan every ticket in flight (150,000 at the largest size we serve): every 5th minute, not
# every minute, keeps the steady-state sweep cheap; the dashboard and alarms read them per 5 minutes.
GAUGE_MINUTES = 5
# InboundMail outcomes that are threading decisions (their shares are the threading-health signal).
THREADING_OUTCOMES = ("token", "references", "subject_tag", "heuristic", "new_ticket")
INBOUND_OUTCOMES = THREADING_OUTCOMES + ("automatic", "quarantined", "duplicate", "dropped")

SNAPSHOT_METRICS = ("TicketsInFlight", "AgentUtilization", "BacklogTickets", "BacklogOldestAgeSeconds",
                    "BacklogMedianAgeSeconds", "TimeToAssignment", "TicketsReopened", "TicketsResolved", "SupportOpen")
CONSUMER_METRICS = ("InboundMail", "MailQuarantined", "AutoAcknowledgementsSent", "RepliesSent", "OutboundSendFailures")


def gauges_due(until: datetime) -> bool:
    """Whether the window ending at `until` (a whole minute) also measures the gauges."""
    return until.minute % GAUGE_MINUTES == 0


def operations_snapshot(db: DataApi, since: datetime, until: datetime, *, gauges: bool) -> list[MetricPoint]:
    """The snapshot metrics for the window [since, until) (the sweep passes the last full minute), with
    the gauges measured at `until` when `gauges`. One Data API call."""
    from helpdesk.sla import Schedule

    points: list[MetricPoint] = []
    support_hours = None
    for row in db.query(sql.OPERATIONS_SNAPSHOT, {"since": since, "until": until, "limit": MAX_ASSIGNMENTS,
                                                  "gauges": gauges}):
        metric, team = row["metric"], row.get("team")
        by_team = ("team", team) if team is not None else None
        if metric == "in_flight":
            points.append(MetricPoint("TicketsInFlight", "Count", row["n"], by_team, ("status", row["status"])))
        elif metric == "backlog":
            points += [MetricPoint("BacklogTickets", "Count", row["n"], by_team),
                       MetricPoint("BacklogOldestAgeSeconds", "Seconds", max(row["value"] or 0.0, 0.0), by_team),
                       MetricPoint("BacklogMedianAgeSeconds", "Seconds", max(row["median"] or 0.0, 0.0), by_team)]
        elif metric == "utilization":
            capacity = row["value"] or 0.0
            if capacity > 0:  # a team whose agents all have capacity 0 takes no pushed work: no ratio
                points.append(MetricPoint("AgentUtilization", "Percent", 100.0 * row["n"] / capacity, by_team))
        elif metric == "time_to_assignment":
            points.append(MetricPoint("TimeToAssignment", "Seconds", max(row["value"], 0.0)))
        elif metric == "reopened":
            points.append(MetricPoint("TicketsReopened", "Count", row["n"]))
        elif metric == "resolved":
            points.append(MetricPoint("TicketsResolved", "Count", row["n"]))
        elif metric == "support_hours":
            support_hours = row["schedule"]
    if gauges and not any(p.name == "BacklogTickets" and p.dimension is None for p in points):
        # An empty backlog still reports, so "backlog age over target" has a datapoint every minute.
        points += [MetricPoint("BacklogTickets", "Count", 0), MetricPoint("BacklogOldestAgeSeconds", "Seconds", 0.0),
                   MetricPoint("BacklogMedianAgeSeconds", "Seconds", 0.0)]
    # Open at the minute measured (no schedule: a 24/7 desk, always open).
    schedule = Schedule.parse(support_hours) if support_hours else Schedule.always()
    points.append(MetricPoint("SupportOpen", "Count", 1 if schedule.is_open(until - timedelta(seconds=1)) else 0))
    return points


def inbound_points(action: str, layer: str | None, classification: str | None) -> list[MetricPoint]:
    """One inbound mail's outcome (helpdesk.intake.email.IntakeOutcome fields)."""
    if action in ("created", "threaded", "followup_created"):
        outcome = layer or "new_ticket"
    elif action == "system_event":
        outcome = "automatic"  # a bounce or auto-reply written on its ticket: not customer threading
    else:
        outcome = action  # quarantined, duplicate, dropped
    points = [MetricPoint("InboundMail", "Count", 1), MetricPoint("InboundMail", "Count", 1, ("outcome", outcome))]
    if action == "quarantined":
        points += [MetricPoint("MailQuarantined", "Count", 1),
                   MetricPoint("MailQuarantined", "Count", 1, ("reason", classification or "unknown"))]
    return points


def outbound_points(outcome: dict[str, Any]) -> list[MetricPoint]:
    """What one delivered outbound event sent (helpdesk.outbound.dispatch.deliver's result)."""
    if outcome.get("kind") == "acknowledgement":
        return [MetricPoint("AutoAcknowledgementsSent", "Count", 1)] if outcome.get("action") == "sent" else []
    channel = outcome.get("channel") or "email"
    if channel == "slack" or outcome.get("action") == "sent":
        return [MetricPoint("RepliesSent", "Count", 1, ("channel", channel))]
    return []


def outbound_failure_points(event: Any) -> list[MetricPoint]:
    """A send that raised (SES or Slack refused or was unreachable; the event is retried, then parked
    in the dead-letter queue). The channel follows helpdesk.outbound.dispatch: only replies on Slack
    tickets go to Slack."""
    channel = getattr(event.payload, "channel", None)
    return [MetricPoint("OutboundSendFailures", "Count", 1), MetricPoint("OutboundSendFailures", "Count", 1, (
        "channel", "slack" if event.type != "ticket.created" and channel == "slack" else "email"))]


def emit(points: Iterable[MetricPoint]) -> None:
    """CloudWatch embedded metric format on stdout, one document per point (namespace from
    POWERTOOLS_METRICS_NAMESPACE, default Helpdesk; dimension service=helpdesk)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk")
    for point in points:
        with single_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value,
                           namespace=namespace, default_dimensions={"service": SERVICE}) as metric:
            for dimension in (point.dimension, point.second_dimension):
                if dimension:
                    metric.add_dimension(name=dimension[0], value=str(dimension[1]))

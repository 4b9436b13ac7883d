"""The jobs the every-minute schedule runs (functions/sweep in AWS, the schedule loop locally), in
order, each with the most Data API calls it may make: the SLA sweep, the outbox relay, out-of-office
handovers, the queue back-fill, the operational metrics and the operations snapshot (helpdesk.insight).

Each job runs on its own: one failing job is reported and the others still run. The bounds never
depend on how many tickets are open or queued (tests/integration/sla/test_sweep_jobs.py pins them at
two backlog sizes; the bench checks the sum). A run that found nothing to do tells the caller so, with
the next instant work is due, for the idle skip (helpdesk.idle).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from helpdesk.clock import Clock
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    max_calls: int
    run: Callable[["_Context"], Any]


@dataclass
class _Context:
    db: DataApi
    clock: Clock
    publisher: Publisher
    metric_points: list[Any] = field(default_factory=list)


@dataclass
class PeriodicRun:
    report: dict[str, Any]  # per job: its result, or {"error": ...}
    metric_points: list[Any]  # helpdesk.sla.metrics.MetricPoint, for the caller to emit
    idle: bool  # nothing was due and nothing failed: the database may be left alone for a while
    next_due: datetime | None  # the earliest SLA instant the sweep knows of (None: none)


def _sla(ctx: _Context) -> dict[str, Any]:
    from helpdesk.sla.metrics import breach_points
    from helpdesk.sla.sweep import run_sweep

    result = run_sweep(ctx.db, ctx.clock, ctx.publisher)
    ctx.metric_points.extend(breach_points(result.get("events") or []))
    return {k: v for k, v in result.items() if k != "events"}


def _outbox_relay(ctx: _Context) -> int:
    from helpdesk.events.outbox import relay_pending

    return relay_pending(ctx.db, ctx.publisher)


def _out_of_office_handover(ctx: _Context) -> int:
    from helpdesk.routing.assignment import Assignment

    return Assignment(ctx.db, ctx.clock, ctx.publisher).hand_over_due()


def _queue_backfill(ctx: _Context) -> int:
    from helpdesk.routing.assignment import Assignment

    return Assignment(ctx.db, ctx.clock, ctx.publisher).backfill()


def _metrics(ctx: _Context) -> int:
    from helpdesk.sla.metrics import last_full_minute, window_metrics

    points = window_metrics(ctx.db, *last_full_minute(ctx.clock.now()))
    ctx.metric_points.extend(points)
    return len(points)


def _operations_metrics(ctx: _Context) -> int:
    from helpdesk.insight.metrics import gauges_due, operations_snapshot
    from helpdesk.sla.metrics import last_full_minute

    since, until = last_full_minute(ctx.clock.now())
    points = operations_snapshot(ctx.db, since, until, gauges=gauges_due(until))
    ctx.metric_points.extend(points)
    return len(points)


def jobs() -> list[Job]:
    """The jobs in the order they run, with their call bounds (read from the modules that own them)."""
    from helpdesk.events.outbox import RELAY_MAX_CALLS
    from helpdesk.routing.assignment import BACKFILL_MAX_CALLS, HAND_OVER_MAX_PAGES
    from helpdesk.sla.sweep import SweepSettings

    return [Job("sla", SweepSettings().max_calls, _sla), Job("outbox_relay", RELAY_MAX_CALLS, _outbox_relay),
            Job("out_of_office_handover", HAND_OVER_MAX_PAGES, _out_of_office_handover),
            Job("queue_backfill", BACKFILL_MAX_CALLS, _queue_backfill), Job("metrics", 1, _metrics),
            Job("operations_metrics", 1, _operations_metrics)]


def max_calls() -> int:
    """The most Data API calls one scheduled run makes: the sum of its jobs' bounds."""
    return sum(job.max_calls for job in jobs())


def run_job(job: Job, db: DataApi, clock: Clock, publisher: Publisher) -> Any:
    """One job on its own (tests and benchmarks measure them one at a time)."""
    return job.run(_Context(db, clock, publisher))


def run_periodic_jobs(db: DataApi, clock: Clock, publisher: Publisher) -> PeriodicRun:
    ctx = _Context(db, clock, publisher)
    report: dict[str, Any] = {}
    for job in jobs():
        try:
            report[job.name] = job.run(ctx)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
            report[job.name] = {"error": f"{type(exc).__name__}: {exc}"}
            log.exception("periodic job %s failed", job.name)
    sla = report["sla"] if isinstance(report.get("sla"), dict) else {"error": "no result"}
    failed = any(isinstance(r, dict) and "error" in r for r in report.values())
    return PeriodicRun(report, ctx.metric_points, idle=not failed and not report.get("outbox_relay"),
                       next_due=sla.get("next_due_at"))

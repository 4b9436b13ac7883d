"""EventBridge schedule (every minute; the local stack every 30 s): the SLA sweep and the other periodic
jobs (outbox relay, out-of-office handovers, queue backfill). Each job runs on its own: one failing or
missing job is reported and the others still run.

Every job's Data API calls are bounded by a constant, never by the number of open or queued tickets
(tests/integration/sla/test_sweep_jobs.py pins them at two backlog sizes): sla SweepSettings.max_calls
(4 when nothing is due), outbox_relay RELAY_MAX_CALLS (2), out_of_office_handover HAND_OVER_MAX_PAGES
(1 per page of absent agents), queue_backfill BACKFILL_MAX_CALLS (1 per batch of up to 500 assignments,
+ the routing configuration when expired), metrics 1.

Idle cost: with SWEEP_MAX_IDLE_SECONDS > 0 (the stack sets 3600 in dev) a warm function skips database
work until the earliest of the next SLA instant the last sweep saw and that many seconds, so an idle
Aurora Serverless v2 cluster can auto-pause; deadlines created meanwhile are then swept up to that
late (helpdesk.idle). 0 (the default) touches the database every run.
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Callable

from aws_lambda_powertools import Logger, Tracer

from helpdesk.idle import IdleSkip

logger = Logger(service="sweep")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="sweep")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk")
SERVICE = "helpdesk"  # the dashboard's metric searches include this dimension (infra/monitoring.py)
_idle = IdleSkip()


def jobs(db: Any, clock: Any, publisher: Any) -> list[tuple[str, Callable[[], Any]]]:
    """The periodic jobs in order. Imports happen inside each job so a missing module is named clearly."""

    def sla() -> dict[str, Any]:
        from helpdesk.sla.metrics import breach_points
        from helpdesk.sla.sweep import run_sweep

        result = run_sweep(db, clock, publisher)
        emit(breach_points(result.get("events") or []))
        return {k: v for k, v in result.items() if k != "events"}

    def metrics() -> int:
        from helpdesk.sla.metrics import last_full_minute, window_metrics

        points = window_metrics(db, *last_full_minute(clock.now()))
        emit(points)
        return len(points)

    def outbox_relay() -> int:
        from helpdesk.events.outbox import relay_pending

        return relay_pending(db, publisher)

    def out_of_office_handover() -> int:
        from helpdesk.routing.assignment import Assignment

        return Assignment(db, clock, publisher).hand_over_due()

    def queue_backfill() -> int:
        from helpdesk.routing.assignment import Assignment

        return Assignment(db, clock, publisher).backfill()

    return [("sla", sla), ("outbox_relay", outbox_relay), ("out_of_office_handover", out_of_office_handover),
            ("queue_backfill", queue_backfill), ("metrics", metrics)]


def emit(points: list[Any]) -> None:
    """CloudWatch embedded metric format on stdout (namespace from POWERTOOLS_METRICS_NAMESPACE)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    for point in points:
        with single_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value,
                           namespace=METRICS_NAMESPACE, default_dimensions={"service": SERVICE}) as metric:
            if point.dimension:
                metric.add_dimension(name=point.dimension[0], value=str(point.dimension[1]))


def run_jobs(db: Any, clock: Any, publisher: Any) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, job in jobs(db, clock, publisher):
        try:
            report[name] = job()
        except ImportError as exc:
            report[name] = {"error": f"not available: {exc}"}
            logger.error("sweep job unavailable", extra={"job": name, "error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
            report[name] = {"error": f"{type(exc).__name__}: {exc}"}
            logger.exception("sweep job failed", extra={"job": name})
    return report


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value.isoformat() if isinstance(value, datetime) else value


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: object) -> dict:
    from helpdesk import wiring

    wiring.bind_invocation(context)
    clock = wiring.clock()
    now = clock.now()
    until = _idle.skipping(now)
    if until is not None:
        return {"skipped": True, "until": until.isoformat()}
    report = run_jobs(wiring.data_api(), clock, wiring.publisher())
    sla = report.get("sla") if isinstance(report.get("sla"), dict) else {}
    _idle.ran(now, idle="error" not in sla and not report.get("outbox_relay"), next_due=sla.get("next_due_at"))
    logger.info("sweep done", extra={"report": _json(report)})
    return _json(report)

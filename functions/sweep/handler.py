"""EventBridge schedule (every minute; the local stack every 30 s): the periodic jobs of
helpdesk.periodic (SLA sweep, outbox relay, out-of-office handovers, queue back-fill, metrics; each
bounded in Data API calls), their metrics emitted as CloudWatch embedded metrics.

Idle cost: with SWEEP_MAX_IDLE_SECONDS > 0 (the stack sets 3600 in dev) a warm function skips database
work until the earliest of the next SLA instant the last sweep saw and that many seconds, so an idle
Aurora Serverless v2 cluster can auto-pause; deadlines created meanwhile are then swept up to that
late (helpdesk.idle). 0 (the default) touches the database every run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from helpdesk.idle import IdleSkip
from helpdesk.insight.metrics import emit
from helpdesk.periodic import run_periodic_jobs

logger = Logger(service="sweep")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="sweep")
_idle = IdleSkip()


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
    run = run_periodic_jobs(wiring.data_api(), clock, wiring.publisher())
    emit(run.metric_points)
    _idle.ran(now, idle=run.idle, next_due=run.next_due)
    logger.info("sweep done", extra={"report": _json(run.report)})
    return _json(run.report)

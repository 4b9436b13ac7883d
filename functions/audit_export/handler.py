"""Daily (EventBridge schedule): export ticket_audit rows older than AUDIT_HOT_DAYS (default 90) to
s3://AUDIT_BUCKET/ticket_audit/dt=YYYY-MM-DD/*.jsonl and remove them from the hot tier
(AUDIT_DELETE_EXPORTED=false keeps them); prune published outbox rows, old dedupe records, finished notification deliveries and trigger firings."""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from helpdesk import wiring
from helpdesk.config import get_settings
from helpdesk.events.audit_export import run_export
from helpdesk.events.outbox import prune_processed, prune_published
from helpdesk.notify.notifier import prune_deliveries
from helpdesk.triggers.engine import prune_firings

logger = Logger(service="audit_export")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="audit_export")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    wiring.bind_invocation(context)
    db, clock = wiring.data_api(), wiring.clock(settings)
    run = run_export(db, wiring.aws_client("s3", settings), settings.audit_bucket,
                     older_than=timedelta(days=int(os.environ.get("AUDIT_HOT_DAYS", "90"))), clock=clock,
                     delete_exported=os.environ.get("AUDIT_DELETE_EXPORTED", "true").lower() != "false")
    result = {"rows": run.rows, "objects": run.objects, "deleted": run.deleted, "redone": run.redone,
              "outbox_pruned": prune_published(db, clock), "processed_pruned": prune_processed(db, clock),
              "deliveries_pruned": prune_deliveries(db, clock), "trigger_firings_pruned": prune_firings(db, clock)}
    logger.info("audit export", extra=result)
    return result

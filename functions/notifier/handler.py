"""Agent notifications. Triggered by the notify SQS queue (SNS ticket-events, raw or enveloped) with
ReportBatchItemFailures: only the records that failed are retried, each after an exponential
backoff set through its visibility timeout, and land in the DLQ after maxReceiveCount. Also run by
an EventBridge schedule (every minute) to deliver notifications deferred by quiet hours; that run
skips the database while nothing deferred is due (deliver_deferred)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from helpdesk import wiring
from helpdesk.events.retry import backoff_seconds, parse_queue_arn
from helpdesk.events.schemas import parse_event
from helpdesk.idle import IdleSkip, max_idle_seconds
from helpdesk.notify.build import notifier_from_settings
from helpdesk.notify.notifier import Notifier

logger = Logger(service="notifier")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="notifier")
# A batch whose every record failed is reported like any partial failure (not raised), so each
# failed record still gets its own backoff.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_idle = IdleSkip()


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    return notifier_from_settings()


def record_handler(record: SQSRecord) -> dict[str, Any]:
    event = parse_event(record.body)  # invalid -> exception -> retried, then DLQ (kept for inspection)
    outcome = notifier().handle(event)
    if outcome.sent or outcome.deferred or outcome.suppressed or outcome.rejected or outcome.already_done:
        logger.info("notified", extra={"event_id": str(event.id), "event_type": event.type, **outcome.__dict__})
    return outcome.__dict__


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the schedule
        return deliver_deferred()
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    back_off(event["Records"], {f["itemIdentifier"] for f in result.get("batchItemFailures", [])})
    return result


def deliver_deferred() -> dict[str, Any]:
    """The scheduled run. With SWEEP_MAX_IDLE_SECONDS a warm function whose last run sent nothing
    leaves the database alone until the earliest deferred notification is due (or that budget ends;
    helpdesk.idle), so an idle Aurora cluster can pause."""
    now = notifier().clock.now()
    until = _idle.skipping(now)
    if until is not None:
        return {"skipped": True, "until": until.isoformat()}
    outcome = notifier().deliver_due()
    idle = not (outcome.sent or outcome.rejected or outcome.failed)
    _idle.ran(now, idle=idle, next_due=notifier().next_deferred_at() if idle and max_idle_seconds() else None)
    return {"deferred_sent": outcome.sent, "rejected": outcome.rejected}


def back_off(records: list[dict[str, Any]], failed_ids: set[str]) -> None:
    """Failed records become visible again after 30 s, 60 s, 120 s ... instead of the fixed timeout."""
    if not failed_ids:
        return
    sqs = wiring.boto3_client("sqs")
    for record in records:
        if record.get("messageId") not in failed_ids:
            continue
        try:
            name, account, _ = parse_queue_arn(record["eventSourceARN"])
            url = queue_url(sqs, name, account)
            receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"],
                                          VisibilityTimeout=backoff_seconds(receives))
        except Exception:  # noqa: BLE001 - best effort: the queue's own visibility timeout still retries
            logger.exception("could not set retry backoff", extra={"message_id": record.get("messageId")})


_queue_urls: dict[tuple[str, str], str] = {}


def queue_url(sqs: Any, name: str, account: str) -> str:
    key = (name, account)
    if key not in _queue_urls:
        _queue_urls[key] = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return _queue_urls[key]

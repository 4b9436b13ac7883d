"""Agent notifications. Triggered by the notify SQS queue (SNS ticket-events, raw or enveloped) with
ReportBatchItemFailures: only the records that failed are retried, each after an exponential
backoff set through its visibility timeout, and land in the DLQ after maxReceiveCount. Also run by
an EventBridge schedule (every minute) to deliver notifications deferred by quiet hours."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from helpdesk import wiring
from helpdesk.events.retry import backoff_seconds, parse_queue_arn
from helpdesk.events.schemas import parse_event
from helpdesk.notify.build import notifier_from_settings
from helpdesk.notify.notifier import Notifier

logger = Logger(service="notifier")
# A batch whose every record failed is reported like any partial failure (not raised), so each
# failed record still gets its own backoff.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


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
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the schedule
        outcome = notifier().deliver_due()
        return {"deferred_sent": outcome.sent, "rejected": outcome.rejected}
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    back_off(event["Records"], {f["itemIdentifier"] for f in result.get("batchItemFailures", [])})
    return result


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

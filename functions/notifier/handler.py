"""Agent notifications and the admin's triggers (helpdesk.triggers: they run here, after the outbox,
never on a request). Triggered by the notify SQS queue (SNS ticket-events, raw or enveloped) with
ReportBatchItemFailures: only the records that failed are retried, each after an exponential
backoff set through its visibility timeout, and land in the DLQ after maxReceiveCount. Also run by
an EventBridge schedule (every minute) to deliver notifications deferred by quiet hours. That
schedule runs only while something is deferred, and skips the database until it is due
(deliver_deferred)."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from helpdesk import wiring
from helpdesk.events.retry import backoff_seconds, parse_queue_arn
from helpdesk.events.schemas import parse_event
from helpdesk.idle import IdleSkip, max_idle_seconds
from helpdesk.notify.build import notifier_from_settings
from helpdesk.notify.notifier import Notifier

if TYPE_CHECKING:
    from helpdesk.triggers.engine import TriggerEngine

logger = Logger(service="notifier")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="notifier")
# A batch whose every record failed is reported like any partial failure (not raised), so each
# failed record still gets its own backoff.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_idle = IdleSkip()
SCHEDULE_RULE_ENV = "NOTIFIER_SCHEDULE_RULE"


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    return notifier_from_settings()


@lru_cache(maxsize=1)
def trigger_engine() -> "TriggerEngine":
    # Imported on the first queued event, not at cold start (the scheduled run never needs it).
    from helpdesk.triggers.build import engine_from_settings

    return engine_from_settings()


def record_handler(record: SQSRecord) -> dict[str, Any]:
    event = parse_event(record.body)  # invalid -> exception -> retried, then DLQ (kept for inspection)
    # Notifications and the admin's triggers both run on the event; neither waits on the other's
    # failure. Either failing fails the record; its redelivery repeats neither (both dedupe by event id).
    failure: Exception | None = None
    try:
        outcome = notifier().handle(event)
    except Exception as exc:  # noqa: BLE001 - re-raised after the triggers ran
        failure, outcome = exc, None
    try:
        fired = trigger_engine().handle(event)
        if fired.fired or fired.stopped or fired.refused:
            logger.info("triggers", extra={"event_id": str(event.id), "event_type": event.type, **fired.__dict__})
    except Exception as exc:  # noqa: BLE001
        failure = failure or exc
    if outcome is not None:
        if outcome.sent or outcome.deferred or outcome.suppressed or outcome.rejected or outcome.already_done:
            logger.info("notified", extra={"event_id": str(event.id), "event_type": event.type, **outcome.__dict__})
        # After the deferral is stored (deliver_deferred says why the order matters). A failure fails the
        # record: its redelivery finds the deferral already stored (already_done) and switches again.
        if outcome.deferred or outcome.already_done:
            switch_schedule(on=True)
    if failure is not None:
        raise failure
    return outcome.__dict__ if outcome is not None else {}


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context)
    if "Records" not in event:  # the schedule
        return deliver_deferred()
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    back_off(event["Records"], {f["itemIdentifier"] for f in result.get("batchItemFailures", [])})
    return result


def deliver_deferred() -> dict[str, Any]:
    """The scheduled run. When nothing is deferred any more it switches its own schedule off (a
    deferral switches it on again), so an idle stage runs nothing; while something waits, a warm
    function leaves the database alone until it is due (within SWEEP_MAX_IDLE_SECONDS;
    helpdesk.idle), so an idle Aurora cluster can pause meanwhile."""
    now = notifier().clock.now()
    until = _idle.skipping(now)
    if until is not None:
        return {"skipped": True, "until": until.isoformat()}
    outcome = notifier().deliver_due()
    idle = not (outcome.sent or outcome.rejected or outcome.failed)
    next_due = notifier().next_deferred_at() if idle and (max_idle_seconds() or schedule_rule()) else None
    if idle and next_due is None and schedule_rule():
        # Nothing waits: the schedule goes off. A deferral stored before the second look is found
        # by it; one stored after it switches the schedule on after this switched it off.
        switch_schedule(on=False)
        if notifier().next_deferred_at() is not None:
            switch_schedule(on=True)
    _idle.ran(now, idle=idle, next_due=next_due)
    return {"deferred_sent": outcome.sent, "rejected": outcome.rejected}


def schedule_rule() -> str:
    """The EventBridge rule of the deferred run (the stack sets it; the local stack runs its own loop)."""
    return os.environ.get(SCHEDULE_RULE_ENV, "")


def switch_schedule(*, on: bool) -> None:
    name = schedule_rule()
    if not name:
        return
    events = wiring.aws_client("events")
    (events.enable_rule if on else events.disable_rule)(Name=name)


def back_off(records: list[dict[str, Any]], failed_ids: set[str]) -> None:
    """Failed records become visible again after 30 s, 60 s, 120 s ... instead of the fixed timeout."""
    if not failed_ids:
        return
    sqs = wiring.aws_client("sqs")
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

"""Inbound mail. SES's receipt rule stores the raw MIME in S3; the S3 ObjectCreated notification
reaches the inbound SQS queue; this function (ReportBatchItemFailures) reads each object and hands
it to helpdesk.intake.email.EmailIntake.

A record fails (and is retried, then lands in the DLQ) only for transient trouble: S3 or the
database unreachable. Mail that cannot be parsed is kept as a quarantine row pointing at its raw
object, so it is never retried forever and never lost.

Environment: RAW_MAIL_BUCKET (fallback when the event names none), ATTACHMENTS_BUCKET,
SUPPORT_DOMAIN, HELPDESK_SIGNING_KEY, HELPDESK_EMAIL_HEURISTIC=1 (Settings.email_heuristic_threading)
enables heuristic threading.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from helpdesk import wiring
from helpdesk.config import get_settings
from helpdesk.insight.metrics import emit, inbound_points
from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.s3 import read_raw_mail, s3_email_intake

if __package__:
    from .models import S3EventNotification
else:  # Lambda: this directory is the code root
    from models import S3EventNotification  # type: ignore[no-redef]

logger = Logger(service="inbound_email")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="inbound_email")
# SES writes this object when the receipt rule's S3 action is created: not a customer's mail.
SES_SETUP_NOTIFICATION = "AMAZON_SES_SETUP_NOTIFICATION"
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# A mail is processed or quarantined within a few seconds (helpdesk.intake.email.limits bounds the
# parsing); a record is started only with this much of the function's time left. The rest of the
# batch is reported failed and comes back on its own, instead of the whole batch (mail already
# done included) returning to the queue when the function times out.
RESERVE_MILLIS = 15_000


class OutOfTime(Exception):
    """Not started: too little of the invocation's time was left (the record is retried)."""


@lru_cache(maxsize=1)
def intake() -> EmailIntake:
    settings = get_settings()
    return s3_email_intake(wiring.data_api(), wiring.clock(settings), wiring.publisher(settings), settings, s3())


@lru_cache(maxsize=1)
def s3() -> Any:
    return wiring.aws_client("s3")


def process_object(bucket: str, key: str) -> dict[str, Any]:
    mail = read_raw_mail(s3(), bucket, key)  # the envelope comes from object metadata (local stack)
    outcome = intake().receive(mail.raw, envelope_recipients=mail.envelope_recipients, raw_key=key)
    result = {"bucket": bucket, "key": key, "action": outcome.action, "reason": outcome.reason,
              "ticket_id": str(outcome.ticket_id) if outcome.ticket_id else None, "layer": outcome.layer}
    logger.info("inbound mail", extra=result)
    emit(inbound_points(outcome.action, outcome.layer, outcome.classification))
    return result


def record_handler(record: SQSRecord, lambda_context: Any = None) -> list[dict[str, Any]]:
    if lambda_context is not None and lambda_context.get_remaining_time_in_millis() < RESERVE_MILLIS:
        raise OutOfTime(f"{lambda_context.get_remaining_time_in_millis()} ms left, {RESERVE_MILLIS} ms needed")
    notification = S3EventNotification.model_validate_json(record.body)
    if notification.event == "s3:TestEvent":
        return []
    default_bucket = get_settings().raw_mail_bucket
    results = []
    for entry in notification.records:
        if not entry.event_name.startswith("ObjectCreated"):
            continue
        if entry.s3.object.decoded_key.rsplit("/", 1)[-1] == SES_SETUP_NOTIFICATION:
            logger.info("skipped SES setup notification", extra={"key": entry.s3.object.decoded_key})
            continue
        results.append(process_object(entry.s3.bucket.name or default_bucket, entry.s3.object.decoded_key))
    return results


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""Outbound replies. Triggered by the outbound SQS queue (SNS ticket-events filtered to the types
helpdesk.outbound.dispatch.EVENT_TYPES names; raw delivery or the SNS envelope) with ReportBatchItemFailures.
ticket.created of an email or web-form ticket sends its one acknowledgement (Auto-Submitted: auto-replied; like
every mail from us it carries the portal link, which the web form no longer answers).

Which channel answers is helpdesk.outbound.dispatch's rule; this handler wires the senders
(helpdesk.outbound.email.OutboundEmail through SES, helpdesk.outbound.slack) and reports per record. Environment: SUPPORT_DOMAIN, HELPDESK_SIGNING_KEY,
SES_CONFIGURATION_SET (optional), ATTACHMENTS_BUCKET (files of a reply).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from helpdesk import errors, wiring
from helpdesk.config import get_settings
from helpdesk.events.schemas import parse_event
from helpdesk.insight.metrics import emit, outbound_failure_points, outbound_points
from helpdesk.outbound import dispatch
from helpdesk.outbound.email import OutboundEmail

logger = Logger(service="outbound")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="outbound")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def email_sender() -> OutboundEmail:
    settings = get_settings()
    return OutboundEmail(wiring.data_api(), wiring.aws_client("ses", settings), settings, wiring.clock(settings),
                         s3_client=wiring.aws_client("s3", settings))  # reads the reply's attachments


def send_slack(event: Any) -> Any:
    from helpdesk.outbound import slack  # imported lazily: email must work without it

    return slack.send(event)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    event = parse_event(record.body)  # invalid -> exception -> retried, then DLQ
    try:
        outcome = dispatch.deliver(event, email=email_sender, slack=send_slack)
    except errors.Conflict:
        raise  # another attempt holds the send: retried later, not a failure
    except Exception:
        emit(outbound_failure_points(event))
        raise
    logger.info("outbound", extra={"event_id": str(event.id), **outcome})
    emit(outbound_points(outcome))
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""Push: committed ticket events (SNS ticket-events -> SQS push queue) become live-update messages
on the AppSync Event API (helpdesk.push). Never called from a request: a change is pushed only
after its command committed and the outbox published it. A batch that cannot be pushed is reported
failed record by record and comes back (at-least-once; a repeated signal only makes clients re-read)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from helpdesk import errors, wiring
from helpdesk.events.schemas import parse_event
from helpdesk.push.appsync import PublishFailed
from helpdesk.push.relay import push_events
from helpdesk.snapstart import register_before_snapshot

logger = Logger(service="push")
tracer = Tracer(service="push")


@lru_cache(maxsize=1)
def publisher():
    return wiring.push_publisher()


def _prime() -> None:
    """SnapStart (infra/workers.py): the snapshot carries the SDK clients a first batch would build."""
    wiring.data_api()
    publisher()


register_before_snapshot(_prime)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context)
    events, records = [], []
    for record in event.get("Records", []):
        try:
            events.append(parse_event(record["body"]))
            records.append(record["messageId"])
        except errors.ValidationFailed as exc:  # already validated by the outbox; never block the others
            logger.error("push: skipping an invalid event", extra={"message_id": record.get("messageId"), "reason": exc.detail})
    if publisher() is None or not events:
        return {"batchItemFailures": []}
    try:
        result = push_events(wiring.data_api(), publisher(), events)
    except PublishFailed as exc:  # the Event API refused or is down: these records come back after a backoff
        logger.warning("push: publish failed; the batch will be retried", extra={"reason": exc.detail})
        return {"batchItemFailures": [{"itemIdentifier": m} for m in records]}
    logger.debug("pushed", extra={"events": result.events, "messages": result.messages})
    return {"batchItemFailures": []}

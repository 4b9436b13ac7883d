"""Publishing events to the SNS topic `ticket-events` (implements helpdesk.events.publisher.Publisher).

Each event is one SNS message whose body is the event JSON (helpdesk.events.schemas), with the
message attribute `event_type` so subscriptions filter by type (the notify and outbound queues).
PublishBatch sends up to 10 messages per call (and at most 256 KiB per call). Only the ids SNS
accepted are returned: anything else stays pending in the outbox and the relay retries it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from helpdesk import errors
from helpdesk.events.schemas import Event, validate_outbox_row

log = logging.getLogger(__name__)

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024


class SnsPublisher:
    def __init__(self, sns_client: Any, topic_arn: str) -> None:
        if not topic_arn:
            raise errors.ValidationFailed("SnsPublisher needs a topic ARN (EVENTS_TOPIC_ARN)")
        self.sns = sns_client
        self.topic_arn = topic_arn

    def publish(self, events: Sequence[dict[str, Any] | Event]) -> list[str]:
        entries: list[dict[str, Any]] = []
        for raw in events:
            try:
                event = raw if isinstance(raw, Event) else validate_outbox_row(raw)
            except errors.ValidationFailed as exc:
                # Not sent, stays pending; the relay parks it (outbox.dead_at) with this reason.
                log.error("outbox event not published: %s", exc.detail)
                continue
            entries.append(self.entry(event))
        accepted: list[str] = []
        for batch in _batches(entries):
            try:
                response = self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=batch)
            except Exception:  # noqa: BLE001 - SNS down or throttling: stop; the relay retries the rest
                log.exception("SNS PublishBatch failed; %d event(s) stay pending in the outbox", len(entries) - len(accepted))
                break
            accepted.extend(ok["Id"] for ok in response.get("Successful", []))
            for failed in response.get("Failed", []):
                log.warning("SNS rejected event %s: %s %s", failed.get("Id"), failed.get("Code"), failed.get("Message"))
        return accepted

    @staticmethod
    def entry(event: Event) -> dict[str, Any]:
        attributes = {"event_type": {"DataType": "String", "StringValue": event.type}}
        if event.ticket_id is not None:
            attributes["ticket_id"] = {"DataType": "String", "StringValue": str(event.ticket_id)}
        # The entry Id is the event id (a UUID fits SNS's 80 [A-Za-z0-9_-] characters).
        return {"Id": str(event.id), "Message": event.to_json(), "MessageAttributes": attributes}


def _entry_bytes(entry: dict[str, Any]) -> int:
    size = len(entry["Message"].encode())
    for name, value in entry["MessageAttributes"].items():
        size += len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
    return size


def _batches(entries: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        n = _entry_bytes(entry)
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + n > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += n
    if batch:
        yield batch

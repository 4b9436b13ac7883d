"""Background loops of the local stack, each a thread that stops when its Event is set:

- QueueWorker: Lambda's SQS event source mapping (long-poll, batch of up to 10, partial batch
  failures via `batchItemFailures`, redelivery after the visibility timeout, DLQ by redrive policy).
- Schedule: EventBridge's rate() rule (the sweep every 30 s; `run_now()` for the dev clock).
- MaildirDelivery: everything the functions sent through (moto) SES, delivered into a Maildir.
"""
from __future__ import annotations

import logging
import mailbox
import threading
import uuid
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, Callable

from local import aws
from local.functions import FunctionUnavailable, Functions

log = logging.getLogger("local.workers")


class Loop:
    """A named daemon thread calling `tick()` until stopped; tick() returns the seconds to wait."""

    name = "loop"

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"local-{self.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout: float = 10.0) -> None:
        self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                wait = self.tick()
            except Exception:
                log.exception("%s failed; retrying in 5 s", self.name)
                wait = 5.0
            if wait:
                self.stopping.wait(wait)

    def tick(self) -> float:
        raise NotImplementedError


def _lambda_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS API message attributes -> the shape a Lambda SQS event carries."""
    out = {}
    for name, attr in (attributes or {}).items():
        out[name] = {"stringValue": attr.get("StringValue"), "binaryValue": attr.get("BinaryValue"),
                     "stringListValues": [], "binaryListValues": [], "dataType": attr.get("DataType", "String")}
        if out[name]["binaryValue"] is None:
            del out[name]["binaryValue"]
    return out


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": _lambda_attributes(m.get("MessageAttributes", {})),
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": aws.REGION,
    } for m in messages]}


class QueueWorker(Loop):
    def __init__(self, functions: Functions, function: str, queue_url: str, queue_arn: str, endpoint: str,
                 *, batch_size: int = 10, wait_seconds: int = 1, dlq_url: str | None = None) -> None:
        self.name = f"worker-{function}"
        super().__init__()
        self.functions = functions
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.dlq_url = dlq_url
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.sqs = aws.client("sqs", endpoint)
        self.processed = 0
        self.failed = 0

    def waiting(self, dead_letters: bool = False) -> int:
        """Messages in the queue (or its DLQ), visible or in flight."""
        url = self.dlq_url if dead_letters else self.queue_url
        if url is None:
            return 0
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def tick(self) -> float:
        if not self.functions.available(self.function):
            return 2.0  # leave the messages queued until the function exists
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0.0
        try:
            result = self.functions.invoke(self.function, sqs_event(messages, self.queue_arn))
        except FunctionUnavailable:
            return 2.0
        except Exception:
            # As in Lambda: the whole batch comes back after the visibility timeout.
            log.exception("functions/%s raised on a batch of %d; the messages will be retried", self.function, len(messages))
            self.failed += len(messages)
            return 0.0
        failed_ids = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])} if isinstance(result, dict) else set()
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if failed_ids:
            log.warning("functions/%s failed %d of %d messages; they will be retried", self.function, len(failed_ids), len(messages))
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        self.processed += len(done)
        self.failed += len(failed_ids)
        return 0.0


class Schedule(Loop):
    """Invokes a function with an EventBridge scheduled event every `interval` seconds."""

    def __init__(self, functions: Functions, function: str, interval: float, now: Callable[[], datetime],
                 *, first_delay: float = 0.0, rule: str | None = None) -> None:
        self.name = f"schedule-{function}"
        super().__init__()
        self.first_delay = first_delay
        self.rule = rule or f"helpdesk-{function}"
        self.functions = functions
        self.function = function
        self.interval = interval
        self.now = now
        self.runs = 0
        self._lock = threading.Lock()
        self.last_result: Any = None

    def tick(self) -> float:
        if self.first_delay:
            delay, self.first_delay = self.first_delay, 0.0
            return delay
        self.run_now()
        return self.interval

    def run_now(self) -> Any:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "123456789012", "time": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "region": aws.REGION,
                 "resources": [f"arn:aws:events:{aws.REGION}:123456789012:rule/{self.rule}"], "detail": {}}
        with self._lock:  # the dev clock endpoint and the timer never run two sweeps at once
            try:
                self.last_result = self.functions.invoke(self.function, event)
            except FunctionUnavailable:
                return None
            except Exception:
                log.exception("functions/%s raised", self.function)
                return None
            self.runs += 1
            return self.last_result


class MaildirDelivery(Loop):
    """Delivers each message sent through moto's SES into a Maildir.

    moto runs in this process, so its SES backend's `sent_messages` is read directly. Like SES, the
    delivered copy carries the Message-ID SES assigned (`<ses-id@REGION.amazonses.com>`); the one
    the sender set is kept as X-Original-Message-ID. Each copy also gets X-Helpdesk-Envelope-To."""

    name = "maildir"

    def __init__(self, maildir: Path, interval: float = 0.5) -> None:
        super().__init__()
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(maildir), create=True)
        self.interval = interval
        self.delivered = 0
        self._seen = 0

    def tick(self) -> float:
        self.deliver_pending()
        return self.interval

    def deliver_pending(self) -> int:
        sent = aws.ses_sent_messages()
        new = sent[self._seen:]
        for message in new:
            self.maildir.add(self._as_delivered(message))
            self._seen += 1
            self.delivered += 1
            log.info("outbound mail %s to %s delivered to the Maildir", message.id, ", ".join(message.destinations))
        return len(new)

    @staticmethod
    def _as_delivered(sent: Any) -> bytes:
        if hasattr(sent, "raw_data"):
            raw = sent.raw_data.encode("utf-8", "surrogateescape") if isinstance(sent.raw_data, str) else sent.raw_data
        else:  # ses.send_email (not raw): compose a plain message from moto's record
            raw = (f"From: {sent.source}\r\nTo: {', '.join(sent.destinations.get('ToAddresses', []))}\r\n"
                   f"Subject: {sent.subject}\r\n\r\n{sent.body}").encode()
        msg = message_from_bytes(raw, policy=policy.SMTP)
        original = msg.get("Message-ID")
        if original:
            del msg["Message-ID"]
            msg["X-Original-Message-ID"] = original
        msg["Message-ID"] = f"<{sent.id}@{aws.REGION}.amazonses.com>"
        destinations = sent.destinations if isinstance(sent.destinations, list) else \
            sum((sent.destinations.get(k, []) for k in ("ToAddresses", "CcAddresses", "BccAddresses")), [])
        from email.utils import getaddresses

        unique = list(dict.fromkeys(addr.lower() for _, addr in getaddresses(destinations) if addr))
        msg["X-Helpdesk-Envelope-To"] = ", ".join(unique)
        msg["X-Helpdesk-Delivered-At"] = datetime.now(timezone.utc).isoformat()
        return msg.as_bytes()

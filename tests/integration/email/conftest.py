from __future__ import annotations

import json
import re
import smtplib
import uuid

import pytest

from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.blobs import MemoryBlobStore, S3BlobStore
from local import aws as local_aws
from local.functions import LambdaContext
# The shared mail world; `aws` and `settings` are fixtures of this package through this import.
from tests.integration.mail_world import ATT, DOMAIN, RAW, REGION, SIGNING_KEYS, aws, customer_mail, settings  # noqa: F401

# What SES stamps on mail whose sender it authenticated (customer.test signs and publishes DMARC).
SES_AUTHENTICATED = {"Authentication-Results": "amazonses.com; spf=pass (spfCheck: domain of customer.test designates "
                     "192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=alice@customer.test; "
                     "helo=mx.customer.test; dkim=pass header.i=@customer.test; dmarc=pass header.from=customer.test;"}


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


@pytest.fixture
def intake(db, clock, blobs) -> EmailIntake:
    from helpdesk.events.publisher import DeferredPublisher

    return EmailIntake(db, clock, DeferredPublisher(), blobs, signing_keys=SIGNING_KEYS, support_domains={DOMAIN})


def mail(*, frm="alice@customer.test", to="support@helpdesk.test", subject="Printer on fire", body="It is on fire.",
         message_id="<m1@customer.test>", headers: dict[str, str] | None = None) -> bytes:
    return customer_mail(name="Alice", frm=frm, to=to, subject=subject, body=body, message_id=message_id, headers=headers)


@pytest.fixture
def inbound(aws, db, clock, settings, monkeypatch):
    from functions.inbound_email import handler as module
    from helpdesk.events.publisher import DeferredPublisher

    intake = EmailIntake.from_settings(db, clock, DeferredPublisher(), S3BlobStore(aws["s3"], ATT), settings)
    monkeypatch.setattr(module, "intake", lambda: intake)
    monkeypatch.setattr(module, "s3", lambda: aws["s3"])
    counter = iter(range(10_000))

    def deliver(raw: bytes, recipients: list[str] | None = None, *, key: str | None = None) -> dict:
        key = key or f"inbound/{next(counter)}-{uuid.uuid4().hex}"
        aws["s3"].put_object(Bucket=RAW, Key=key, Body=raw,
                             Metadata={"envelope-recipients": ",".join(recipients or [f"support@{DOMAIN}"])})
        body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": RAW}, "object": {"key": key}}}]}
        event = {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(body),
                              "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                              "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:inbound",
                              "awsRegion": REGION}]}
        return module.handler(event, LambdaContext(function_name="test"))

    return deliver


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_front(aws):
    """The local SMTP front (SES inbound stand-in) writing to the test's (moto) raw bucket."""
    from local.smtpfront import SesInbound, SmtpFront

    sent: list[str] = []

    class Queue:
        def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803 - boto3's names
            sent.append(json.loads(MessageBody)["Records"][0]["s3"]["object"]["key"])

    handler = SesInbound(endpoint="http://127.0.0.1:9", inbound_queue_url="inbound", domains=lambda: {DOMAIN})
    handler._s3, handler._sqs = aws["s3"], Queue()  # noqa: SLF001 - the front's clients, pointed at moto
    aws["s3"].create_bucket(Bucket=local_aws.RAW_MAIL_BUCKET)
    front = SmtpFront(handler, host="127.0.0.1", port=_free_port())
    front.start()

    def send(raw: bytes, envelope_from: str = "sender@customer.test", to: list[str] | None = None) -> bytes:
        """Sends `raw` through the front; the mail as the front stored it (SES's headers on top)."""
        with smtplib.SMTP("127.0.0.1", front.controller.port, timeout=10) as smtp:  # SMTP lines end in CRLF
            smtp.sendmail(envelope_from, to or [f"support@{DOMAIN}"], re.sub(rb"\r?\n", b"\r\n", raw))
        return aws["s3"].get_object(Bucket=local_aws.RAW_MAIL_BUCKET, Key=sent.pop())["Body"].read()

    yield send
    front.stop()

"""The local stack's mail path against moto: SMTP front -> S3 + SQS (S3 event), queue worker ->
handler with Lambda's SQS event, SES sends -> Maildir with SES's Message-ID."""
from __future__ import annotations

import json
import logging
import mailbox
import smtplib
from email import message_from_bytes
from pathlib import Path

import pytest

from local import aws
from local.functions import FunctionUnavailable, Functions
from local.smtpfront import SesInbound, SmtpFront
from local.workers import MaildirDelivery, QueueWorker


@pytest.fixture(scope="module")
def moto_resources():
    server = aws.MotoServer()
    endpoint = server.start()
    resources = aws.provision(endpoint, support_domain="example.com", sender_addresses=["support@example.com"],
                              web_origin="http://127.0.0.1:8080")
    yield resources
    server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_provisioning_twice_is_harmless_and_routes_events_by_type(moto_resources):
    again = aws.provision(moto_resources.endpoint, support_domain="example.com", sender_addresses=["support@example.com"],
                          web_origin="http://127.0.0.1:8080")
    assert again.queue_urls == moto_resources.queue_urls
    sns, sqs = aws.client("sns", again.endpoint), aws.client("sqs", again.endpoint)
    assert len(sns.list_subscriptions_by_topic(TopicArn=again.topic_arn)["Subscriptions"]) == 3
    for event_type in ("ticket.created", "outbound.requested"):
        sns.publish(TopicArn=again.topic_arn, Message=json.dumps({"type": event_type}),
                    MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}})
    got = {}
    for queue in ("notify", "outbound", "push"):
        messages = sqs.receive_message(QueueUrl=again.queue_urls[queue], MaxNumberOfMessages=10).get("Messages", [])
        got[queue] = [json.loads(m["Body"])["type"] for m in messages]
        sqs.delete_message_batch(QueueUrl=again.queue_urls[queue],
                                 Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    # the acknowledgement of a new email ticket is sent by outbound, so it hears ticket.created too;
    # push hears every change but the send request (its ticket.replied was pushed already)
    assert got == {"notify": ["ticket.created"], "outbound": ["ticket.created", "outbound.requested"],
                   "push": ["ticket.created"]}


def test_smtp_mail_lands_in_s3_and_its_event_reaches_the_inbound_handler(moto_resources, tmp_path):
    handler = SesInbound(endpoint=moto_resources.endpoint, inbound_queue_url=moto_resources.queue_urls["inbound"],
                         domains=lambda: {"example.com"})
    front = SmtpFront(handler, host="127.0.0.1", port=_free_port())
    front.start()
    try:
        with smtplib.SMTP("127.0.0.1", front.controller.port, timeout=10) as smtp:
            smtp.sendmail("dana@customer.test", ["support+abc@example.com"],
                          b"From: dana@customer.test\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nhello there")
    finally:
        front.stop()

    seen: list[dict] = []

    class Recording(Functions):
        def available(self, name: str) -> bool:
            return True

        def invoke(self, name: str, event: dict):
            seen.append(event)
            return {"batchItemFailures": []}

    worker = QueueWorker(Recording(tmp_path), "inbound_email", moto_resources.queue_urls["inbound"],
                         moto_resources.queue_arns["inbound"], moto_resources.endpoint)
    worker.tick()
    assert worker.processed == 1
    record = seen[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":inbound")
    s3_record = json.loads(record["body"])["Records"][0]
    assert s3_record["eventName"] == "ObjectCreated:Put"
    bucket, key = s3_record["s3"]["bucket"]["name"], s3_record["s3"]["object"]["key"]
    assert bucket == aws.RAW_MAIL_BUCKET and key.startswith(aws.RAW_MAIL_PREFIX)
    raw = aws.client("s3", moto_resources.endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert s3_record["s3"]["object"]["size"] == len(raw)
    mail = message_from_bytes(raw)
    assert mail["Return-Path"] == "<dana@customer.test>"
    assert "for support+abc@example.com;" in mail["Received"]
    assert mail["X-SES-Spam-Verdict"] == "PASS"
    assert mail.get_payload().strip() == "hello there"
    # deleted after success: nothing left to receive
    assert worker.tick() == 0.0 and worker.processed == 1


def test_failed_batch_items_stay_queued(moto_resources, tmp_path):
    sqs = aws.client("sqs", moto_resources.endpoint)
    url = moto_resources.queue_urls["notify"]
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))

    class FailFirst(Functions):
        def available(self, name: str) -> bool:
            return True

        def invoke(self, name: str, event: dict):
            first = next(r for r in event["Records"] if json.loads(r["body"])["n"] == 0)
            return {"batchItemFailures": [{"itemIdentifier": first["messageId"]}]}

    worker = QueueWorker(FailFirst(tmp_path), "notifier", url, moto_resources.queue_arns["notify"], moto_resources.endpoint)
    worker.tick()
    assert (worker.processed, worker.failed) == (1, 1)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_ses_sends_are_delivered_to_the_maildir_with_the_ses_message_id(moto_resources, tmp_path):
    delivery = MaildirDelivery(tmp_path / "mail" / "outbox")
    delivery.deliver_pending()  # skip whatever other tests sent
    already = delivery.delivered
    ses = aws.client("ses", moto_resources.endpoint)
    sent = ses.send_raw_email(RawMessage={"Data": b"From: Support <support@example.com>\r\nTo: dana@customer.test\r\n"
                                                  b"Subject: Re: hi [TKT-1]\r\nMessage-ID: <ours@example.com>\r\n\r\nAnswer"})
    assert delivery.deliver_pending() == 1
    assert delivery.delivered == already + 1
    box = mailbox.Maildir(str(tmp_path / "mail" / "outbox"), create=False)
    [message] = [m for m in box if m["Subject"] == "Re: hi [TKT-1]"]
    assert message["Message-ID"] == f"<{sent['MessageId']}@{aws.REGION}.amazonses.com>"
    assert message["X-Original-Message-ID"] == "<ours@example.com>"
    assert message["X-Helpdesk-Envelope-To"] == "dana@customer.test"
    assert message.get_payload().strip() == "Answer"
    assert delivery.deliver_pending() == 0


def test_a_missing_function_is_reported_once_and_found_when_it_appears(tmp_path, caplog):
    functions = Functions(tmp_path, retry_seconds=0)
    caplog.set_level(logging.WARNING, logger="local.functions")
    for _ in range(3):
        with pytest.raises(FunctionUnavailable, match="functions/nothing_here not available yet"):
            functions.invoke("nothing_here", {})
    assert sum("nothing_here" in r.message for r in caplog.records) == 1
    package = tmp_path / "functions" / "nothing_here"
    package.mkdir(parents=True)
    (package / "handler.py").write_text("def handler(event, context):\n    return {'got': event, 'fn': context.function_name}\n")
    import sys

    # our tmp root shadows the project's functions/ only in this test
    saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]}
    sys.path.insert(0, str(tmp_path))
    try:
        assert functions.invoke("nothing_here", {"a": 1}) == {"got": {"a": 1}, "fn": "helpdesk-nothing_here"}
    finally:
        sys.path.remove(str(tmp_path))
        for name in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]:
            sys.modules.pop(name)
        sys.modules.update(saved)


def test_a_function_that_fails_to_import_does_not_raise_past_the_loader(tmp_path, caplog):
    package = tmp_path / "functions" / "broken"
    package.mkdir(parents=True)
    (package / "handler.py").write_text("import not_a_real_module_xyz\n")
    import sys

    saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]}
    sys.path.insert(0, str(tmp_path))
    try:
        functions = Functions(tmp_path)
        with pytest.raises(FunctionUnavailable, match="not_a_real_module_xyz"):
            functions.invoke("broken", {})
    finally:
        sys.path.remove(str(tmp_path))
        for name in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]:
            sys.modules.pop(name)
        sys.modules.update(saved)


def test_the_web_origin_can_upload_attachments_with_a_sigv4_presigned_put(moto_resources):
    """The customer form PUTs to a presigned URL (SigV4; SigV2 URLs fail moto's preflight)."""
    import urllib.request

    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", region_name=aws.REGION, endpoint_url=moto_resources.endpoint, aws_access_key_id="testing",
                      aws_secret_access_key="testing", config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("put_object", Params={"Bucket": aws.ATTACHMENTS_BUCKET, "Key": "up/a.txt",
                                                          "ContentType": "text/plain"}, ExpiresIn=300)
    origin = "http://127.0.0.1:8080"
    preflight = urllib.request.Request(url, method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
    with urllib.request.urlopen(preflight, timeout=10) as answer:
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    put = urllib.request.Request(url, method="PUT", data=b"hello", headers={"Origin": origin, "Content-Type": "text/plain"})
    with urllib.request.urlopen(put, timeout=10) as answer:
        assert answer.status == 200
    assert s3.get_object(Bucket=aws.ATTACHMENTS_BUCKET, Key="up/a.txt")["Body"].read() == b"hello"


def test_bucket_objects_are_saved_and_restored_across_restarts(moto_resources, tmp_path):
    s3 = aws.client("s3", moto_resources.endpoint)
    s3.put_object(Bucket=aws.ATTACHMENTS_BUCKET, Key="att/ab/photo.png", Body=b"\x89PNG...", ContentType="image/png",
                  Metadata={"filename": "photo.png"})
    s3.put_object(Bucket=aws.RAW_MAIL_BUCKET, Key="inbound/../../escape", Body=b"raw")
    saved = aws.save_buckets(moto_resources.endpoint, tmp_path / "s3")
    assert saved >= 2
    assert not (tmp_path / "escape").exists()
    for bucket, key in ((aws.ATTACHMENTS_BUCKET, "att/ab/photo.png"), (aws.RAW_MAIL_BUCKET, "inbound/../../escape")):
        s3.delete_object(Bucket=bucket, Key=key)
    assert aws.restore_buckets(moto_resources.endpoint, tmp_path / "s3") == saved
    photo = s3.get_object(Bucket=aws.ATTACHMENTS_BUCKET, Key="att/ab/photo.png")
    assert photo["Body"].read() == b"\x89PNG..."
    assert photo["ContentType"] == "image/png" and photo["Metadata"] == {"filename": "photo.png"}
    assert s3.get_object(Bucket=aws.RAW_MAIL_BUCKET, Key="inbound/../../escape")["Body"].read() == b"raw"


def test_queued_messages_survive_a_restart(moto_resources, tmp_path):
    import uuid

    sqs = aws.client("sqs", moto_resources.endpoint)
    name = f"restore-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 1}',
                     MessageAttributes={"event_type": {"DataType": "String", "StringValue": "outbound.requested"}})
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 2}')
    in_flight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)["Messages"]
    assert len(in_flight) == 1
    assert aws.save_queues(tmp_path / "queues", [name]) == 2
    sqs.delete_queue(QueueUrl=url)
    url = sqs.create_queue(QueueName=f"{name}-new")["QueueUrl"]
    (tmp_path / "queues" / f"{name}.jsonl").rename(tmp_path / "queues" / f"{name}-new.jsonl")
    assert aws.restore_queues(moto_resources.endpoint, {f"{name}-new": url}, tmp_path / "queues") == 2
    assert not (tmp_path / "queues" / f"{name}-new.jsonl").exists()
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    by_body = {m["Body"]: m.get("MessageAttributes") for m in got}
    assert set(by_body) == {'{"n": 1}', '{"n": 2}'}
    assert by_body['{"n": 1}']["event_type"]["StringValue"] == "outbound.requested"


def test_the_web_origin_can_upload_attachments_with_a_presigned_post(moto_resources):
    """helpdesk.auth.uploads grants a presigned POST; the browser's form upload must pass CORS."""
    import urllib.request
    import uuid

    s3 = aws.client("s3", moto_resources.endpoint)
    post = s3.generate_presigned_post(aws.ATTACHMENTS_BUCKET, "form/${filename}",
                                      Conditions=[["content-length-range", 1, 1000]], ExpiresIn=300)
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in post["fields"].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n'
                 f'Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n'.encode())
    origin = "http://127.0.0.1:8080"
    request = urllib.request.Request(post["url"], data=b"".join(parts), method="POST", headers={
        "Origin": origin, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201, 204)
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert s3.get_object(Bucket=aws.ATTACHMENTS_BUCKET, Key="form/b.txt")["Body"].read() == b"hello"

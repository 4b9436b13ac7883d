"""The AWS side of the local stack: a moto server in this process and the resources the
functions expect (buckets, the ticket-events topic, queues with DLQs, subscriptions, SES identity).

The topology mirrors infra/: SNS `ticket-events` fans out to the `notify` and `outbound` queues
by the `event_type` message attribute; raw mail lands in S3 and an S3-event-shaped message goes
to the `inbound` queue. moto keeps its state in memory: queues and buckets are recreated empty on
every start (the tickets themselves live in PostgreSQL and persist); the buckets' objects are
saved to the data dir on stop and put back on start (save_buckets / restore_buckets).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpdesk.outbound.dispatch import EVENT_TYPES as OUTBOUND_EVENT_TYPES

log = logging.getLogger("local.aws")

REGION = "us-east-1"
RAW_MAIL_BUCKET = "helpdesk-raw-mail"
ATTACHMENTS_BUCKET = "helpdesk-attachments"
AUDIT_BUCKET = "helpdesk-audit"
TOPIC_NAME = "ticket-events"
CONFIGURATION_SET = "helpdesk"
# Raw mail key prefix, as the SES receipt rule's S3 action writes it.
RAW_MAIL_PREFIX = "raw/"  # infra/mail.py RAW_PREFIX
# Queue name -> SNS filter policy on the `event_type` message attribute (None: not subscribed).
# Outbound hears the types it acts on (helpdesk.outbound.dispatch.EVENT_TYPES); notify hears
# everything but the send requests. infra/messaging.py subscribes the same way (a test compares them).
QUEUES: dict[str, dict[str, Any] | None] = {
    "inbound": None,
    "notify": {"event_type": [{"anything-but": ["outbound.requested"]}]},
    "outbound": {"event_type": list(OUTBOUND_EVENT_TYPES)},
    # Live updates (functions/push): every committed change but the send request of a reply,
    # which its ticket.replied already announced.
    "push": {"event_type": [{"anything-but": ["outbound.requested"]}]},
}
# SNS -> SQS with RawMessageDelivery: the SQS body is the event JSON itself, and `event_type`
# arrives as an SQS message attribute (infra/ must subscribe the same way).
RAW_MESSAGE_DELIVERY = True
MAX_RECEIVE_COUNT = 5  # infra/messaging.py MAX_RECEIVES
# Short, so a failed message is retried within the minute locally (AWS uses the function timeout x 6).
VISIBILITY_TIMEOUT_SECONDS = 20


@dataclass
class Resources:
    endpoint: str
    topic_arn: str
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]


class MotoServer:
    """moto's threaded server on a free loopback port; stop() shuts it down."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()


def client(service: str, endpoint: str):
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def provision(endpoint: str, *, support_domain: str, sender_addresses: list[str], web_origin: str) -> Resources:
    """Create (idempotently) every resource the functions use."""
    s3 = client("s3", endpoint)
    for bucket in (RAW_MAIL_BUCKET, ATTACHMENTS_BUCKET, AUDIT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    # The customer form uploads attachments straight to S3 with a presigned URL.
    s3.put_bucket_cors(Bucket=ATTACHMENTS_BUCKET, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [web_origin], "AllowedMethods": ["PUT", "POST", "GET"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})

    sqs = client("sqs", endpoint)
    sns = client("sns", endpoint)
    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for name, filter_policy in QUEUES.items():
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}),
        })["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[name], arns[name] = url, arn
        urls[f"{name}-dlq"], arns[f"{name}-dlq"] = dlq_url, dlq_arn
        if filter_policy is not None:
            attributes = {"FilterPolicy": json.dumps(filter_policy), "FilterPolicyScope": "MessageAttributes"}
            if RAW_MESSAGE_DELIVERY:
                attributes["RawMessageDelivery"] = "true"
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes,
                          ReturnSubscriptionArn=True)

    ses = client("ses", endpoint)
    ses.verify_domain_identity(Domain=support_domain)
    for address in sender_addresses:
        ses.verify_email_identity(EmailAddress=address)
    try:
        ses.create_configuration_set(ConfigurationSet={"Name": CONFIGURATION_SET})
    except ses.exceptions.ConfigurationSetAlreadyExistsException:
        pass
    return Resources(endpoint=endpoint, topic_arn=topic_arn, queue_urls=urls, queue_arns=arns)


def s3_event(bucket: str, key: str, size: int, etag: str, event_time: str) -> dict[str, Any]:
    """The S3 ObjectCreated notification SES's S3 action causes, as SQS delivers it (the body)."""
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:SES"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "raw-mail-to-inbound",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "LOCAL"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": size, "eTag": etag, "sequencer": "0"},
        },
    }]}


def ses_sent_messages() -> list[Any]:
    """moto's record of every SES send in this process (moto runs in-process, so its backend is ours)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


PERSISTED_BUCKETS = (RAW_MAIL_BUCKET, ATTACHMENTS_BUCKET, AUDIT_BUCKET)


def save_buckets(endpoint: str, directory: Path) -> int:
    """Write every object of the stack's buckets under `directory/<bucket>/<key>` (with a
    `.meta.json` beside it), so raw mail and attachments outlive moto's in-memory state."""
    s3 = client("s3", endpoint)
    saved = 0
    for bucket in PERSISTED_BUCKETS:
        root = directory / bucket
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                target = _object_path(root, item["Key"])
                if target is None:
                    continue
                obj = s3.get_object(Bucket=bucket, Key=item["Key"])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(obj["Body"].read())
                target.with_name(target.name + ".meta.json").write_text(json.dumps(
                    {"key": item["Key"], "content_type": obj.get("ContentType"), "metadata": obj.get("Metadata", {})}))
                saved += 1
    return saved


def restore_buckets(endpoint: str, directory: Path) -> int:
    """Put back what save_buckets wrote (missing objects only)."""
    s3 = client("s3", endpoint)
    restored = 0
    for bucket in PERSISTED_BUCKETS:
        root = directory / bucket
        if not root.is_dir():
            continue
        for meta_path in root.rglob("*.meta.json"):
            meta = json.loads(meta_path.read_text())
            body_path = meta_path.with_name(meta_path.name[: -len(".meta.json")])
            if not body_path.is_file():
                continue
            extra = {"ContentType": meta["content_type"]} if meta.get("content_type") else {}
            s3.put_object(Bucket=bucket, Key=meta["key"], Body=body_path.read_bytes(), Metadata=meta.get("metadata") or {}, **extra)
            restored += 1
    return restored


def _object_path(root: Path, key: str) -> Path | None:
    """A file path for an S3 key that cannot escape `root` (keys are untrusted text)."""
    import hashlib

    safe = [part for part in key.split("/") if part not in ("", ".", "..")]
    if not safe:
        return None
    # Long or odd keys: a stable hash keeps the file name valid; the real key is in .meta.json.
    if any(len(p) > 200 or "\x00" in p for p in safe):
        return root / "_hashed" / hashlib.sha256(key.encode()).hexdigest()
    target = (root / Path(*safe)).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def save_queues(directory: Path, names: list[str] | None = None) -> int:
    """Write every message still in the stack's queues and DLQs (visible or in flight) to
    `directory/<queue>.jsonl`. Reads moto's in-process backend: in-flight messages cannot be received."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[DEFAULT_ACCOUNT_ID][REGION]
    directory.mkdir(parents=True, exist_ok=True)
    saved = 0
    for name in names if names is not None else [*QUEUES, *(f"{q}-dlq" for q in QUEUES)]:
        queue = backend.queues.get(name)
        messages = [m for m in getattr(queue, "_messages", [])] if queue is not None else []
        path = directory / f"{name}.jsonl"
        if not messages:
            path.unlink(missing_ok=True)
            continue
        lines = [json.dumps({"body": m.body, "attributes": {
            k: {"DataType": v.get("DataType", "String"), "StringValue": v["StringValue"]}
            for k, v in (m.message_attributes or {}).items() if v.get("StringValue") is not None}}) for m in messages]
        path.write_text("\n".join(lines) + "\n")
        saved += len(lines)
    return saved


def restore_queues(endpoint: str, queue_urls: dict[str, str], directory: Path) -> int:
    """Send back what save_queues wrote, then remove the files (each message is restored once)."""
    sqs = client("sqs", endpoint)
    restored = 0
    for name, url in queue_urls.items():
        path = directory / f"{name}.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                message = json.loads(line)
                extra = {"MessageAttributes": message["attributes"]} if message.get("attributes") else {}
                sqs.send_message(QueueUrl=url, MessageBody=message["body"], **extra)
                restored += 1
        path.unlink()
    return restored

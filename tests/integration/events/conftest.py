"""moto SNS -> SQS (with a DLQ) for the outbox relay tests; the database is the real one (`db`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@dataclass
class Topology:
    sns: Any
    sqs: Any
    topic_arn: str
    queue_url: str
    dlq_url: str

    def drain(self, *, max_rounds: int = 5) -> list[dict[str, Any]]:
        """Every message now in the queue (received and deleted)."""
        out: list[dict[str, Any]] = []
        for _ in range(max_rounds):
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                           MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                break
            for m in got:
                out.append(m)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return out


class FlakySns:
    """The moto SNS client, except that PublishBatch fails while `down` (an SNS outage)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.down = False
        self.calls = 0

    def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.down:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")
        return self.real.publish_batch(**kwargs)


def make_topology(*, raw: bool, max_receive: int = 2, filter_policy: dict | None = None) -> Topology:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="ticket-events")["TopicArn"]
    dlq_url = sqs.create_queue(QueueName="notify-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName="notify", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
    })["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true" if raw else "false"}
    if filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return Topology(sns, sqs, topic_arn, queue_url, dlq_url)


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def topology(aws) -> Topology:
    return make_topology(raw=False)


@pytest.fixture
def flaky_sns(topology) -> FlakySns:
    return FlakySns(topology.sns)

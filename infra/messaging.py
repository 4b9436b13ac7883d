"""SNS ticket-events fan-out to the notify and outbound SQS queues (each with a DLQ).

Publishers put the event type in the SNS message attribute `event_type`
(helpdesk.events.sns.SnsPublisher); the subscriptions filter on it:
- outbound gets only the types it acts on (helpdesk.outbound.dispatch.EVENT_TYPES, read from there):
  `outbound.requested` (mail to customers, Slack replies), `ticket.created` (the one acknowledgement
  of a new email ticket), `ticket.status_changed` (the solved mail of a resolve; other changes are
  dropped by the consumer without a database call) and `customer.requests_link` (the link to all of
  a customer's requests, mailed to their address);
- notify gets every event type but `outbound.requested` (agent notifications), so new event
  types reach it without an infrastructure change;
- push gets the same (live updates on the Event API, functions/push: infra/push.py).
The local stack subscribes the same way (local/aws.py QUEUES).
Subscriptions use raw message delivery: the SQS body is the event JSON the publisher sent and
the attributes arrive as SQS message attributes (no SNS envelope to unwrap).
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from helpdesk.outbound.dispatch import EVENT_TYPES as OUTBOUND_EVENT_TYPES
from infra.config import StageConfig
from infra.nag import suppress

SEND_REQUEST_TYPES = ["outbound.requested"]  # only outbound handles these
MAX_RECEIVES = 5  # a message failing 5 times moves to the DLQ (and raises the DLQ alarm)


def dead_letter_queue(scope: Construct, id: str) -> sqs.Queue:
    """Where failed messages and runs wait for inspection and redrive (14 days, SSE-SQS, TLS only)."""
    return sqs.Queue(scope, id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))


class QueueWithDlq(Construct):
    def __init__(self, scope: Construct, id: str, *, visibility_timeout: Duration) -> None:
        super().__init__(scope, id)
        self.dlq = dead_letter_queue(self, "Dlq")
        self.queue = sqs.Queue(
            self, "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVES),
        )


class Messaging(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, consumer_timeout: Duration) -> None:
        super().__init__(scope, id)
        # A customer managed key (rotated) for the topics; publishers get GenerateDataKey/Decrypt on
        # it (infra/workers.py). The queues use SSE-SQS, so SNS needs no key access to deliver.
        self.key = kms.Key(self, "EventsKey", enable_key_rotation=True,
                           description="Helpdesk ticket-events topic encryption",
                           removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY)
        self.topic = sns.Topic(self, "TicketEvents", display_name="Helpdesk ticket events",
                               master_key=self.key, enforce_ssl=True)

        # Lambda's guidance: visibility timeout at least 6x the consumer's timeout.
        visibility = Duration.seconds(consumer_timeout.to_seconds() * 6)
        self.notify = QueueWithDlq(self, "Notify", visibility_timeout=visibility)
        self.outbound = QueueWithDlq(self, "Outbound", visibility_timeout=visibility)
        self.push = QueueWithDlq(self, "Push", visibility_timeout=visibility)

        self.topic.add_subscription(subscriptions.SqsSubscription(
            self.notify.queue, raw_message_delivery=True,
            filter_policy={"event_type": sns.SubscriptionFilter.string_filter(denylist=SEND_REQUEST_TYPES)},
        ))
        self.topic.add_subscription(subscriptions.SqsSubscription(
            self.outbound.queue, raw_message_delivery=True,
            filter_policy={"event_type": sns.SubscriptionFilter.string_filter(allowlist=list(OUTBOUND_EVENT_TYPES))},
        ))
        self.topic.add_subscription(subscriptions.SqsSubscription(
            self.push.queue, raw_message_delivery=True,
            filter_policy={"event_type": sns.SubscriptionFilter.string_filter(denylist=SEND_REQUEST_TYPES)},
        ))

    def failure_queue(self, id: str) -> sqs.Queue:
        """A dead-letter queue for failures that come from no queue (Lambda destinations, EventBridge)."""
        queue = dead_letter_queue(self, id)
        suppress(queue, "AwsSolutions-SQS3",
                 "This queue is itself a dead-letter destination (failed scheduled runs); it needs no DLQ of its own.")
        return queue

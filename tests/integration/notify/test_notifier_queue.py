"""The notifier function on a real (moto) SNS -> SQS -> DLQ path, Lambda's SQS event source emulated:
one failing message is the only one retried, with backoff, then lands in the DLQ; redelivered and
duplicated messages do not notify twice."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from helpdesk.clock import FixedClock
from helpdesk.events.sns import SnsPublisher
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from local.functions import LambdaContext

from .conftest import REGION, mail_text, sent_mail

MAX_RECEIVE = 3


@pytest.fixture
def queues(aws):
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="ticket-events")["TopicArn"]
    dlq = sqs.create_queue(QueueName="notify-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="notify", Attributes={
        # 0: a failed message would be visible again at once, unless the handler's backoff hides it
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE)})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # as infra/ and local/aws.py subscribe it: raw delivery, everything but outbound.requested
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicyScope": "MessageAttributes",
        "FilterPolicy": json.dumps({"event_type": [{"anything-but": ["outbound.requested"]}]})})
    return {"sns": sns, "sqs": sqs, "topic": topic, "url": url, "arn": arn, "dlq": dlq}


@pytest.fixture
def fn(monkeypatch, notifier, db, clock):
    from functions.notifier import handler as module
    from helpdesk.triggers.deliver import TriggerDelivery
    from helpdesk.triggers.engine import TriggerEngine

    monkeypatch.setattr(module, "notifier", lambda: notifier)
    # the function also runs the admin's triggers (none here; tests/integration/triggers has theirs)
    engine = TriggerEngine(db, clock, TriggerDelivery(ses_client=None, clock=clock, support_domain="example.com",
                                                      signing_keys=None, web_base_url=""))
    monkeypatch.setattr(module, "trigger_engine", lambda: engine)
    return module


def receive(q) -> list[dict]:
    return q["sqs"].receive_message(QueueUrl=q["url"], MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                    AttributeNames=["All"]).get("Messages", [])


def lambda_event(q, messages: list[dict]) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]},
        "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
                              for k, v in m.get("MessageAttributes", {}).items()},
        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": q["arn"], "awsRegion": REGION,
    } for m in messages]}


def run_once(fn, q, messages) -> set[str]:
    """Lambda's event source: invoke, then delete every message not reported as failed."""
    result = fn.handler(lambda_event(q, messages), LambdaContext(function_name="helpdesk-notifier"))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            q["sqs"].delete_message(QueueUrl=q["url"], ReceiptHandle=m["ReceiptHandle"])
    return failed


@pytest.mark.dead_letters_expected  # the redrive path itself
def test_one_failing_message_is_retried_alone_with_backoff_then_dead_lettered(db, clock, queues, fn, make_agent,
                                                                              slack_stub):
    good = [make_agent(f"good{i}", slack=f"U0GOOD{i}") for i in range(2)]
    bad = make_agent("bad", slack="U0BAD")
    slack_stub.fail["U0BAD"] = (503, "service_unavailable")  # Slack keeps failing for this one DM
    cmds = TicketCommands(db, clock, SnsPublisher(queues["sns"], queues["topic"]))
    system = Actor(type="system")
    for agent in [*good, bad]:
        ticket = cmds.create_ticket({"channel": "api", "subject": f"for {agent}", "body": "b",
                                     "requester_email": "c@example.org"}).ticket
        cmds.assign(ticket.id, system, agent_id=agent)

    first = receive(queues)
    # ticket.created x3, ticket.assigned x3, ticket.status_changed x3 (new -> assigned)
    assert len(first) == 9
    failed = run_once(fn, queues, first)
    assert len(failed) == 1
    bad_message = next(m for m in first if m["MessageId"] in failed)
    assert json.loads(bad_message["Body"])["payload"]["agent_id"] == str(bad)
    assert len(sent_mail()) == 3 and sorted(p["channel"] for p in slack_stub.posts) == ["U0GOOD0", "U0GOOD1"]

    # Backoff: the handler hid the failed message for 30 s (the queue's own timeout is 0).
    assert receive(queues) == []
    for attempt in range(2, MAX_RECEIVE + 1):
        queues["sqs"].change_message_visibility(QueueUrl=queues["url"], ReceiptHandle=bad_message["ReceiptHandle"],
                                                VisibilityTimeout=0)  # fast-forward the backoff
        again = receive(queues)
        assert [m["MessageId"] for m in again] == [bad_message["MessageId"]]  # only that one
        assert again[0]["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        bad_message = again[0]
        assert run_once(fn, queues, again) == {bad_message["MessageId"]}
    queues["sqs"].change_message_visibility(QueueUrl=queues["url"], ReceiptHandle=bad_message["ReceiptHandle"],
                                            VisibilityTimeout=0)
    assert receive(queues) == []  # moved to the DLQ by the redrive policy
    dead = queues["sqs"].receive_message(QueueUrl=queues["dlq"], MaxNumberOfMessages=10).get("Messages", [])
    assert [m["MessageId"] for m in dead] == [bad_message["MessageId"]]
    # Retries re-sent nothing that had been delivered: the bad agent's mail went out once.
    assert len(sent_mail()) == 3 and len(slack_stub.posts) == 2
    assert db.query_one("SELECT status, attempts FROM notification_deliveries WHERE agent_id = :a::uuid AND channel = 'slack'",
                        {"a": bad}) == {"status": "failed", "attempts": MAX_RECEIVE}


def test_duplicate_and_redelivered_messages_notify_once(db, clock, queues, fn, make_agent, slack_stub):
    agent = make_agent("ann", slack="U0ANN")
    cmds = TicketCommands(db, clock, SnsPublisher(queues["sns"], queues["topic"]))
    ticket = cmds.create_ticket({"channel": "api", "subject": "dup", "body": "b", "requester_email": "c@example.org"}).ticket
    cmds.assign(ticket.id, Actor(type="system"), agent_id=agent)
    messages = receive(queues)
    assigned = [m for m in messages if m["MessageAttributes"]["event_type"]["StringValue"] == "ticket.assigned"]
    assert len(assigned) == 1
    # SNS/SQS at-least-once: the same event arrives twice in one batch and once more later.
    assert run_once(fn, queues, messages + assigned) == set()
    assert run_once(fn, queues, assigned) == set()
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1
    assert "assigned to you: dup" in mail_text(sent_mail()[0])


def test_invalid_message_fails_alone(db, queues, fn, make_agent):
    queues["sqs"].send_message(QueueUrl=queues["url"], MessageBody=json.dumps({"id": str(uuid.uuid4()), "type": "nope"}))
    messages = receive(queues)
    assert run_once(fn, queues, messages) == {messages[0]["MessageId"]}


def test_scheduled_run_delivers_deferred(db, fn, notifier, make_agent):
    from helpdesk.notify.preferences import NotificationPreferences

    agent = make_agent("zed")
    NotificationPreferences(db, notifier.clock).put(agent, {"quiet_start": "14:00", "quiet_end": "16:00"})
    from .test_notifier import assigned, make_ticket

    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).deferred == 1
    notifier.clock = FixedClock(notifier.clock.now().replace(hour=16))
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert fn.handler(scheduled, LambdaContext(function_name="helpdesk-notifier")) == {"deferred_sent": 1, "rejected": 0}
    assert len(sent_mail()) == 1


def test_an_idle_scheduled_run_leaves_the_database_alone_until_the_next_deferral_is_due(db, fn, notifier, make_agent,
                                                                                       monkeypatch):
    from helpdesk.idle import IdleSkip
    from helpdesk.notify.preferences import NotificationPreferences

    from .test_notifier import assigned, make_ticket

    agent = make_agent("quinn")
    NotificationPreferences(db, notifier.clock).put(agent, {"quiet_start": "14:00", "quiet_end": "16:00"})
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).deferred == 1
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", "86400")
    monkeypatch.setattr(fn, "_idle", IdleSkip())
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    context = LambdaContext(function_name="helpdesk-notifier")
    start = notifier.clock.now()
    assert fn.handler(scheduled, context) == {"deferred_sent": 0, "rejected": 0}  # still quiet hours
    db.stats.calls = 0
    notifier.clock = FixedClock(start.replace(hour=15, minute=59))
    skipped = fn.handler(scheduled, context)
    assert skipped["skipped"] is True and skipped["until"].startswith(start.strftime("%Y-%m-%dT16:00"))
    assert db.stats.calls == 0
    notifier.clock = FixedClock(start.replace(hour=16, minute=0))
    assert fn.handler(scheduled, context) == {"deferred_sent": 1, "rejected": 0}
    assert len(sent_mail()) == 1
    # Without a budget every run reads the database.
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", "0")
    fn.handler(scheduled, context)
    db.stats.calls = 0
    assert "skipped" not in fn.handler(scheduled, context) and db.stats.calls > 0


def test_the_deferred_schedule_runs_only_while_something_is_deferred(db, fn, notifier, make_agent, monkeypatch, aws):
    from helpdesk.idle import IdleSkip
    from helpdesk.notify.preferences import NotificationPreferences

    from .test_notifier import assigned, make_ticket

    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="helpdesk-test-notifier-deferred", ScheduleExpression="rate(1 minute)", State="ENABLED")
    monkeypatch.setenv("NOTIFIER_SCHEDULE_RULE", "helpdesk-test-notifier-deferred")
    monkeypatch.setattr(fn, "_idle", IdleSkip())

    def state() -> str:
        return events.describe_rule(Name="helpdesk-test-notifier-deferred")["State"]

    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    context = LambdaContext(function_name="helpdesk-notifier")
    start = notifier.clock.now()
    fn.handler(scheduled, context)
    assert state() == "DISABLED"  # nothing deferred: nothing runs every minute

    agent = make_agent("rae")
    NotificationPreferences(db, notifier.clock).put(agent, {"quiet_start": "14:00", "quiet_end": "16:00"})
    ticket, number = make_ticket(db, assignee=agent)
    message = {"messageId": "m1", "receiptHandle": "h1", "body": assigned(ticket, number, agent).model_dump_json(),
               "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
               "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:notify",
               "awsRegion": REGION}
    assert fn.handler({"Records": [message]}, context)["batchItemFailures"] == []
    assert state() == "ENABLED"  # the deferral switched it on

    assert fn.handler(scheduled, context) == {"deferred_sent": 0, "rejected": 0}
    assert state() == "ENABLED"  # still waiting for 16:00
    notifier.clock = FixedClock(start.replace(hour=16, minute=0))
    assert fn.handler(scheduled, context) == {"deferred_sent": 1, "rejected": 0}
    fn.handler(scheduled, context)
    assert state() == "DISABLED"  # delivered: off again

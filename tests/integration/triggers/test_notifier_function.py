"""The notifier function runs the triggers on each queued event: a trigger fires through the handler,
and a failing trigger fails only its record, after the notifications of that event went out."""
from __future__ import annotations

import json

import pytest

from helpdesk.notify.notifier import Notifier
from local.functions import LambdaContext


@pytest.fixture
def fn(monkeypatch, world, db, clock):
    from functions.notifier import handler as module

    monkeypatch.setattr(module, "notifier", lambda: Notifier(db, clock, {}))
    monkeypatch.setattr(module, "trigger_engine", lambda: world.engine)
    return module


def sqs_event(rows) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": json.dumps({
        "id": str(r["id"]), "type": r["event_type"], "version": 1, "ticket_id": str(r["ticket_id"]),
        "occurred_at": r["occurred_at"], "payload": r["payload"]}),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:notify", "awsRegion": "us-east-1"}
        for i, r in enumerate(rows)]}


def test_the_function_fires_triggers_and_reports_only_the_failed_record(fn, world, slack_stub, monkeypatch):
    world.trigger(name="tag", events=["ticket_created"], actions=[{"type": "add_tags", "value": ["seen"]}])
    world.trigger(name="page", events=["ticket_created"],
                  conditions={"all": [{"field": "subject", "op": "contains_any", "value": ["down"]}]},
                  actions=[{"type": "post_slack", "channel": "C0PAGER", "text": "{{ticket.ref}}"}])
    calm, urgent = world.ticket(subject="A question"), world.ticket(subject="Site down")
    rows = list(world.published.published)
    world.published.published.clear()
    slack_stub.fail["C0PAGER"] = (503, "service_unavailable")
    monkeypatch.setattr(fn, "back_off", lambda records, failed: None)  # no real queue here
    result = fn.handler(sqs_event(rows), LambdaContext(function_name="helpdesk-notifier"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert world.commands.get_ticket(calm.id).ticket["tags"] == ["seen"]
    assert world.commands.get_ticket(urgent.id).ticket["tags"] == ["seen"]  # done before the Slack post failed
    slack_stub.fail.clear()
    result = fn.handler(sqs_event(rows[1:]), LambdaContext(function_name="helpdesk-notifier"))
    assert result["batchItemFailures"] == [] and len(slack_stub.posts) == 1

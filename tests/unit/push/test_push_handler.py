"""functions/push: an SQS batch of events -> one push; a failed publish reports every record failed."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from helpdesk.push.appsync import PublishFailed

AT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc).isoformat()


def record(event: dict) -> dict:
    return {"messageId": str(uuid.uuid4()), "body": json.dumps(event), "eventSource": "aws:sqs"}


def created() -> dict:
    return {"id": str(uuid.uuid4()), "type": "ticket.created", "version": 1, "ticket_id": str(uuid.uuid4()), "occurred_at": AT,
            "payload": {"number": 1, "channel": "email", "subject": "s", "priority": "normal", "message_id": str(uuid.uuid4())}}


@pytest.fixture
def push(monkeypatch):
    from functions.push import handler as module
    from local.functions import LambdaContext

    sent = []

    class Publisher:
        fail = False

        def publish(self, deliveries):
            if self.fail:
                raise PublishFailed("push: 1 of 1 publish requests failed: HTTP 503")
            sent.extend(deliveries)
            return len(deliveries)

    publisher = Publisher()
    monkeypatch.setattr(module, "publisher", lambda: publisher)
    monkeypatch.setattr(module.wiring, "data_api", lambda: None)  # ticket.created names nobody: no call
    monkeypatch.setattr(module.wiring, "bind_invocation", lambda context: None)
    return lambda event: module.handler(event, LambdaContext("push")), publisher, sent


def test_a_batch_is_pushed_and_an_invalid_record_is_skipped(push):
    run, _, sent = push
    answer = run({"Records": [record(created()), {"messageId": "bad", "body": "{not json"}, record(created())]})
    assert answer == {"batchItemFailures": []}
    assert len({c.path for c, _ in sent}) == 2


def test_a_failed_publish_brings_every_record_back(push):
    run, publisher, _ = push
    publisher.fail = True
    records = [record(created()), record(created())]
    answer = run({"Records": records})
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}

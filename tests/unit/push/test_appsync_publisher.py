"""helpdesk.push.appsync: the publisher keeps within AppSync Events' limits, 5 events per publish
request and 240 KB per event, whatever the batch brings."""
from __future__ import annotations

import json
import logging
import uuid

import pytest
from botocore.credentials import Credentials

from helpdesk.push import appsync
from helpdesk.push.appsync import MAX_EVENT_BYTES, MAX_EVENTS_PER_PUBLISH, AppSyncEventsPublisher, PublishFailed
from helpdesk.push.channels import team, ticket


@pytest.fixture
def sent(monkeypatch):
    """The publish requests the publisher makes, answered as AppSync answers a full success."""
    requests: list[tuple[str, list[str]]] = []

    def post(self, channel: str, events: list[str]):
        requests.append((channel, list(events)))
        return len(events), None

    monkeypatch.setattr(AppSyncEventsPublisher, "_post", post)
    return requests


def publisher() -> AppSyncEventsPublisher:
    return AppSyncEventsPublisher("https://example.appsync-api.us-east-1.amazonaws.com/event", "us-east-1",
                                  Credentials("k", "s"))


def padded(n: int, size: int) -> dict:
    """A message whose JSON is exactly `size` bytes."""
    message = {"n": n, "pad": ""}
    message["pad"] = "x" * (size - len(json.dumps(message, separators=(",", ":")).encode()))
    assert len(json.dumps(message, separators=(",", ":")).encode()) == size
    return message


def test_a_channels_events_go_in_requests_of_at_most_five_in_order(sent):
    a, b = ticket(uuid.uuid4()), team(uuid.uuid4())
    deliveries = [(a, {"n": i}) for i in range(12)] + [(b, {"n": i}) for i in range(3)]
    assert publisher().publish(deliveries) == 15
    assert all(1 <= len(events) <= MAX_EVENTS_PER_PUBLISH for _, events in sent)
    assert [len(events) for channel, events in sent if channel == a.path] == [5, 5, 2]
    heard = {path: [json.loads(e)["n"] for channel, events in sent if channel == path for e in events] for path in (a.path, b.path)}
    assert heard == {a.path: list(range(12)), b.path: list(range(3))}


def test_an_event_at_the_size_limit_is_sent_one_over_is_logged_and_left_out(sent, caplog):
    channel = ticket(uuid.uuid4())
    deliveries = [(channel, padded(1, MAX_EVENT_BYTES)), (channel, padded(2, MAX_EVENT_BYTES + 1)), (channel, {"n": 3})]
    with caplog.at_level(logging.ERROR, logger=appsync.__name__):
        assert publisher().publish(deliveries) == 2
    assert [json.loads(e)["n"] for _, events in sent for e in events] == [1, 3]
    assert all(len(e.encode()) <= MAX_EVENT_BYTES for _, events in sent for e in events)
    assert f"{MAX_EVENT_BYTES + 1}-byte message for {channel.path}" in caplog.text


def test_nothing_to_send_makes_no_request(sent):
    assert publisher().publish([(ticket(uuid.uuid4()), padded(1, MAX_EVENT_BYTES + 10))]) == 0
    assert publisher().publish([]) == 0
    assert sent == []


def test_a_refused_request_fails_the_batch(monkeypatch):
    monkeypatch.setattr(AppSyncEventsPublisher, "_post", lambda self, channel, events: (0, "HTTP 429 throttled"))
    with pytest.raises(PublishFailed, match="1 of 1 publish requests failed: /tickets/.*HTTP 429"):
        publisher().publish([(ticket(uuid.uuid4()), {"n": 1})])

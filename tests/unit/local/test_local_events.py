"""The AppSync Events stand-in (local/events.py) with the publisher the push function uses
(helpdesk.push.appsync): SigV4 checked like IAM, events fanned out to subscribers, bad input refused."""
from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
from botocore.credentials import Credentials

from helpdesk.push.appsync import AppSyncEventsPublisher, PublishFailed
from helpdesk.push.channels import ticket
from local import tokens
from local.events import Authorizer, EventsStandIn

KEY = "token-key"


@pytest.fixture
def stand_in():
    refused = lambda event: {"isAuthorized": False}  # noqa: E731 - no customer token is valid here
    events = EventsStandIn(Authorizer(KEY, refused)).start()
    yield events
    events.stop()


def run(coro):
    """asyncio.run on a thread of its own: in a whole-suite run Playwright's sync API holds this thread's loop."""
    import threading

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(value=asyncio.run(coro)))
    thread.start()
    thread.join(30)
    assert "value" in outcome, "the WebSocket scenario failed (see the thread's traceback above)"
    return outcome["value"]


def agent_token() -> str:
    return tokens.sign(tokens.agent_claims(str(uuid.uuid4()), "tara@example.com", "agent"), KEY)


async def subscribe_and_wait(url: str, token: str, channel: str, publish) -> list[dict]:
    from websockets.asyncio.client import connect

    header = base64.urlsafe_b64encode(json.dumps({"host": "x", "Authorization": token}).encode()).rstrip(b"=").decode()
    async with connect(url, subprotocols=["aws-appsync-event-ws", f"header-{header}"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "s1", "channel": channel, "authorization": {"Authorization": token}}))
        assert json.loads(await ws.recv())["type"] == "subscribe_success"
        await asyncio.to_thread(publish)
        got = []
        while len(got) < 2:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message["type"] == "data":
                got.append(json.loads(message["event"]))
        return got


def test_signed_publishes_reach_the_subscribers_of_the_channel(stand_in):
    channel = ticket(uuid.uuid4())
    publisher = AppSyncEventsPublisher(stand_in.http_url, "us-east-1", Credentials("testing", "testing"))
    sent = [(channel, {"kind": "change", "n": 1}), (channel, {"kind": "change", "n": 2})]
    got = run(subscribe_and_wait(stand_in.realtime_url, agent_token(), channel.path, lambda: publisher.publish(sent)))
    assert got == [{"kind": "change", "n": 1}, {"kind": "change", "n": 2}]


def test_more_than_five_events_for_a_channel_go_in_several_requests(stand_in):
    publisher = AppSyncEventsPublisher(stand_in.http_url, "us-east-1", Credentials("testing", "testing"))
    channel = ticket(uuid.uuid4())
    assert publisher.publish([(channel, {"n": i}) for i in range(12)]) == 12
    assert stand_in.published == 12


def test_a_publish_signed_with_another_key_is_refused(stand_in):
    publisher = AppSyncEventsPublisher(stand_in.http_url, "us-east-1", Credentials("testing", "not-the-secret"))
    with pytest.raises(PublishFailed, match="401"):
        publisher.publish([(ticket(uuid.uuid4()), {"kind": "change"})])
    assert stand_in.published == 0


def test_an_unsigned_or_malformed_publish_is_refused(stand_in):
    status, answer = stand_in.http_publish("/event", {}, b'{"channel": "/tickets/x", "events": ["{}"]}')
    assert status == 401 and "SigV4" in answer["errors"][0]["message"]
    authorizer = stand_in.authorizer
    authorizer.check_sigv4 = lambda *args: None  # signature fine: now the body is checked
    for body, problem in ((b'{"channel": "/nope/x", "events": ["{}"]}', "/tickets/<ticket id>"),
                          (b'{"channel": "/tickets/abc", "events": []}', "1-5"),
                          (b'{"channel": "/tickets/abc", "events": ["not json"]}', "Expecting value")):
        status, answer = stand_in.http_publish("/event", {}, body)
        assert status == 400 and problem in answer["errors"][0]["message"], answer


def test_a_connection_without_credentials_is_refused(stand_in):
    from websockets.asyncio.client import connect

    async def attempt():
        async with connect(stand_in.realtime_url, subprotocols=["aws-appsync-event-ws"]) as ws:
            return json.loads(await ws.recv())

    refused = run(attempt())
    assert refused["type"] == "connection_error"
    assert "header- subprotocol" in refused["errors"][0]["message"]


def test_the_stand_in_takes_an_event_of_240_kb_and_refuses_a_byte_more(stand_in):
    from helpdesk.push.appsync import MAX_EVENT_BYTES

    stand_in.authorizer.check_sigv4 = lambda *args: None
    at_limit = json.dumps({"pad": "x" * (MAX_EVENT_BYTES - len('{"pad":""}'))}, separators=(",", ":"))
    assert len(at_limit.encode()) == MAX_EVENT_BYTES
    over = at_limit[:-2] + 'x"}'
    status, _ = stand_in.http_publish("/event", {}, json.dumps({"channel": f"/tickets/{uuid.uuid4()}", "events": [at_limit]}).encode())
    assert status == 200
    status, answer = stand_in.http_publish("/event", {}, json.dumps({"channel": f"/tickets/{uuid.uuid4()}", "events": [over]}).encode())
    assert status == 400 and str(MAX_EVENT_BYTES) in answer["errors"][0]["message"]

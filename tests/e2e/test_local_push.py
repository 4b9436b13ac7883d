"""Push on the local stack, over the AppSync Events protocol (local/events.py): a committed change
reaches the subscribers of its channels; who may subscribe and publish where; presence."""
from __future__ import annotations

import time
import uuid

import pytest


@pytest.fixture
def live(http, tokens, require_functions):
    require_functions("api", "push", "push_authorizer")
    answer = http.get("/api/v1/live", token=tokens["tara@example.com"])
    assert answer.status == 200, answer.body
    return answer.json()


def _ticket(http, token: str, subject: str) -> dict:
    created = http.post("/api/v1/tickets", {"subject": subject, "body": "It broke.", "requester_email": "pat@customer.test"},
                        token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status == 201, created.body
    return created.json()


def test_live_names_the_realtime_endpoint_and_the_agents_own_channel(live, http, tokens):
    assert live["realtime"].startswith("ws://") and live["realtime"].endswith("/event/realtime")
    assert live["own_channel"].startswith("/agents/")
    assert live["fallback_poll_seconds"] == 60
    assert http.get("/api/v1/live").status == 401


def test_a_reply_reaches_the_ticket_channel_after_commit(live, http, tokens, events_client: type):
    token = tokens["tara@example.com"]
    ticket = _ticket(http, token, "Push me")

    async def scenario():
        async with events_client(live["realtime"], tokens["tom@example.com"]) as watcher:
            assert (await watcher.subscribe(f"/tickets/{ticket['id']}"))["type"] == "subscribe_success"
            started = time.monotonic()
            replied = http.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "On it.", "visibility": "public"}, token=token)
            assert replied.status == 201, replied.body
            event = await watcher.wait_for(lambda e: e.get("type") == "ticket.replied", timeout=5)
            return event, time.monotonic() - started

    event, seconds = events_client.run(scenario())
    assert event is not None, "no ticket.replied pushed within 5 s"
    assert event["ticket_id"] == ticket["id"] and event["visibility"] == "public"
    assert "body" not in event  # a signal, never the text: the page re-reads through the API
    assert seconds < 1.0, f"pushed {seconds:.2f} s after the reply's request returned"


def test_an_agent_cannot_subscribe_to_another_agents_channel(live, tokens, events_client: type):
    async def scenario():
        async with events_client(live["realtime"], tokens["tom@example.com"]) as tom:
            return await tom.subscribe(live["own_channel"])  # tara's

    refused = events_client.run(scenario())
    assert refused["type"] == "subscribe_error"
    assert "own /agents channel" in refused["errors"][0]["message"]


def test_an_assignment_reaches_the_assignees_own_channel(live, http, tokens, events_client: type):
    tara = tokens["tara@example.com"]
    me = http.get("/api/v1/agents/me", token=tara).json()
    ticket = _ticket(http, tokens["admin@example.com"], "Assign me")

    async def scenario():
        async with events_client(live["realtime"], tara) as client:
            assert (await client.subscribe(live["own_channel"]))["type"] == "subscribe_success"
            assigned = http.post(f"/api/v1/tickets/{ticket['id']}/assign", {"agent_id": me["id"]}, token=tokens["admin@example.com"])
            assert assigned.status in (200, 201), assigned.body
            return await client.wait_for(lambda e: e.get("type") == "ticket.assigned" and e["ticket_id"] == ticket["id"])

    event = events_client.run(scenario())
    assert event is not None and event["agent_id"] == me["id"]


def test_a_chat_visitor_hears_their_own_session_only(live, http, events_client: type):
    first = http.post("/api/v1/public/chat/sessions", {"name": "Vi", "message": "Hello?"}).json()
    second = http.post("/api/v1/public/chat/sessions", {"name": "Wu", "message": "Hi"}).json()
    mine = http.get(f"/api/v1/public/chat/sessions/{first['token']}/live").json()
    theirs = http.get(f"/api/v1/public/chat/sessions/{second['token']}/live").json()
    assert mine["channel"].startswith("/chat/") and mine["channel"] != theirs["channel"]
    assert http.get("/api/v1/public/chat/sessions/not-a-token/live").status in (403, 410)

    async def scenario():
        async with events_client(live["realtime"], first["token"]) as visitor:
            own = await visitor.subscribe(mine["channel"])
            other = await visitor.subscribe(theirs["channel"])
            agents_only = await visitor.subscribe("/teams/" + str(uuid.uuid4()))
            return own, other, agents_only

    own, other, agents_only = events_client.run(scenario())
    assert own["type"] == "subscribe_success"
    assert other["type"] == "subscribe_error" and agents_only["type"] == "subscribe_error"


def test_presence_is_stamped_with_the_publishers_identity(live, http, tokens, events_client: type):
    ticket = _ticket(http, tokens["admin@example.com"], "Who is here")
    channel = f"/tickets/{ticket['id']}"

    async def scenario():
        async with events_client(live["realtime"], tokens["tom@example.com"]) as tom, \
                events_client(live["realtime"], tokens["tara@example.com"]) as tara:
            await tom.subscribe(channel)
            await tara.subscribe(channel)
            ok = await tara.publish(channel, {"kind": "presence", "state": "replying",
                                              "agent": {"email": "someone.else@example.com"}})
            bad = await tara.publish(channel, {"kind": "change", "type": "ticket.replied"})
            seen = await tom.wait_for(lambda e: e.get("kind") == "presence")
            return ok, bad, seen

    ok, bad, seen = events_client.run(scenario())
    assert ok["type"] == "publish_success"
    assert bad["type"] == "publish_error"  # agents publish presence only: a forged change is refused
    assert seen["state"] == "replying" and seen["agent"]["email"] == "tara@example.com"
    assert seen["ttl_seconds"] > 0

"""Slack Events API payloads (api.slack.com/events/message, /events/url_verification) through the
API handler: signatures, tickets, threads, retries, bots, edits; agent replies back to the thread."""
from __future__ import annotations

import json
import uuid

from helpdesk.delivery.slack import SlackApi, SlackSecret
from helpdesk.outbound.slack import SlackReplies



def counts(db) -> dict[str, int]:
    row = db.query_one("SELECT (SELECT count(*) FROM tickets) AS tickets, (SELECT count(*) FROM ticket_messages) AS messages,"
                       " (SELECT count(*) FROM slack_request_signatures) AS signatures, (SELECT count(*) FROM customers) AS customers")
    return {k: int(v) for k, v in row.items()}


def slack_ticket(db, thread_key: str) -> dict:
    return db.query_one("SELECT t.id, t.number, t.channel, t.team_id, c.email, c.slack_user_id FROM tickets t "
                        "JOIN customers c ON c.id = t.requester_id WHERE t.channel = 'slack' AND t.channel_thread_id = :k",
                        {"k": thread_key})


def messages(db, ticket_id) -> list[dict]:
    return db.query("SELECT author_type, visibility, channel, body, inbound_message_id FROM ticket_messages "
                    "WHERE ticket_id = :t::uuid ORDER BY position", {"t": ticket_id})


def test_url_verification_answers_the_challenge(slack, db):
    answer = slack.send({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                         "type": "url_verification"})
    assert answer.status == 200, answer.body
    assert answer.body["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


def test_bad_signature_stale_timestamp_and_replay_are_401_and_write_nothing(slack, connect, db, clock):
    connect()
    payload = slack.message()
    before = counts(db)
    wrong = slack.send(payload, secret="not-the-secret")
    assert wrong.status == 401 and "signature" in wrong.body["detail"]
    stale = slack.send(payload, timestamp=int(clock.now().timestamp()) - 301)
    assert stale.status == 401 and "5-minute" in stale.body["detail"]
    future = slack.send(payload, timestamp=int(clock.now().timestamp()) + 301)
    assert future.status == 401
    missing = slack.api.call("POST", "/api/v1/channels/slack/events", raw_body=json.dumps(payload), claims=None)
    assert missing.status == 401
    tampered_body = json.dumps(payload)
    ts = str(int(clock.now().timestamp()))
    from helpdesk.intake.slack import sign_request
    good_sig = sign_request(slack.SECRET, ts, tampered_body)
    tampered = slack.send(payload, raw=tampered_body.replace("export", "import"), timestamp=int(ts), signature=good_sig)
    assert tampered.status == 401
    assert counts(db) == before

    first = slack.send(payload, raw=tampered_body, timestamp=int(ts), signature=good_sig)
    assert first.status == 200 and first.body["action"] == "opened"
    after_first = counts(db)
    replay = slack.send(payload, raw=tampered_body, timestamp=int(ts), signature=good_sig)
    assert replay.status == 401 and "replay" in replay.body["detail"]
    assert counts(db) == after_first


def test_message_in_connected_channel_opens_a_ticket_and_thread_replies_join_it(slack, connect, db, publisher):
    connect()
    root = slack.message(text="Export &amp; import broken\nSince this morning the CSV export fails.", ts="1772463600.000100")
    opened = slack.send(root)
    assert opened.status == 200 and opened.body["action"] == "opened", opened.body
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000100")
    assert ticket["channel"] == "slack" and ticket["email"] == "u0customer@users.slack.invalid"
    assert opened.body["number"] == ticket["number"]

    reply = slack.message(text="Here is the error: 500", thread_ts="1772463600.000100", ts="1772463700.000200")
    replied = slack.send(reply)
    assert replied.body["action"] == "replied"
    bodies = [(m["author_type"], m["body"]) for m in messages(db, ticket["id"])]
    assert bodies == [("customer", "Export & import broken\nSince this morning the CSV export fails."),
                      ("customer", "Here is the error: 500")]
    assert counts(db)["tickets"] == 1


def test_retries_are_idempotent(slack, connect, db):
    connect()
    root = slack.message(ts="1772463600.000100")
    assert slack.send(root).body["action"] == "opened"
    again = slack.send(root, retry=1)  # Slack retries: same event_id, new timestamp and signature
    assert again.status == 200 and again.body["action"] == "duplicate"
    reply = slack.message(text="more", thread_ts="1772463600.000100")
    assert slack.send(reply).body["action"] == "replied"
    assert slack.send(reply, retry=2).body["action"] == "duplicate"
    assert counts(db)["tickets"] == 1 and counts(db)["messages"] == 2


def test_unconnected_channels_bots_and_housekeeping_are_ignored(slack, connect, db):
    connect()
    before = counts(db)
    outcomes = [
        slack.send(slack.message(channel="C0RANDOM")),
        slack.send(slack.message(bot_id="B0OTHER", subtype="bot_message", user=None)),
        slack.send(slack.message(bot_id="B0OURS", user=slack.BOT_USER)),
        slack.send(slack.message(user=slack.BOT_USER)),  # our own bot user without bot_id
        slack.send(slack.message(subtype="channel_join", text="<@U0CUSTOMER> has joined the channel")),
        slack.send(slack.envelope({"type": "app_mention", "channel": "C0SUPPORT", "user": "U0CUSTOMER", "text": "hi",
                             "ts": "1772463600.000900"})),
    ]
    assert [o.body["action"] for o in outcomes] == ["ignored"] * 6
    assert counts(db)["tickets"] == before["tickets"] and counts(db)["messages"] == before["messages"]


def test_edits_and_deletions_become_internal_notes(slack, connect, db):
    connect()
    slack.send(slack.message(text="Printer on fire", ts="1772463600.000100"))
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000100")
    edit = slack.envelope({"type": "message", "subtype": "message_changed", "channel": "C0SUPPORT", "hidden": True,
                     "ts": "1772463650.000001",
                     "message": {"type": "message", "user": "U0CUSTOMER", "text": "Printer on fire (floor 3)",
                                 "ts": "1772463600.000100", "edited": {"user": "U0CUSTOMER", "ts": "1772463650.000000"}},
                     "previous_message": {"type": "message", "user": "U0CUSTOMER", "text": "Printer on fire",
                                          "ts": "1772463600.000100"}})
    assert slack.send(edit).body["action"] == "noted"
    assert slack.send(edit, retry=1).body["action"] == "duplicate"
    unfurl = json.loads(json.dumps(edit))
    unfurl["event_id"] = "EvUNFURL"
    unfurl["event"]["message"]["text"] = "Printer on fire"
    assert slack.send(unfurl).body["action"] == "ignored"
    deleted = slack.envelope({"type": "message", "subtype": "message_deleted", "channel": "C0SUPPORT", "hidden": True,
                        "ts": "1772463660.000001", "deleted_ts": "1772463600.000100",
                        "previous_message": {"type": "message", "user": "U0CUSTOMER", "text": "Printer on fire (floor 3)",
                                             "ts": "1772463600.000100"}})
    assert slack.send(deleted).body["action"] == "noted"
    notes = messages(db, ticket["id"])
    assert [(m["author_type"], m["visibility"]) for m in notes] == [("customer", "public"), ("system", "internal"),
                                                                    ("system", "internal")]
    assert "floor 3" in notes[1]["body"] and notes[0]["body"] == "Printer on fire"


def test_requester_recognized_by_email_across_channels(slack, connect, db, slack_stub, api):
    connect()
    web = api.post("/api/v1/public/tickets", {"requester_email": "Grace@Example.org", "subject": "Billing",
                                              "body": "Invoice wrong"}, claims=None)
    assert web.status == 201, web.body
    slack_stub.users["U0GRACE"] = "grace@example.org"
    first = slack.send(slack.message(user="U0GRACE", ts="1772463600.000300"))
    assert first.body["action"] == "opened"
    assert slack_stub.lookups == ["U0GRACE"]
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000300")
    assert ticket["email"] == "grace@example.org" and ticket["slack_user_id"] == "U0GRACE"
    # Linked: the next message is recognized without another users.info call.
    slack.send(slack.message(user="U0GRACE", ts="1772463600.000400"))
    assert slack_stub.lookups == ["U0GRACE"]
    same = db.query_one("SELECT count(DISTINCT requester_id) AS n FROM tickets")
    assert int(same["n"]) == 1


def test_connected_channel_routes_to_its_team(slack, connect, db, api, make_agent):
    team = uuid.UUID(db.query_one("INSERT INTO teams (name) VALUES ('Slack support') RETURNING id")["id"])
    _, admin_email = make_agent("Root", role="admin")
    admin = api.as_claims(admin_email, "admin")
    assert admin.put("/api/v1/channels/slack/channels/C0TEAM", {"name": "help", "team_id": str(team)}).status == 200
    assert [c["channel_id"] for c in admin.get("/api/v1/channels/slack/channels").body["items"]] == ["C0TEAM"]
    assert admin.put("/api/v1/channels/slack/channels/not-an-id", {}).status == 422
    slack.send(slack.message(channel="C0TEAM", ts="1772463600.000500"))
    assert slack_ticket(db, "C0TEAM:1772463600.000500")["team_id"] == str(team)
    assert admin.delete("/api/v1/channels/slack/channels/C0TEAM").status == 204
    assert slack.send(slack.message(channel="C0TEAM")).body["action"] == "ignored"


def test_agent_public_reply_goes_to_the_thread_and_internal_notes_never(slack, connect, db, api, publisher, make_agent,
                                                                       slack_stub, slack_secret_arn, clock):
    import boto3

    connect()
    slack.send(slack.message(ts="1772463600.000100"))
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000100")
    agent_id, agent_email = make_agent("Ada")
    agent = api.as_claims(agent_email)
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "We are on it.", "visibility": "public"}).status == 201
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "customer is grumpy", "visibility": "internal"}).status == 201
    requested = db.query("SELECT id, event_type, ticket_id, payload FROM outbox WHERE event_type = 'outbound.requested'")
    assert len(requested) == 1
    secret = SlackSecret(boto3.client("secretsmanager", region_name="us-east-1"), slack_secret_arn)
    replies = SlackReplies(db, SlackApi(secret.bot_token, base_url=slack_stub.url), clock)
    event = {"id": requested[0]["id"], "type": "outbound.requested", "payload": requested[0]["payload"]}
    outcome = replies.send(event)
    assert outcome.action == "sent"
    assert slack_stub.posts == [{"path": "/api/chat.postMessage", "content_type": "application/json; charset=utf-8",
                                 "channel": "C0SUPPORT", "thread_ts": "1772463600.000100", "text": "We are on it.",
                                 "unfurl_links": False, "unfurl_media": False}]
    assert slack_stub.auth[-1] == "Bearer xoxb-test-token"
    assert replies.send(event).action == "already_sent"  # a redelivered event posts nothing
    assert len(slack_stub.posts) == 1
    # An internal note's id, even if someone asked, is never posted.
    note = db.query_one("SELECT id FROM ticket_messages WHERE visibility = 'internal'")
    forged = {"id": str(uuid.uuid4()), "type": "outbound.requested",
              "payload": {"message_id": note["id"], "channel": "slack", "number": ticket["number"]}}
    assert replies.send(forged).action == "skipped"
    assert len(slack_stub.posts) == 1


def test_outbound_handler_dispatches_slack_through_the_module(slack, connect, db, api, make_agent, slack_stub, monkeypatch):
    """functions/outbound -> helpdesk.outbound.slack.send, wired from settings (secret ARN, base URL)."""
    from functions.outbound import handler as outbound

    connect()
    slack.send(slack.message(ts="1772463600.000100"))
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000100")
    _, agent_email = make_agent("Bo")
    api.as_claims(agent_email).post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Fixed now."})
    row = db.query_one("SELECT id, event_type, ticket_id, occurred_at, payload FROM outbox WHERE event_type = 'outbound.requested'")
    doc = {"id": row["id"], "type": row["event_type"], "version": 1, "ticket_id": row["ticket_id"],
           "occurred_at": row["occurred_at"].isoformat(), "payload": row["payload"]}
    result = outbound.record_handler(type("R", (), {"body": json.dumps(doc)})())
    assert result["channel"] == "slack" and result["result"].startswith("sent"), result
    assert slack_stub.posts[-1]["text"] == "Fixed now." and slack_stub.posts[-1]["thread_ts"] == "1772463600.000100"


def _slack_reply_event(db, slack, api, make_agent, body: str) -> tuple[dict, dict]:
    slack.send(slack.message(ts="1772463600.000100"))
    ticket = slack_ticket(db, "C0SUPPORT:1772463600.000100")
    _, agent_email = make_agent("Cy")
    assert api.as_claims(agent_email).post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": body}).status == 201
    row = db.query_one("SELECT id, payload FROM outbox WHERE event_type = 'outbound.requested'")
    return ticket, {"id": row["id"], "type": "outbound.requested", "payload": row["payload"]}


def test_slack_errors_are_recorded_retryable_ones_raise_and_a_later_attempt_posts(slack, connect, db, api, make_agent,
                                                                                    slack_stub, clock):
    import pytest

    from helpdesk.delivery import DeliveryError

    connect()
    _, event = _slack_reply_event(db, slack, api, make_agent, "x" * 39_500)
    replies = SlackReplies(db, SlackApi(lambda: "xoxb-test-token", base_url=slack_stub.url), clock)
    slack_stub.fail_with = "ratelimited"
    with pytest.raises(DeliveryError):
        replies.send(event)
    state = db.query_one("SELECT state, error FROM slack_outbound")
    assert state["state"] == "failed" and "ratelimited" in state["error"]
    slack_stub.fail_with = "channel_not_found"  # permanent: recorded, not raised
    assert replies.send(event).action == "failed"
    slack_stub.fail_with = ""
    assert replies.send(event).action == "sent"
    text = slack_stub.posts[-1]["text"]
    assert len(text) < 39_500 and text.endswith("the full reply is on ticket TKT-%d]" % event["payload"]["number"])


def test_data_api_calls_per_slack_event(slack, connect, db):
    connect()
    before = _calls(db)
    slack.send(slack.message(ts="1772463600.000100"))
    opened = _calls(db) - before
    before = _calls(db)
    slack.send(slack.message(text="more", thread_ts="1772463600.000100"))
    replied = _calls(db) - before
    # signature record 1 + context read 1 + routed create (1 + follow-up, + routing cache on a cold start)
    assert opened <= 5, opened
    assert replied <= 4, replied


def _calls(db) -> int:
    calls = db.stats.calls
    return calls if isinstance(calls, int) else sum(calls.values())

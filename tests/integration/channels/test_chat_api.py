"""Web chat through the API handler: start (one ticket), post, poll after a cursor, agent replies
appear (internal notes never), end mails the transcript once, rate limits, forged tokens."""
from __future__ import annotations

import boto3
import pytest

from helpdesk.intake.chat import SESSION_LIFETIME

REGION = "us-east-1"


@pytest.fixture
def ses(aws, monkeypatch):
    monkeypatch.setenv("SUPPORT_DOMAIN", "example.com")
    client = boto3.client("ses", region_name=REGION)
    client.verify_domain_identity(Domain="example.com")
    return client


def sent_mail(kind: str = "transcript") -> list:
    """The chat's mails of one kind: "transcript" or "verification code"."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if kind in _raw(m)]


def _raw(mail) -> str:
    return mail.raw_data if hasattr(mail, "raw_data") else str(mail)


def start(api, source_ip: str = "203.0.113.7", **body):
    doc = {"name": "Lin", "message": "Hi, my order #42 never arrived", **body}
    return api.post("/api/v1/public/chat/sessions", doc, claims=None, source_ip=source_ip)


def test_chat_conversation_with_agent_reply_and_transcript(api, db, make_agent, ses):
    started = start(api, email="Lin@Example.org")
    assert started.status == 201, started.body
    token, ref = started.body["token"], started.body["ref"]
    ticket = db.query_one("SELECT t.id, t.channel, t.subject, c.email, c.name FROM tickets t JOIN customers c "
                          "ON c.id = t.requester_id WHERE t.number = :n", {"n": int(ref.split("-")[1])})
    assert ticket["channel"] == "chat" and ticket["email"] == "lin@example.org" and ticket["name"] == "Lin"
    assert ticket["subject"] == "Chat: Hi, my order #42 never arrived"

    first = api.get(f"/api/v1/public/chat/sessions/{token}/messages", claims=None)
    assert first.status == 200
    assert [(m["author_type"], m["body"]) for m in first.body["messages"]] == [("customer", "Hi, my order #42 never arrived")]
    cursor = first.body["cursor"]
    assert api.get(f"/api/v1/public/chat/sessions/{token}/messages", query={"after": str(cursor)}, claims=None).body["messages"] == []

    sent = api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "It was due Friday", "client_message_id": "m1"},
                    claims=None)
    assert sent.status == 201
    again = api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "It was due Friday", "client_message_id": "m1"},
                     claims=None)
    assert again.status == 201 and again.body["replayed"] is True

    _, agent_email = make_agent("Ada")
    agent = api.as_claims(agent_email)
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Let me check", "visibility": "internal"}).status == 201
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "It ships today, sorry!"}).status == 201

    news = api.get(f"/api/v1/public/chat/sessions/{token}/messages", query={"after": str(cursor)}, claims=None).body
    assert [(m["author_type"], m["author_name"], m["body"]) for m in news["messages"]] == [
        ("customer", None, "It was due Friday"), ("agent", "Ada", "It ships today, sorry!")]
    assert news["ended"] is False

    ended = api.post(f"/api/v1/public/chat/sessions/{token}/end", claims=None)
    assert ended.status == 200 and ended.body == {"status": "ended", "transcript": "sent"}
    mails = sent_mail()
    assert len(mails) == 1
    raw = _raw(mails[0])
    assert "lin@example.org" in raw and "It ships today, sorry!" in raw and "Let me check" not in raw
    assert api.post(f"/api/v1/public/chat/sessions/{token}/end", claims=None).body["transcript"] == "already_handled"
    assert len(sent_mail()) == 1
    late = api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "hello?"}, claims=None)
    assert late.status == 409
    assert api.get(f"/api/v1/public/chat/sessions/{token}/messages", claims=None).body["ended"] is True


def test_a_chat_name_with_line_breaks_cannot_break_the_transcript_mail(api, ses):
    started = start(api, name="Lin\r\nBcc: victim@evil.test", email="lin@example.org")
    assert started.status == 201, started.body
    ended = api.post(f"/api/v1/public/chat/sessions/{started.body['token']}/end", claims=None)
    assert ended.body["transcript"] == "sent"
    [mail] = sent_mail()
    raw = _raw(mail).replace("\r\n", "\n")
    headers = raw.split("\n\n", 1)[0]
    assert "\nBcc:" not in headers and "Lin Bcc: victim@evil.test" in headers


def test_a_chat_giving_an_address_is_unverified_to_agents_until_the_mailed_code_is_entered(api, db, ses, make_agent):
    # Issue 22: anyone could chat as an existing customer's address.
    assert api.post("/api/v1/public/tickets", {"requester_email": "kim@example.org", "subject": "Refund", "body": "please"},
                    claims=None).status == 201
    started = start(api, name="Kim?", email="kim@example.org")
    assert started.status == 201 and started.body["verification"] == "code_sent"
    token = started.body["token"]
    [mail] = sent_mail("verification code")
    raw = _raw(mail)
    assert "kim@example.org" in raw
    code = next(w.strip(".") for w in raw.split() if w.strip(".").isdigit() and len(w.strip(".")) == 6)
    _, agent_email = make_agent("Ada")
    agent = api.as_claims(agent_email)
    ticket_id = db.query_one("SELECT id FROM tickets WHERE channel = 'chat'")["id"]
    assert agent.get(f"/api/v1/tickets/{ticket_id}").body["chat_address_verified"] is False

    wrong = "000000" if code != "000000" else "111111"
    refused = api.post(f"/api/v1/public/chat/sessions/{token}/verify", {"code": wrong}, claims=None)
    assert refused.status == 422 and "code" in refused.body["detail"]
    assert api.post(f"/api/v1/public/chat/sessions/{token}/verify", {"code": "12ab"}, claims=None).status == 422
    assert agent.get(f"/api/v1/tickets/{ticket_id}").body["chat_address_verified"] is False
    assert api.post(f"/api/v1/public/chat/sessions/{token}/verify", {"code": code}, claims=None).body == {"status": "verified"}
    assert agent.get(f"/api/v1/tickets/{ticket_id}").body["chat_address_verified"] is True
    # Another session's code does not verify this one; guesses are limited per session.
    other = start(api, name="Kim?", email="kim@example.org", source_ip="198.51.100.3").body["token"]
    guesses = [api.post(f"/api/v1/public/chat/sessions/{other}/verify", {"code": code}, claims=None).status
               for _ in range(6)]
    assert guesses[:5] == [422] * 5 and guesses[5] == 429
    # Without an address there is nothing to verify or mail.
    anonymous = start(api, source_ip="198.51.100.4").body
    assert anonymous["verification"] is None
    assert api.post(f"/api/v1/public/chat/sessions/{anonymous['token']}/verify", {"code": code}, claims=None).status in (409, 422)


def test_chat_without_email_gets_no_transcript_and_same_email_is_the_same_customer(api, db, ses):
    anonymous = start(api)
    assert anonymous.status == 201
    assert api.post(f"/api/v1/public/chat/sessions/{anonymous.body['token']}/end", claims=None).body["transcript"] == "not_requested"
    assert sent_mail() == []
    web = api.post("/api/v1/public/tickets", {"requester_email": "kim@example.org", "subject": "Refund", "body": "please"},
                   claims=None)
    assert web.status == 201
    chat = start(api, name="Kim", email="KIM@example.org")
    assert chat.status == 201
    n = db.query_one("SELECT count(DISTINCT requester_id) AS n FROM tickets t JOIN customers c ON c.id = t.requester_id "
                     "WHERE c.email = 'kim@example.org'")["n"]
    assert int(n) == 1
    assert int(db.query_one("SELECT count(*) AS n FROM tickets")["n"]) == 3


def test_forged_tokens_bad_input_and_rate_limits(api, db):
    bad = api.get("/api/v1/public/chat/sessions/AAAAAAAAAAAAAAAAAAAAAA.forged/messages", claims=None)
    assert bad.status == 403 and bad.body["code"] == "link_old_format"
    nope = api.post("/api/v1/public/chat/sessions/nope/messages", {"body": "x"}, claims=None)
    assert nope.status == 403 and nope.body["code"] == "link_malformed"
    token = start(api).body["token"]
    head, mac = token.rsplit(".", 1)
    forged = f"{head}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}"
    for answer in (api.get(f"/api/v1/public/chat/sessions/{forged}/messages", claims=None),
                   api.post(f"/api/v1/public/chat/sessions/{forged}/end", claims=None)):
        assert answer.status == 403 and answer.body["code"] == "link_bad_signature"
    assert start(api, email="not-an-email").status == 422
    assert start(api, message="").status == 422
    before = int(db.query_one("SELECT count(*) AS n FROM tickets")["n"])
    honeypot = start(api, website="http://spam")
    assert honeypot.status == 202 and int(db.query_one("SELECT count(*) AS n FROM tickets")["n"]) == before
    statuses = [start(api, source_ip="198.51.100.9").status for _ in range(21)]
    assert statuses[:20] == [201] * 20 and statuses[20] == 429


def _calls(db) -> int:
    calls = db.stats.calls
    return calls if isinstance(calls, int) else sum(calls.values())


def test_data_api_calls_per_chat_request(api, db):
    token = start(api).body["token"]
    before = _calls(db)
    api.get(f"/api/v1/public/chat/sessions/{token}/messages", claims=None)
    assert _calls(db) - before == 1  # a poll every few seconds per open widget: one read
    before = _calls(db)
    api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "hello"}, claims=None)
    assert _calls(db) - before <= 4  # rate limit 1 + session read 1 + message 1 + follow-up 1


def test_merged_chat_keeps_showing_the_conversation(api, db, make_agent):
    token = start(api, email="mo@example.org").body["token"]
    chat_ticket = db.query_one("SELECT id FROM tickets WHERE channel = 'chat'")["id"]
    web = api.post("/api/v1/public/tickets", {"requester_email": "mo@example.org", "subject": "Same issue", "body": "dup"},
                   claims=None)
    assert web.status == 201
    _, lead_email = make_agent("Lee", role="lead")
    lead = api.as_claims(lead_email, "lead")
    merged = lead.post(f"/api/v1/tickets/{chat_ticket}/merge", {"into": web.body["ref"]})
    assert merged.status == 200, merged.body
    lead.post(f"/api/v1/tickets/{web.body['ref']}/messages", {"body": "Merged and answered"})
    bodies = [m["body"] for m in api.get(f"/api/v1/public/chat/sessions/{token}/messages", claims=None).body["messages"]]
    assert "Hi, my order #42 never arrived" in bodies and "Merged and answered" in bodies
    assert api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "thanks"}, claims=None).status == 201


def test_an_expired_chat_token_is_410_and_names_when(api, db, clock):
    token = start(api).body["token"]
    clock.advance(SESSION_LIFETIME)
    for answer in (api.get(f"/api/v1/public/chat/sessions/{token}/messages", claims=None),
                   api.post(f"/api/v1/public/chat/sessions/{token}/messages", {"body": "still there?"}, claims=None)):
        assert answer.status == 410 and answer.body["code"] == "link_expired", answer.body
        assert "this chat session expired at" in answer.body["detail"]
    assert int(db.query_one("SELECT count(*) AS n FROM ticket_messages")["n"]) == 1

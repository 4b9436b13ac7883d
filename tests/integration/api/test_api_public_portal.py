"""The public web form (rate limits, honeypot) and the signed customer portal."""
from __future__ import annotations

import uuid

from helpdesk import wiring
from helpdesk.auth.portal import PORTAL_LINK_LIFETIME, sign_portal_token
from helpdesk.auth.signing import Keyring
from helpdesk.config import get_settings


def form(**over):
    body = {"requester_email": "Dana@Customer.test", "requester_name": "Dana", "subject": "Where is my order?",
            "body": "Ordered last week, nothing yet."}
    body.update(over)
    return body


def mailed_token(db, ref: str) -> str:
    """The portal token of a ticket, as its acknowledgement mails it (tests/integration/outbound checks that mail)."""
    ticket_id = db.query_one("SELECT id FROM tickets WHERE number = :n", {"n": int(ref.split("-")[1])})["id"]
    return sign_portal_token(ticket_id, get_settings().signing_keys, wiring.clock().now())  # the API's clock


def test_public_form_opens_a_web_ticket_and_never_answers_its_portal_link(api, db, publisher):
    answer = api.post("/api/v1/public/tickets", form())
    assert answer.status == 201, answer.body
    assert answer.body["ref"] == "TKT-1" and "mailed" in answer.body["portal"]
    # Anyone may type an existing customer's address: the link that shows the conversation goes by mail.
    token = mailed_token(db, "TKT-1")
    assert token not in str(answer.body) and "portal_token" not in answer.body and "portal_url" not in answer.body
    row = db.query_one("SELECT t.channel, c.email FROM tickets t JOIN customers c ON c.id = t.requester_id")
    assert row == {"channel": "web", "email": "dana@customer.test"}
    [created] = [e for e in publisher.published if e["event_type"] == "ticket.created"]
    assert created["payload"]["channel"] == "web"  # the outbound function acknowledges it, with the link


def test_honeypot_answers_202_and_stores_nothing(api, db):
    answer = api.post("/api/v1/public/tickets", form(website="http://spam.example"))
    assert answer.status == 202 and answer.body["status"] == "received" and answer.body["ref"] is None
    assert db.query_one("SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM rate_limits) AS n")["n"] == 0


def test_rate_limited_per_sender_and_per_ip(api, db):
    for i in range(5):
        assert api.post("/api/v1/public/tickets", form(subject=f"n{i}")).status == 201
    limited = api.post("/api/v1/public/tickets", form(subject="one too many"))
    assert limited.status == 429 and limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0 and "sender" in limited.body["detail"]
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 5
    # Another sender from another IP is fine; many senders from one IP are not.
    assert api.post("/api/v1/public/tickets", form(requester_email="x@y.test"), source_ip="198.51.100.1").status == 201
    answers = [api.post("/api/v1/public/tickets", form(requester_email=f"s{i}@bulk.test"), source_ip="198.51.100.9").status
               for i in range(21)]
    assert answers.count(201) == 20 and answers[-1] == 429


def test_public_form_validation(api, db):
    bad = api.post("/api/v1/public/tickets", form(requester_email="not-an-email"))
    assert bad.status == 422 and "requester_email" in bad.body["detail"]
    extra = api.post("/api/v1/public/tickets", form(team_id=str(uuid.uuid4())))
    assert extra.status == 422  # the public cannot pick a team
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 0


def test_portal_shows_only_public_messages_and_takes_replies(api, agent, db):
    created = api.post("/api/v1/public/tickets", form()).body
    token = mailed_token(db, created["ref"])
    client, agent_id = agent
    ticket_id = db.query_one("SELECT id FROM tickets")["id"]
    client.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "INTERNAL: customer is grumpy", "visibility": "internal"})
    client.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "We are looking into it.", "visibility": "public"})

    view = api.get(f"/api/v1/portal/{token}")
    assert view.status == 200 and view.body["ref"] == "TKT-1"
    bodies = [m["body"] for m in view.body["messages"]]
    assert "We are looking into it." in bodies and "Ordered last week, nothing yet." in bodies
    assert not any("INTERNAL" in b for b in bodies)
    assert "INTERNAL" not in str(view.body) and "assignee_id" not in view.body

    reply = api.post(f"/api/v1/portal/{token}/messages", {"body": "Thanks, still waiting."})
    assert reply.status == 201 and reply.body["ticket"] == "TKT-1"
    author = db.query_one("""SELECT m.author_type, c.email FROM ticket_messages m JOIN customers c ON c.id = m.author_customer_id
                             WHERE m.body = 'Thanks, still waiting.'""")
    assert author == {"author_type": "customer", "email": "dana@customer.test"}


def test_refused_portal_links_say_why_and_change_nothing(api, db, clock):
    api.post("/api/v1/public/tickets", form())
    ticket_id = db.query_one("SELECT id FROM tickets")["id"]
    keys = get_settings().signing_keys
    good = sign_portal_token(ticket_id, keys, clock.now())
    assert api.get(f"/api/v1/portal/{good}").status == 200

    def refused(token: str, status: int, code: str) -> None:
        for answer in (api.get(f"/api/v1/portal/{token}"), api.post(f"/api/v1/portal/{token}/messages", {"body": "hi"})):
            assert answer.status == status and answer.body["code"] == code, answer.body
            assert answer.content_type == "application/problem+json" and answer.body["detail"]

    refused(sign_portal_token(ticket_id, Keyring.single("someone-elses-key"), clock.now()), 403, "link_bad_signature")
    head, mac = good.rsplit(".", 1)
    refused(f"{head}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}", 403, "link_bad_signature")
    refused("garbage", 403, "link_malformed")
    refused(good.split(".", 1)[1], 403, "link_malformed")
    refused(sign_portal_token(ticket_id, Keyring.single("retired", "k9"), clock.now()), 403, "link_unknown_key")
    legacy_id, legacy_mac = good.split(".")[2:]  # the earlier <ticket>.<mac> shape, without key id and expiry
    refused(f"{legacy_id}.{legacy_mac}", 403, "link_old_format")
    other = sign_portal_token(uuid.uuid4(), keys, clock.now())  # valid signature, no such ticket
    assert api.get(f"/api/v1/portal/{other}").status == 404
    clock.advance(PORTAL_LINK_LIFETIME)
    expired = api.get(f"/api/v1/portal/{good}")
    assert expired.status == 410 and expired.body["code"] == "link_expired" and "expired at" in expired.body["detail"]
    refused(good, 410, "link_expired")
    assert db.query_one("SELECT count(*) AS n FROM ticket_messages")["n"] == 1
    # a fresh link works again
    assert api.get(f"/api/v1/portal/{sign_portal_token(ticket_id, keys, clock.now())}").status == 200


def test_oversized_body_is_413(api):
    answer = api.call("POST", "/api/v1/public/tickets", raw_body="x" * 4_200_000)
    assert answer.status == 413 and answer.body["status"] == 413


def test_upload_grant_and_form_attachments(api, db, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "helpdesk-attachments-test")
    grant = api.post("/api/v1/public/attachments", {"filename": "../../etc/My Photo.PNG", "content_type": "image/png",
                                                    "size": 2048})
    assert grant.status == 201, grant.body
    key = grant.body["key"]
    assert key.startswith("uploads/2026-03-02/") and key.endswith("/My_Photo.PNG")
    assert grant.body["upload"]["fields"]["key"] == key and "policy" in {k.lower() for k in grant.body["upload"]["fields"]}
    assert api.post("/api/v1/public/attachments", {"filename": "x", "content_type": "image/png",
                                                   "size": 50 * 1024 * 1024}).status == 422
    created = api.post("/api/v1/public/tickets", form(attachments=[
        {"key": key, "filename": "My Photo.PNG", "content_type": "image/png", "size": 2048}]))
    assert created.status == 201, created.body
    stored = db.query_one("SELECT attachments FROM ticket_messages")["attachments"]
    assert stored == [{"s3_key": key, "filename": "My Photo.PNG", "content_type": "image/png", "size": 2048,
                       "inline": False, "source": "web_upload"}]
    foreign = api.post("/api/v1/public/tickets", form(attachments=[
        {"key": "raw/secret-mail.eml", "filename": "x", "content_type": "message/rfc822", "size": 1}]))
    assert foreign.status == 422


def test_upload_without_bucket_is_503(api, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "")
    answer = api.post("/api/v1/public/attachments", {"filename": "a.txt", "content_type": "text/plain", "size": 3})
    assert answer.status == 503 and answer.content_type == "application/problem+json"


def test_portal_link_of_a_merged_ticket_shows_the_target(api, agent, db):
    first = api.post("/api/v1/public/tickets", form(subject="First")).body
    second = api.post("/api/v1/public/tickets", form(subject="Second")).body
    client, _ = agent
    assert client.post(f"/api/v1/tickets/{second['ref']}/merge", {"into": first["ref"]}).status == 200
    view = api.get(f"/api/v1/portal/{mailed_token(db, second['ref'])}")
    assert view.status == 200 and view.body["ref"] == first["ref"]


def test_public_idempotency_key_is_scoped_to_the_sender(api, db):
    first = api.post("/api/v1/public/tickets", form(), headers={"Idempotency-Key": "k"})
    again = api.post("/api/v1/public/tickets", form(), headers={"Idempotency-Key": "k"})
    assert first.status == again.status == 201 and first.body["ref"] == again.body["ref"]
    stranger = api.post("/api/v1/public/tickets", form(requester_email="mallory@evil.test"), headers={"Idempotency-Key": "k"})
    assert stranger.status == 201 and stranger.body["ref"] != first.body["ref"]
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 2


def test_portal_replies_are_rate_limited_per_ticket_and_per_ip(api, db):
    first = mailed_token(db, api.post("/api/v1/public/tickets", form()).body["ref"])
    answers = [api.post(f"/api/v1/portal/{first}/messages", {"body": f"again {i}"}, source_ip=f"198.51.100.{i}").status
               for i in range(21)]
    assert answers.count(201) == 20 and answers[-1] == 429  # per ticket, whatever the IP
    limited = api.post(f"/api/v1/portal/{first}/messages", {"body": "more"}, source_ip="198.51.100.200")
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0 and "portal-ticket" in limited.body["detail"]
    # One IP writing into many tickets.
    tokens = [mailed_token(db, api.post("/api/v1/public/tickets", form(requester_email=f"p{i}@bulk.test"),
                                        source_ip=f"192.0.2.{i}").body["ref"]) for i in range(4)]
    statuses = [api.post(f"/api/v1/portal/{tokens[i % 4]}/messages", {"body": f"spray {i}"}, source_ip="203.0.113.66").status
                for i in range(61)]
    assert statuses.count(201) == 60 and statuses[-1] == 429
    stored = db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE body LIKE 'again %' OR body LIKE 'spray %'")
    assert stored["n"] == 80


def test_merging_two_customers_tickets_needs_confirmation_and_keeps_each_portal_to_its_own(api, agent, db):
    # Issue 22: a merge across requesters showed customer A's portal customer B's conversation.
    mine = api.post("/api/v1/public/tickets", form(requester_email="ann@a.test", subject="Ann's", body="ANN-FIRST")).body
    theirs = api.post("/api/v1/public/tickets", form(requester_email="bob@b.test", subject="Bob's", body="BOB-FIRST")).body
    client, _ = agent
    assert client.post(f"/api/v1/tickets/{theirs['ref']}/messages", {"body": "BOB-ANSWER"}).status == 201
    assert client.post(f"/api/v1/tickets/{mine['ref']}/messages", {"body": "ANN-ANSWER"}).status == 201

    refused = client.post(f"/api/v1/tickets/{mine['ref']}/merge", {"into": theirs["ref"]})
    assert refused.status == 409 and "different requesters" in refused.body["detail"]
    assert refused.body["reason"] == "requesters_differ"
    assert db.query_one("SELECT status FROM tickets WHERE number = :n", {"n": int(mine["ref"][4:])})["status"] != "merged"

    merged = client.post(f"/api/v1/tickets/{mine['ref']}/merge", {"into": theirs["ref"], "confirm_different_requesters": True})
    assert merged.status == 200, merged.body
    ann_link, bob_link = mailed_token(db, mine["ref"]), mailed_token(db, theirs["ref"])
    assert api.post(f"/api/v1/portal/{ann_link}/messages", {"body": "ANN-LATER"}).status == 201

    def bodies(link):
        view = api.get(f"/api/v1/portal/{link}")
        assert view.status == 200 and view.body["ref"] == theirs["ref"]
        return {m["body"] for m in view.body["messages"]}

    assert bodies(ann_link) == {"ANN-FIRST", "ANN-ANSWER", "ANN-LATER"}
    assert bodies(bob_link) == {"BOB-FIRST", "BOB-ANSWER"}
    # Nor can a link open the other conversation's messages one by one, by their ids.
    theirs_only = [m for m in client.get(f"/api/v1/tickets/{theirs['ref']}").body["messages"] if m["body"].startswith("BOB")]
    for message in theirs_only:
        assert api.get(f"/api/v1/portal/{ann_link}/messages/{message['id']}").status == 404
        shown = api.get(f"/api/v1/portal/{bob_link}/messages/{message['id']}")
        assert shown.status == 200 and shown.body["body"] == message["body"]
    # Agents see the whole merged conversation.
    whole = client.get(f"/api/v1/tickets/{theirs['ref']}").body["messages"]
    assert {"ANN-FIRST", "BOB-FIRST", "ANN-LATER"} <= {m["body"] for m in whole}


def test_merging_one_customers_tickets_needs_no_confirmation(api, agent, db):
    first = api.post("/api/v1/public/tickets", form(subject="One", body="FIRST")).body
    second = api.post("/api/v1/public/tickets", form(subject="Two", body="SECOND")).body
    client, _ = agent
    assert client.post(f"/api/v1/tickets/{second['ref']}/merge", {"into": first["ref"]}).status == 200
    for ref in (first["ref"], second["ref"]):
        assert {m["body"] for m in api.get(f"/api/v1/portal/{mailed_token(db, ref)}").body["messages"]} == {"FIRST", "SECOND"}

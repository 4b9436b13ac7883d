"""Agents attach files to replies: an upload grant per file (presigned S3 POST, moto), the file goes
straight to S3, the reply names the grant's signed reference; the message stores the same metadata
shape as the other channels, the outbound mail carries the file, and bad references write nothing."""
from __future__ import annotations

from email import message_from_bytes, policy

import boto3
import pytest
import requests
from moto import mock_aws

from helpdesk.auth.signing import Keyring
from helpdesk.config import Settings
from helpdesk.outbound.email import OutboundEmail

BUCKET = "attachments-reply-test"
REGION = "us-east-1"
DOMAIN = "helpdesk.test"
SIGNING_KEY = "reply-attachments-test-key"
CSV = b"invoice,amount\n42,13.37\n"


@pytest.fixture
def s3(api, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("HELPDESK_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def _grant(client, ref: str, filename: str = "Rechnung März.csv", content_type: str = "text/csv", size: int = len(CSV)):
    answer = client.post(f"/api/v1/tickets/{ref}/attachments",
                         {"filename": filename, "content_type": content_type, "size": size})
    assert answer.status == 201, answer.body
    return answer.body


def _upload(grant: dict, data: bytes) -> None:
    """What the browser does: the grant's fields, then the file, as multipart/form-data."""
    upload = grant["upload"]
    res = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data)}, timeout=5)
    assert res.status_code in (200, 201, 204), res.text


def _message_count(db) -> int:
    return db.query_one("SELECT count(*) AS n FROM ticket_messages")["n"]


def test_reply_with_an_uploaded_file_stores_it_and_mails_it(agent, create, s3, db, clock, publisher):
    client, _ = agent
    ticket = create(client, channel="email")
    grant = _grant(client, ticket["ref"])
    assert grant["key"].startswith("uploads/2026-03-02/") and grant["key"].endswith("/Rechnung_M_rz.csv")
    assert grant["upload"]["fields"]["key"] == grant["key"] and grant["reference"]
    _upload(grant, CSV)

    db.stats.calls = 0
    # The grant was asked for by ticket number; the reply names the ticket by id: same ticket.
    answer = client.post(f"/api/v1/tickets/{ticket['id']}/messages",
                         {"body": "The corrected invoice.", "attachments": [grant["reference"]]})
    assert answer.status == 201, answer.body
    assert db.stats.calls <= 2
    expected = {"s3_key": grant["key"], "filename": "Rechnung März.csv", "content_type": "text/csv",
                "size": len(CSV), "inline": False, "source": "agent_upload"}
    assert answer.body["message"]["attachments"] == [expected]
    stored = db.query_one("SELECT attachments FROM ticket_messages WHERE id = :id::uuid",
                          {"id": answer.body["message"]["id"]})["attachments"]
    assert stored == [expected]

    # the download route finds it by its place in the message
    link = client.get(f"/api/v1/tickets/{ticket['ref']}/attachments/{answer.body['message']['id']}.0")
    assert link.status == 200 and requests.get(link.body["url"], timeout=5).content == CSV

    # and the outbound mail carries the file
    [event] = [e for e in publisher.published if e["event_type"] == "outbound.requested"
               and e["payload"]["message_id"] == answer.body["message"]["id"]]
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_domain_identity(Domain=DOMAIN)
    settings = Settings(support_domain=DOMAIN, signing_keys=Keyring.parse(SIGNING_KEY), raw_mail_bucket="raw", attachments_bucket=BUCKET,
                        region=REGION, ses_configuration_set="")
    sender = OutboundEmail(db, ses, settings, clock, s3_client=s3)
    outcome = sender.send({"id": event["id"], "type": event["event_type"], "payload": event["payload"]})
    assert outcome.action == "sent", outcome
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    [sent] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
    out = message_from_bytes(raw, policy=policy.default)
    assert [(p.get_filename(), p.get_content_type(), p.get_content()) for p in out.iter_attachments()] == [
        ("Rechnung März.csv", "text/csv", CSV.decode())]


def test_internal_note_may_carry_files(agent, create, s3, db):
    client, _ = agent
    ticket = create(client)
    grant = _grant(client, ticket["ref"], "shot.png", "image/png", 10)
    _upload(grant, b"\x89PNG....")
    answer = client.post(f"/api/v1/tickets/{ticket['ref']}/messages",
                         {"body": "see screenshot", "visibility": "internal", "attachments": [grant["reference"]]})
    assert answer.status == 201, answer.body
    [attachment] = answer.body["message"]["attachments"]
    assert attachment["filename"] == "shot.png" and attachment["size"] == 8  # the real size, not the granted 10


def test_bad_references_are_422_and_write_nothing(agent, api, make_agent, create, s3, db):
    client, _ = agent
    ticket, other = create(client), create(client)
    before = _message_count(db)

    def reply(*references: str, ref: str = ticket["ref"]):
        return client.post(f"/api/v1/tickets/{ref}/messages", {"body": "files", "attachments": list(references)})

    good = _grant(client, ticket["ref"])
    _upload(good, CSV)
    # another ticket's grant
    foreign = _grant(client, other["ref"])
    _upload(foreign, CSV)
    answer = reply(good["reference"], foreign["reference"])
    assert answer.status == 422 and "attachments[1]: granted for another ticket" in answer.body["detail"]
    # tampered: a different key under the same signature
    key_id, expires, payload, mac = good["reference"].split(".")
    answer = reply(".".join((key_id, expires, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), mac)))
    assert answer.status == 422 and "signature does not match" in answer.body["detail"]
    # a public-form style key instead of a reference
    answer = reply(good["key"])
    assert answer.status == 422 and "attachments[0]: this attachment reference is damaged" in answer.body["detail"]
    # granted but never uploaded
    missing = _grant(client, ticket["ref"], "later.pdf", "application/pdf", 100)
    answer = reply(missing["reference"])
    assert answer.status == 422 and "later.pdf was not uploaded" in answer.body["detail"]
    # another agent's grant
    _, email = make_agent("bob")
    bob = api.as_claims(email, "agent")
    bobs = _grant(bob, ticket["ref"])
    _upload(bobs, CSV)
    answer = reply(bobs["reference"])
    assert answer.status == 422 and "another agent" in answer.body["detail"]
    # too many
    answer = reply(*[good["reference"]] * 11)
    assert answer.status == 422 and "attachments" in answer.body["detail"]
    assert _message_count(db) == before

    assert reply(good["reference"]).status == 201
    assert _message_count(db) == before + 1


def test_grant_limits_and_unknown_ticket(agent, create, s3, db, monkeypatch):
    client, _ = agent
    ticket = create(client)
    too_big = client.post(f"/api/v1/tickets/{ticket['ref']}/attachments",
                          {"filename": "big.zip", "content_type": "application/zip", "size": 50 * 1024 * 1024})
    assert too_big.status == 422
    assert client.post(f"/api/v1/tickets/{ticket['ref']}/attachments",
                       {"filename": "a.txt", "content_type": "not a type", "size": 3}).status == 422
    assert client.post("/api/v1/tickets/TKT-999999/attachments",
                       {"filename": "a.txt", "content_type": "text/plain", "size": 3}).status == 404
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "")
    answer = client.post(f"/api/v1/tickets/{ticket['ref']}/attachments",
                         {"filename": "a.txt", "content_type": "text/plain", "size": 3})
    assert answer.status == 503


def test_grant_needs_a_signed_in_agent(api, create, agent, s3):
    client, _ = agent
    ticket = create(client)
    answer = api.post(f"/api/v1/tickets/{ticket['ref']}/attachments",
                      {"filename": "a.txt", "content_type": "text/plain", "size": 3})
    assert answer.status == 401

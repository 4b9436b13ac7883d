"""Admin quarantine routes: mail quarantined by the real inbound path (functions/inbound_email with
moto S3) is listed, released into a ticket through the API, and cannot be released twice."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto import mock_aws

from local.functions import LambdaContext

RAW = "raw-mail-test"
ATT = "attachments-test"
DOMAIN = "helpdesk.test"
BASE = "/api/v1/admin/quarantine"


def spam_mail(*, subject: str = "Cheap printers", message_id: str = "<spam-1@customer.test>",
              frm: str = "carol@customer.test") -> bytes:
    lines = [f"From: Carol <{frm}>", f"To: support@{DOMAIN}", f"Subject: {subject}",
             "Date: Mon, 02 Mar 2026 14:00:00 +0000", f"Message-ID: {message_id}", "X-SES-Spam-Verdict: FAIL",
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", "Really my printer, not spam.", ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
def s3(api, monkeypatch):
    """moto S3 with the raw-mail and attachments buckets; Settings read them from the environment."""
    for name, value in {"RAW_MAIL_BUCKET": RAW, "ATTACHMENTS_BUCKET": ATT, "SUPPORT_DOMAIN": DOMAIN,
                        "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from functions.inbound_email import handler as inbound

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=RAW)
        client.create_bucket(Bucket=ATT)
        inbound.intake.cache_clear()  # built per warm process: rebuild against moto and the test db
        inbound.s3.cache_clear()
        yield client
        inbound.intake.cache_clear()
        inbound.s3.cache_clear()


@pytest.fixture
def deliver(s3):
    """Stores a raw mail in S3 and runs the inbound Lambda on its S3-event-on-SQS record."""
    from functions.inbound_email import handler as inbound

    def run(raw: bytes) -> str:
        key = f"inbound/{uuid.uuid4().hex}"
        s3.put_object(Bucket=RAW, Key=key, Body=raw, Metadata={"envelope-recipients": f"support@{DOMAIN}"})
        body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": RAW}, "object": {"key": key}}}]}
        event = {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(body),
                              "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
                              "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:inbound",
                              "awsRegion": "us-east-1"}]}
        assert inbound.handler(event, LambdaContext(function_name="inbound_email")) == {"batchItemFailures": []}
        return key

    return run


@pytest.fixture
def quarantined(admin, deliver):
    """One spam-verdict mail quarantined by the inbound path: its list entry."""
    client, _ = admin
    key = deliver(spam_mail())
    answer = client.get(BASE)
    assert answer.status == 200, answer.body
    [row] = answer.body["items"]
    assert row["raw_key"] == key
    return row


def _tickets(db) -> int:
    return db.query_one("SELECT count(*) AS n FROM tickets")["n"]


def test_spam_mail_is_listed_and_not_a_ticket(admin, quarantined, db):
    client, _ = admin
    assert quarantined["reason"] == "spam"
    assert quarantined["from_email"] == "carol@customer.test"
    assert quarantined["subject"] == "Cheap printers"
    assert quarantined["raw_bucket"] == RAW and quarantined["released_at"] is None
    assert _tickets(db) == 0
    assert client.get(BASE, query={"reason": "virus"}).body["items"] == []
    assert len(client.get(BASE, query={"reason": "spam"}).body["items"]) == 1


def test_release_makes_a_ticket_then_409(admin, quarantined, db, s3):
    client, _ = admin
    answer = client.post(f"{BASE}/{quarantined['id']}/release")
    assert answer.status == 200, answer.body
    assert answer.body["action"] == "created"
    ticket = answer.body["ticket"]
    assert ticket["subject"] == "Cheap printers" and ticket["status"] == "new"
    assert ticket["ref"] == f"TKT-{ticket['number']}"
    assert _tickets(db) == 1
    shown = client.get(f"/api/v1/tickets/{ticket['id']}")
    assert shown.status == 200 and shown.body["channel"] == "email"
    assert "Really my printer" in shown.body["messages"][0]["body"]

    # Released mail leaves the default list; include_released shows when it was released.
    assert client.get(BASE).body["items"] == []
    [row] = client.get(BASE, query={"include_released": "true"}).body["items"]
    assert row["id"] == quarantined["id"] and row["released_at"] is not None

    again = client.post(f"{BASE}/{quarantined['id']}/release")
    assert again.status == 409, again.body
    assert again.content_type == "application/problem+json" and "already released" in again.body["detail"]
    assert _tickets(db) == 1


def test_agent_and_lead_are_forbidden(api, make_agent, quarantined, db):
    for role in ("agent", "lead"):
        _, email = make_agent(role, role=role)
        client = api.as_claims(email, role)
        assert client.get(BASE).status == 403
        assert client.post(f"{BASE}/{quarantined['id']}/release").status == 403
    assert api.get(BASE).status == 401  # no token at all
    assert _tickets(db) == 0


def test_unknown_and_malformed_ids(admin, s3):
    client, _ = admin
    missing = client.post(f"{BASE}/{uuid.uuid4()}/release")
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    assert client.post(f"{BASE}/not-a-uuid/release").status == 422


def test_raw_mail_gone_is_410_and_s3_unavailable_is_503(admin, quarantined, deliver, s3, db, monkeypatch):
    client, _ = admin
    s3.delete_object(Bucket=RAW, Key=quarantined["raw_key"])
    gone = client.post(f"{BASE}/{quarantined['id']}/release")
    assert gone.status == 410, gone.body

    # The row names a bucket that does not exist (deleted, or another account's): S3 refuses.
    db.execute("UPDATE email_quarantine SET raw_bucket = 'no-such-bucket' WHERE id = :id::uuid", {"id": quarantined["id"]})
    unavailable = client.post(f"{BASE}/{quarantined['id']}/release")
    assert unavailable.status == 503, unavailable.body
    assert unavailable.body["code"] == "mail_storage_unavailable" and "no-such-bucket" in unavailable.body["detail"]
    assert unavailable.headers.get("Retry-After") == "30"

    # No bucket on the row and none configured.
    db.execute("UPDATE email_quarantine SET raw_bucket = NULL WHERE id = :id::uuid", {"id": quarantined["id"]})
    monkeypatch.setenv("RAW_MAIL_BUCKET", "")
    unconfigured = client.post(f"{BASE}/{quarantined['id']}/release")
    assert unconfigured.status == 503 and "RAW_MAIL_BUCKET" in unconfigured.body["detail"]
    assert _tickets(db) == 0
    [row] = client.get(BASE).body["items"]
    assert row["released_at"] is None  # nothing changed: it can still be released later


def test_row_without_bucket_uses_the_configured_raw_bucket(admin, quarantined, db):
    client, _ = admin
    db.execute("UPDATE email_quarantine SET raw_bucket = NULL WHERE id = :id::uuid", {"id": quarantined["id"]})
    answer = client.post(f"{BASE}/{quarantined['id']}/release")
    assert answer.status == 200, answer.body
    assert _tickets(db) == 1


def test_limit_is_bounded_and_has_more(admin, deliver):
    client, _ = admin
    for n in range(3):
        deliver(spam_mail(message_id=f"<spam-{n}@customer.test>", subject=f"Offer {n}"))
    page = client.get(BASE, query={"limit": "2"})
    assert page.status == 200 and len(page.body["items"]) == 2 and page.body["has_more"] is True
    assert client.get(BASE, query={"limit": "3"}).body["has_more"] is False
    for bad in ("0", "201"):
        answer = client.get(BASE, query={"limit": bad})
        assert answer.status == 422 and "limit" in answer.body["detail"]
    assert client.get(BASE, query={"reason": "junk"}).status == 422

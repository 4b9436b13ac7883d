"""Attachment downloads: a presigned S3 GET URL (moto) for an attachment of that ticket only, named by
its row id or by its place in a message's attachment list; 503 without a bucket."""
from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from moto import mock_aws

from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

BUCKET = "attachments-test"
PDF = b"%PDF-1.4 invoice"
HTML = b"<script>alert(1)</script>"


@pytest.fixture
def s3(api, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _stored(s3, data: bytes, filename: str, content_type: str) -> dict:
    sha = hashlib.sha256(data).hexdigest()
    key = f"attachments/sha256/{sha}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return {"sha256": sha, "s3_key": key, "filename": filename, "content_type": content_type, "size": len(data)}


@pytest.fixture
def email_ticket(db, clock, publisher, s3):
    """An email ticket with two attachments (the email trigger gives them rows) plus the ids of those rows."""
    commands = TicketCommands(db, clock, publisher)
    result = commands.create_ticket({
        "channel": "email", "subject": "Invoice", "body": "See attached.", "requester_email": "carol@customer.test",
        "attachments": [_stored(s3, PDF, "Rechnung März.pdf", "application/pdf"),
                        _stored(s3, HTML, "page.html", "text/html")]}, Actor(type="customer"))
    rows = db.query("SELECT id::text AS id, filename FROM attachments WHERE ticket_id = :id::uuid ORDER BY filename",
                    {"id": result.ticket.id})
    return result.ticket, {r["filename"]: r["id"] for r in rows}


def test_download_url_by_row_id_fetches_the_bytes(agent, email_ticket, db):
    client, _ = agent
    ticket, ids = email_ticket
    db.stats.calls = 0
    answer = client.get(f"/api/v1/tickets/TKT-{ticket.number}/attachments/{ids['Rechnung März.pdf']}")
    assert answer.status == 200, answer.body
    assert db.stats.calls <= 2  # the caller lookup (cold) + one read
    assert answer.body["filename"] == "Rechnung März.pdf" and answer.body["content_type"] == "application/pdf"
    assert answer.body["size"] == len(PDF) and 0 < answer.body["expires_in"] <= 900
    query = parse_qs(urlparse(answer.body["url"]).query)
    assert "inline" in query["response-content-disposition"][0]
    fetched = requests.get(answer.body["url"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == PDF


def test_risky_types_download_as_files(agent, email_ticket):
    client, _ = agent
    ticket, ids = email_ticket
    answer = client.get(f"/api/v1/tickets/{ticket.id}/attachments/{ids['page.html']}")
    assert answer.status == 200, answer.body
    query = parse_qs(urlparse(answer.body["url"]).query)
    assert query["response-content-disposition"][0].startswith("attachment;")
    assert query["response-content-type"] == ["application/octet-stream"]
    assert requests.get(answer.body["url"], timeout=5).content == HTML


def test_download_by_message_position_covers_web_uploads(agent, create, s3, db, clock, publisher):
    client, _ = agent
    ticket = create(client)
    upload = {"s3_key": "uploads/2026-03-02/" + "a" * 32 + "/shot.png", "filename": "shot.png",
              "content_type": "image/png", "size": 4, "inline": False, "source": "web_upload"}
    s3.put_object(Bucket=BUCKET, Key=upload["s3_key"], Body=b"\x89PNG")
    result = TicketCommands(db, clock, publisher).receive_customer_message(ticket["id"], {
        "body": "Screenshot", "author_type": "customer", "author_email": "carol@customer.test", "channel": "web",
        "attachments": [upload]})
    message_id = result.message.id
    listed = client.get(f"/api/v1/tickets/{ticket['id']}/messages").body["items"][0]
    assert listed["id"] == str(message_id) and listed["attachments"][0]["filename"] == "shot.png"

    answer = client.get(f"/api/v1/tickets/{ticket['ref']}/attachments/{message_id}.0")
    assert answer.status == 200, answer.body
    assert answer.body["filename"] == "shot.png" and answer.body["size"] == 4
    assert requests.get(answer.body["url"], timeout=5).content == b"\x89PNG"
    assert client.get(f"/api/v1/tickets/{ticket['ref']}/attachments/{message_id}.1").status == 404


def test_attachment_of_another_ticket_is_404(agent, create, email_ticket):
    client, _ = agent
    _, ids = email_ticket
    other = create(client)
    answer = client.get(f"/api/v1/tickets/{other['id']}/attachments/{ids['page.html']}")
    assert answer.status == 404 and answer.content_type == "application/problem+json"
    assert "not on ticket" in answer.body["detail"] and "url" not in answer.body
    assert client.get(f"/api/v1/tickets/{other['id']}/attachments/{uuid.uuid4()}").status == 404
    assert client.get(f"/api/v1/tickets/{uuid.uuid4()}/attachments/{ids['page.html']}").status == 404
    bad = client.get(f"/api/v1/tickets/{other['id']}/attachments/nope")
    assert bad.status == 422 and "<message id>.<index>" in bad.body["detail"]


def test_merged_ticket_is_410(agent, create, email_ticket):
    client, _ = agent
    ticket, ids = email_ticket
    target = create(client)
    assert client.post(f"/api/v1/tickets/{ticket.id}/merge", {"into": target["ref"]}).status == 200
    gone = client.get(f"/api/v1/tickets/{ticket.id}/attachments/{ids['page.html']}")
    assert gone.status == 410 and gone.body["merged_into"] == target["id"]
    moved = client.get(f"/api/v1/tickets/{target['id']}/attachments/{ids['page.html']}")
    assert moved.status == 200, moved.body


def test_no_bucket_is_503_and_sign_in_is_required(api, agent, email_ticket, monkeypatch):
    client, _ = agent
    ticket, ids = email_ticket
    path = f"/api/v1/tickets/{ticket.id}/attachments/{ids['page.html']}"
    assert api.get(path).status == 401
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "")
    answer = client.get(path)
    assert answer.status == 503 and answer.content_type == "application/problem+json"
    assert "ATTACHMENTS_BUCKET" in answer.body["detail"]

"""The portal's files: the customer downloads the files of their own conversation by short-lived
link (never an internal note's, never another ticket's), and attaches files to a portal reply
(a grant bound to the ticket and its customer, the web form's limits)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from moto import mock_aws

from helpdesk import wiring
from helpdesk.auth.portal import sign_portal_token
from helpdesk.config import get_settings

BUCKET = "attachments-portal-test"
REGION = "us-east-1"
PDF = b"%PDF-1.4 invoice"


@pytest.fixture
def s3(api, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def _portal(ticket_id: str) -> str:
    return sign_portal_token(ticket_id, get_settings().signing_keys, wiring.clock().now())


def _agent_file(client, s3, ticket: dict, *, visibility: str) -> None:
    grant = client.post(f"/api/v1/tickets/{ticket['ref']}/attachments",
                        {"filename": f"{visibility}.pdf", "content_type": "application/pdf", "size": len(PDF)}).body
    requests.post(grant["upload"]["url"], data=grant["upload"]["fields"], files={"file": ("f", PDF)}, timeout=5)
    answer = client.post(f"/api/v1/tickets/{ticket['id']}/messages",
                         {"body": f"{visibility} file", "visibility": visibility, "attachments": [grant["reference"]]})
    assert answer.status == 201, answer.body


def test_customer_downloads_the_files_of_their_own_conversation_only(api, agent, create, s3, db):
    client, _ = agent
    ticket = create(client, channel="email")
    _agent_file(client, s3, ticket, visibility="public")
    _agent_file(client, s3, ticket, visibility="internal")
    token = _portal(ticket["id"])
    view = api.get(f"/api/v1/portal/{token}").body
    files = [f for m in view["messages"] for f in m["attachments"]]
    assert [f["filename"] for f in files] == ["public.pdf"] and "s3_key" not in str(view)
    db.stats.calls = 0
    link = api.get(f"/api/v1/portal/{token}/attachments/{files[0]['ref']}")
    assert link.status == 200 and db.stats.calls == 1 and link.body["expires_in"] == 300
    query = parse_qs(urlparse(link.body["url"]).query)
    assert "inline" in query["response-content-disposition"][0]  # a PDF opens in the browser
    assert requests.get(link.body["url"], timeout=5).content == PDF

    internal = db.query_one("SELECT id FROM ticket_messages WHERE visibility = 'internal'")["id"]
    assert api.get(f"/api/v1/portal/{token}/attachments/{internal}.0").status == 404
    other = create(client, channel="email", subject="another customer's")
    assert api.get(f"/api/v1/portal/{_portal(other['id'])}/attachments/{files[0]['ref']}").status == 404
    assert api.get(f"/api/v1/portal/{token}/attachments/not-a-ref").status == 422


def test_customer_attaches_a_file_to_a_portal_reply(api, agent, create, s3, db, publisher):
    client, _ = agent
    ticket = create(client, channel="email")
    token = _portal(ticket["id"])
    grant = api.post(f"/api/v1/portal/{token}/attachments",
                     {"filename": "photo.png", "content_type": "image/png", "size": 4})
    assert grant.status == 201, grant.body
    assert requests.post(grant.body["upload"]["url"], data=grant.body["upload"]["fields"],
                         files={"file": ("f", b"\x89PNG")}, timeout=5).status_code in (200, 201, 204)
    reply = api.post(f"/api/v1/portal/{token}/messages", {"body": "Here is a photo.", "attachments": [grant.body["reference"]]})
    assert reply.status == 201, reply.body
    stored = db.query_one("SELECT attachments FROM ticket_messages WHERE body = 'Here is a photo.'")["attachments"]
    assert [(f["filename"], f["size"], f["source"]) for f in stored] == [("photo.png", 4, "portal_upload")]
    assert [f["filename"] for m in api.get(f"/api/v1/portal/{token}").body["messages"] for f in m["attachments"]] == ["photo.png"]

    # A grant is bound to its ticket: another ticket's portal reply cannot use it.
    other = create(client, channel="email", subject="other")
    refused = api.post(f"/api/v1/portal/{_portal(other['id'])}/messages",
                       {"body": "stolen", "attachments": [grant.body["reference"]]})
    assert refused.status == 422 and "another ticket" in refused.body["detail"]
    # Nothing uploaded under a grant: refused, nothing written.
    empty = api.post(f"/api/v1/portal/{token}/attachments", {"filename": "a.txt", "content_type": "text/plain", "size": 3})
    missing = api.post(f"/api/v1/portal/{token}/messages", {"body": "ghost", "attachments": [empty.body["reference"]]})
    assert missing.status == 422 and "was not uploaded" in missing.body["detail"]
    assert db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE body IN ('stolen', 'ghost')")["n"] == 0
    too_big = api.post(f"/api/v1/portal/{token}/attachments",
                       {"filename": "big.iso", "content_type": "application/octet-stream", "size": 10 * 1024 * 1024 + 1})
    assert too_big.status == 422


def test_portal_says_statuses_in_the_customers_words(api, agent, create, db):
    client, agent_id = agent
    ticket = create(client, channel="email")
    token = _portal(ticket["id"])
    assert api.get(f"/api/v1/portal/{token}").body["status_label"] == "Received"
    client.post(f"/api/v1/tickets/{ticket['id']}/assign", {"agent_id": str(agent_id)})
    assert api.get(f"/api/v1/portal/{token}").body["status_label"] == "Open"
    for status, words in (("in_progress", "Open"), ("waiting_on_customer", "Awaiting your reply"), ("resolved", "Solved")):
        assert client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": status}).status == 200
        assert api.get(f"/api/v1/portal/{token}").body["status_label"] == words

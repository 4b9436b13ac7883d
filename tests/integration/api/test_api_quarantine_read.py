"""An admin reads a quarantined mail safely before releasing or deleting it: headers, the text (the
HTML only as text), attachment names; deleting drops it from the list and is in the audit trail."""
from __future__ import annotations

import uuid

from tests.integration.api.test_api_quarantine import BASE, deliver, quarantined, s3, spam_mail  # noqa: F401 - fixtures

HTML_MAIL = (
    "From: Mallory <mallory@phish.test>\r\nTo: support@helpdesk.test\r\nSubject: Verify your account\r\n"
    "Message-ID: <phish-1@phish.test>\r\nX-SES-Spam-Verdict: FAIL\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<p>Click <a href=\"https://evil.test/login\">here</a><script>alert(1)</script><img src=x onerror=alert(2)></p>\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"invoice.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n").encode()


def test_reading_shows_text_headers_and_attachment_names_never_html(admin, deliver):
    root, _ = admin
    deliver(HTML_MAIL)
    [row] = root.get(BASE).body["items"]
    answer = root.get(f"{BASE}/{row['id']}")
    assert answer.status == 200, answer.body
    mail = answer.body
    assert mail["raw_available"] is True and mail["parse_error"] is None
    assert mail["headers"]["subject"] == "Verify your account" and "mallory@phish.test" in mail["headers"]["from"]
    assert "Click" in mail["text"] and "<script>" not in mail["text"] and "<p>" not in mail["text"]
    assert "html" not in mail
    assert mail["attachments"] == [{"filename": "invoice.exe", "content_type": "application/octet-stream", "size": 12}]
    assert root.get(f"{BASE}/{uuid.uuid4()}").status == 404


def test_delete_removes_it_and_is_audited(admin, quarantined, agent):
    root, root_id = admin
    client, _ = agent
    assert client.get(f"{BASE}/{quarantined['id']}").status == 403
    assert client.delete(f"{BASE}/{quarantined['id']}").status == 403
    assert root.delete(f"{BASE}/{quarantined['id']}").status == 204
    assert root.get(BASE).body["items"] == []
    assert root.delete(f"{BASE}/{quarantined['id']}").status == 404
    [entry] = root.get("/api/v1/admin/audit", query={"resource": "quarantine"}).body["items"]
    assert entry["action"] == "delete" and entry["actor_id"] == str(root_id)
    assert entry["data"]["subject"] == "Cheap printers" and entry["data"]["raw_key"] == quarantined["raw_key"]


def test_release_is_audited(admin, quarantined):
    root, _ = admin
    assert root.post(f"{BASE}/{quarantined['id']}/release").status == 200
    [entry] = root.get("/api/v1/admin/audit", query={"resource": "quarantine"}).body["items"]
    assert entry["action"] == "release" and entry["resource_id"] == quarantined["id"]

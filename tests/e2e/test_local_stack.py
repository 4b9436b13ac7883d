"""The local stack end to end: HTTP front, tokens, dev endpoints, SMTP in, queues, second instance."""
from __future__ import annotations

import base64
import json
import smtplib
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage

import pytest

from local.stack import LocalStackProcess

def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _wait_for(predicate, timeout: float = 20.0, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def test_health_reports_database_and_functions(health):
    assert health["status"] == "ok"
    assert health["database"] == "ok"
    assert set(health["functions"]) == {"api", "inbound_email", "outbound", "notifier", "sweep"}


def test_tokens_file_holds_every_seeded_agent_with_cognito_claims(tokens):
    assert {"admin@example.com", "tara@example.com", "olivia@example.com", "ben@example.com"} <= set(tokens)
    admin = _claims(tokens["admin@example.com"])
    assert admin["email"] == "admin@example.com"
    assert admin["cognito:groups"] == "admin"
    uuid.UUID(admin["sub"])
    assert _claims(tokens["tara@example.com"])["cognito:groups"] == "lead"
    assert _claims(tokens["tom@example.com"])["cognito:groups"] == "agent"


def test_dev_token_logs_in_as_a_seeded_agent_and_refuses_strangers(http, tokens):
    answer = http.post("/api/v1/dev/token", {"email": "Olivia@Example.com"})
    assert answer.status == 200
    claims = _claims(answer.json()["token"])
    assert claims["email"] == "olivia@example.com"
    assert claims["sub"] == _claims(tokens["olivia@example.com"])["sub"]

    unknown = http.post("/api/v1/dev/token", {"email": "nobody@example.com"})
    assert unknown.status == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "admin@example.com" in unknown.json()["detail"]
    assert http.post("/api/v1/dev/token", {"mail": "x"}).status == 422
    assert http.post("/api/v1/dev/token", b"not json").status == 400


def test_a_forged_or_malformed_token_is_refused_before_the_api(http, tokens):
    head, payload, signature = tokens["tom@example.com"].split(".")
    forged_claims = {**_claims(tokens["tom@example.com"]), "cognito:groups": "admin"}
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    for header in (f"Bearer {head}.{forged}.{signature}", "Bearer not-a-token", "Basic dG9tOnB3"):
        answer = http.get("/api/v1/tickets", headers={"Authorization": header})
        assert answer.status == 401, header
        assert answer.json()["title"] == "Unauthorized"


def test_dev_clock_moves_forward_only(http):
    before = http.get("/api/v1/dev/clock").json()
    answer = http.post("/api/v1/dev/clock", {"advance_seconds": 3600})
    assert answer.status == 200
    after = answer.json()
    assert after["offset_seconds"] == pytest.approx(before["offset_seconds"] + 3600)
    from datetime import datetime

    moved = datetime.fromisoformat(after["now"]) - datetime.fromisoformat(before["now"])
    assert 3600 <= moved.total_seconds() < 3600 + 30
    for bad in ({"advance_seconds": -5}, {"advance_seconds": "soon"}, {"advance_seconds": True}, {}):
        rejected = http.post("/api/v1/dev/clock", bad)
        assert rejected.status == 422, bad
        assert "advance_seconds" in rejected.json()["detail"]
    assert http.get("/api/v1/dev/clock").json()["offset_seconds"] == after["offset_seconds"]


def test_web_ui_is_served_at_the_root(http):
    answer = http.get("/")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert b"<html" in answer.body.lower()
    assert http.get("/../secrets.json").status == 404
    assert http.get("/no-such-file.js").status == 404


def test_smtp_refuses_recipients_outside_the_support_domains(local_stack):
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("alice@customer.test", ["someone@elsewhere.test"], b"Subject: hi\r\n\r\nhello")
    code, text = refused.value.recipients["someone@elsewhere.test"]
    assert code == 550
    assert b"example.com" in text


def test_smtp_accepts_support_addresses_and_stores_the_raw_mail(local_stack, http):
    received_before = http.get("/api/v1/dev/health").json()["mail"]["received"]
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        refused = smtp.sendmail("alice@customer.test", ["orders@example.com", "Billing@Example.com"],
                                b"From: alice@customer.test\r\nSubject: two teams\r\n\r\nhello")
    assert refused == {}
    assert http.get("/api/v1/dev/health").json()["mail"]["received"] == received_before + 1


def test_create_a_ticket_over_http(http, tokens, require_functions):
    require_functions("api")
    token = tokens["admin@example.com"]
    key = str(uuid.uuid4())
    ticket = {"subject": "Printer on fire", "body": "It is on fire.", "requester_email": "carol@customer.test"}
    created = http.post("/api/v1/tickets", ticket, token=token, headers={"Idempotency-Key": key})
    assert created.status == 201, created.body
    doc = created.json()
    again = http.post("/api/v1/tickets", ticket, token=token, headers={"Idempotency-Key": key})
    assert again.status in (200, 201) and again.json()["id"] == doc["id"]
    fetched = http.get(f"/api/v1/tickets/{doc['id']}", token=token)
    assert fetched.status == 200
    assert fetched.json()["subject"] == "Printer on fire"


def test_an_email_over_smtp_becomes_a_ticket(local_stack, http, tokens, require_functions):
    require_functions("inbound_email", "api")
    marker = uuid.uuid4().hex[:10]
    mail = EmailMessage()
    mail["From"] = "Dana Customer <dana@customer.test>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Cannot log in {marker}"
    mail["Message-ID"] = f"<{marker}@customer.test>"
    mail.set_content(f"Hello, I cannot log in since yesterday. Ref {marker}.")
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)
    token = tokens["admin@example.com"]

    def find():
        answer = http.get("/api/v1/tickets?view=all&limit=100", token=token)
        if answer.status != 200:
            return None
        return next((t for t in answer.json()["items"] if marker in t["subject"]), None)

    ticket = _wait_for(find, timeout=30)
    assert ticket is not None, f"no ticket for the mail after 30 s:\n{local_stack.log_tail()}"
    assert ticket["channel"] == "email"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_second(stack: LocalStackProcess) -> subprocess.CompletedProcess:
    return subprocess.run(stack.command(), cwd=stack.root, capture_output=True, text=True, timeout=60)


def test_a_second_stack_on_the_same_data_is_refused(local_stack):
    second = LocalStackProcess(local_stack.root, http_port=_free_port(), smtp_port=_free_port(),
                               data_dir=local_stack.data_dir)
    result = _run_second(second)
    assert result.returncode == 3, result.stderr
    assert "already running" in result.stderr
    assert local_stack.url in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_stack_on_a_taken_port_says_so(local_stack, tmp_path):
    second = LocalStackProcess(local_stack.root, http_port=local_stack.http_port, smtp_port=_free_port(),
                               data_dir=tmp_path / "other")
    result = _run_second(second)
    assert result.returncode == 3, result.stderr
    assert f"port 127.0.0.1:{local_stack.http_port} is already in use" in result.stderr
    assert "--http-port" in result.stderr
    assert not (tmp_path / "other" / "pgdata").exists()  # refused before starting anything


def test_data_persists_across_restarts_and_ctrl_c_stops_cleanly(tmp_path):
    stack = LocalStackProcess(http_port=_free_port(), smtp_port=_free_port(), data_dir=tmp_path / "local")
    stack.start()
    try:
        first = json.loads(stack.tokens_path.read_text())
        import urllib.request

        request = urllib.request.Request(stack.url + "/api/v1/dev/clock", data=b'{"advance_seconds": 7200}', method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["offset_seconds"] == 7200
    finally:
        assert stack.stop() == 0, stack.log_tail()
    assert "stopped." in stack.log_path.read_text()
    assert not (tmp_path / "local" / "pgdata" / "postmaster.pid").exists(), "PostgreSQL left running"

    stack.start()
    try:
        second = json.loads(stack.tokens_path.read_text())
        with urllib.request.urlopen(stack.url + "/api/v1/dev/clock", timeout=10) as answer:
            assert json.load(answer)["offset_seconds"] == 7200
    finally:
        assert stack.stop() == 0, stack.log_tail()
    assert set(second) == set(first)
    assert {e: _claims(t)["sub"] for e, t in second.items()} == {e: _claims(t)["sub"] for e, t in first.items()}
    assert "migrations: up to date" in stack.log_path.read_text()

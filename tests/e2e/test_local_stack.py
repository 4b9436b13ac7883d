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
    assert set(health["functions"]) == {"api", "inbound_email", "outbound", "notifier", "sweep", "audit_export",
                                        "push", "push_authorizer"}
    assert set(health["queues"]) == {"inbound", "notify", "outbound", "push"}
    assert all({"processed", "failed", "waiting", "dead_letters"} <= set(q) for q in health["queues"].values())


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


def test_a_request_during_a_database_resume_waits_for_it(http, tokens):
    assert http.post("/api/v1/dev/database", {"resuming_seconds": 2}).status == 200
    started = time.monotonic()
    answer = http.get("/api/v1/tickets", token=tokens["admin@example.com"])
    assert answer.status == 200, answer.body  # the client retried DatabaseResumingException for ~2 s
    assert time.monotonic() - started >= 1.5
    for bad in ({"resuming_seconds": -1}, {"resuming_seconds": "soon"}, {"resuming_seconds": 7200}, {}):
        assert http.post("/api/v1/dev/database", bad).status == 422, bad


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


def test_a_public_reply_reaches_the_maildir_and_the_answer_threads_back(local_stack, http, tokens, health,
                                                                         require_functions):
    require_functions("api", "outbound", "inbound_email")
    if not health.get("events_topic"):
        pytest.skip("helpdesk.events.sns not available yet: events stay in the outbox, nothing reaches the outbound queue")
    import mailbox
    from email import message_from_bytes, policy
    from email.utils import getaddresses

    token = tokens["admin@example.com"]
    marker = uuid.uuid4().hex[:10]
    created = http.post("/api/v1/tickets", {"subject": f"Kettle {marker}", "body": "It leaks.",
                                            "requester_email": f"erin.{marker}@customer.test"},
                        token=token, headers={"Idempotency-Key": marker})
    assert created.status == 201, created.body
    ticket = created.json()
    replied = http.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": f"Sorry! A new kettle is on its way ({marker}).",
                                                                    "visibility": "public"}, token=token)
    assert replied.status == 201, replied.body

    def outbound_mail():
        box = mailbox.Maildir(str(local_stack.maildir_path), create=False) if local_stack.maildir_path.is_dir() else {}
        for key in list(box.keys()):
            mail = message_from_bytes(box.get_bytes(key), policy=policy.default)
            if f"erin.{marker}@customer.test" in (mail.get("To") or ""):
                return mail
        return None

    mail = _wait_for(outbound_mail, timeout=30)
    assert mail is not None, f"no outbound mail in the Maildir after 30 s:\n{local_stack.log_tail()}"
    assert mail["Message-ID"].endswith(".amazonses.com>")
    assert marker in mail.get_body(("plain",)).get_content()

    answer = EmailMessage()
    answer["From"] = f"erin.{marker}@customer.test"
    answer["To"] = mail.get("Reply-To") or mail["From"]
    answer["Subject"] = "Re: " + mail["Subject"]
    answer["In-Reply-To"] = mail["Message-ID"]
    answer["References"] = mail["Message-ID"]
    answer["Message-ID"] = f"<answer.{marker}@customer.test>"
    answer.set_content(f"Thanks, received ({marker}-answer).")
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(answer, to_addrs=[a for _, a in getaddresses([answer["To"]])])

    def threaded():
        listed = http.get(f"/api/v1/tickets/{ticket['id']}/messages", token=token)
        return listed.status == 200 and any(f"{marker}-answer" in m.get("body", "") for m in listed.json()["items"])

    assert _wait_for(threaded, timeout=30), f"the answer did not thread into {ticket['id']}:\n{local_stack.log_tail()}"


def test_zz_ctrl_c_stops_cleanly_and_a_restart_keeps_the_data(local_stack, http, tokens, health):
    """Restarts the shared stack (last in this module; the stack is up again afterwards)."""
    ticket_id = None
    if health["functions"]["api"]:
        created = http.post("/api/v1/tickets", {"subject": "Survives a restart", "body": "x",
                                                "requester_email": "fay@customer.test"},
                            token=tokens["admin@example.com"], headers={"Idempotency-Key": str(uuid.uuid4())})
        assert created.status == 201, created.body
        ticket_id = created.json()["id"]
    offset = http.post("/api/v1/dev/clock", {"advance_seconds": 60}).json()["offset_seconds"]
    mail_waits = not health["functions"]["inbound_email"]
    if mail_waits:  # nobody consumes the inbound queue yet: the message must survive the restart
        with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
            smtp.sendmail("gil@customer.test", ["support@example.com"], b"Subject: waiting\r\n\r\nfor inbound_email")
        waiting = http.get("/api/v1/dev/health").json()["queues"]["inbound"]["waiting"]
        assert waiting >= 1

    assert local_stack.stop() == 0, local_stack.log_tail()
    log = local_stack.log_path.read_text()
    assert log.rstrip().endswith("stopped."), local_stack.log_tail()
    assert not (local_stack.data_dir / "pgdata" / "postmaster.pid").exists(), "PostgreSQL left running"

    local_stack.start()
    assert "migrations: up to date" in local_stack.log_path.read_text()[len(log):]
    again = json.loads(local_stack.tokens_path.read_text())
    # Other tests may have added agents since `tokens` was read: every earlier agent keeps its id.
    assert set(tokens) <= set(again)
    assert {e: _claims(again[e])["sub"] for e in tokens} == {e: _claims(t)["sub"] for e, t in tokens.items()}
    assert http.get("/api/v1/dev/clock").json()["offset_seconds"] == offset
    if ticket_id:
        assert http.get(f"/api/v1/tickets/{ticket_id}", token=tokens["admin@example.com"]).status == 200
    if mail_waits:
        assert http.get("/api/v1/dev/health").json()["queues"]["inbound"]["waiting"] == waiting


def test_the_web_form_mails_the_portal_link_and_never_answers_it(http, health, require_functions, mailed_portal_token):
    require_functions("api", "outbound")
    if not health.get("events_topic"):
        pytest.skip("helpdesk.events.sns not available yet: events stay in the outbox, nothing reaches the outbound queue")
    email = f"form.{uuid.uuid4().hex[:8]}@customer.test"
    answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": "Lost parcel", "body": "Where is it?"})
    assert answer.status == 201, answer.body
    assert set(answer.json()) <= {"status", "ref", "portal"}
    token = mailed_portal_token(email)
    assert token not in json.dumps(answer.json())
    view = http.get(f"/api/v1/portal/{token}")
    assert view.status == 200 and view.json()["ref"] == answer.json()["ref"]

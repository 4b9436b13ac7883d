"""An agent reply goes out through moto SES as text + HTML + attachments, within SES's size limit,
and the customer's reply to that mail threads back through our own intake."""
from __future__ import annotations

import hashlib
import uuid
from email import message_from_bytes, policy

import pytest

from helpdesk.events.publisher import DeferredPublisher
from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.blobs import S3BlobStore
from helpdesk.auth.portal import portal_url, sign_portal_token
from helpdesk.outbound.email import OutboundEmail, portal_footer
from helpdesk.outbound.files import encoded_size
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

from .conftest import ATT, DOMAIN, REGION, mail

HOSTILE = ('Hi Carol,\n\n<script>alert("x")</script> fixed.\n'
           'Details: https://status.test/i/42"><img src=x onerror=alert(1)>\n\n-- \nBilling team')


def _sent():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def _raw(sent) -> bytes:
    return sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data


def _store(s3, data: bytes, content_type: str, filename: str) -> dict:
    sha = hashlib.sha256(data).hexdigest()
    key = S3BlobStore(s3, ATT).put(sha, data, content_type)
    return {"sha256": sha, "s3_key": key, "filename": filename, "content_type": content_type, "size": len(data)}


@pytest.fixture
def intake(db, clock, aws, settings) -> EmailIntake:
    return EmailIntake.from_settings(db, clock, DeferredPublisher(), S3BlobStore(aws["s3"], ATT), settings)


def _reply(db, clock, intake, body: str, attachments: list[dict]):
    created = intake.receive(mail(), envelope_recipients=[f"support@{DOMAIN}"], raw_key="raw/1")
    ticket_id = created.ticket_id
    agent = uuid.UUID(db.query_one("INSERT INTO agents (email, name) VALUES ('a@helpdesk.test', 'A') RETURNING id")["id"])
    result = TicketCommands(db, clock).add_message(
        ticket_id, {"body": body, "visibility": "public", "author_type": "agent", "author_agent_id": agent,
                    "attachments": attachments}, Actor(type="agent", id=agent))
    [event] = [e for e in result.events if e["event_type"] == "outbound.requested"]
    return ticket_id, {"id": event["id"], "type": event["event_type"], "payload": event["payload"]}


def test_reply_is_text_html_and_files_and_threads_back(db, clock, aws, settings, intake):
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40
    files = [_store(aws["s3"], pdf, "application/pdf", "Rechnung März.pdf"),
             _store(aws["s3"], b"col\n1\n", "text/csv", "data.csv")]
    ticket_id, event = _reply(db, clock, intake, HOSTILE, files)
    sender = OutboundEmail(db, aws["ses"], settings, clock, s3_client=aws["s3"])
    db.stats.calls = 0
    outcome = sender.send(event)
    assert outcome.action == "sent" and db.stats.calls == 2  # claim (with the attachment list), record
    assert sender.send(event).action == "already_sent"  # idempotent as before: one mail
    [sent] = _sent()
    out = message_from_bytes(_raw(sent), policy=policy.default)

    assert out.get_content_type() == "multipart/mixed"
    alternative = out.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    link = portal_url(settings.web_base_url, sign_portal_token(ticket_id, settings.signing_keys, clock.now()))
    assert out.get_body(("plain",)).get_content().rstrip("\n") == HOSTILE + portal_footer(link)
    html = out.get_body(("html",)).get_content()
    assert link in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert '<a href="https://status.test/i/42" rel="noopener noreferrer">' in html and "Billing team" in html
    parts = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in out.iter_attachments()]
    assert parts == [("Rechnung März.pdf", "application/pdf", pdf), ("data.csv", "text/csv", "col\n1\n")]
    # threading headers, Reply-To token and loop header exactly as for a plain reply
    assert out["In-Reply-To"] == "<first@customer.test>" and out["X-Helpdesk-Loop"] == DOMAIN
    assert out["Message-ID"] == f"<msg-{event['payload']['message_id']}@{DOMAIN}>"
    token_address = out["Reply-To"].addresses[0].addr_spec

    # our own mail coming back is still recognised as a loop, multipart or not
    assert intake.receive(_raw(sent), envelope_recipients=[f"support@{DOMAIN}"], raw_key="raw/loop").action == "dropped"
    # the customer's client replies quoting the HTML mail: it threads by In-Reply-To and by the token
    for n, (headers, to) in enumerate([({"In-Reply-To": out["Message-ID"], "References": out["Message-ID"]}, None),
                                       ({}, token_address)]):
        raw = mail(message_id=f"<r{n}@customer.test>", subject="Re: something", to=to or f"support@{DOMAIN}",
                   body="Thanks!\n\n> " + HOSTILE.replace("\n", "\n> "), headers=headers)
        got = intake.receive(raw, envelope_recipients=[to or f"support@{DOMAIN}"], raw_key=f"raw/r{n}")
        assert (got.action, got.ticket_id) == ("threaded", ticket_id), got


def test_files_over_the_size_limit_are_left_out_and_named(db, clock, aws, settings, intake):
    small, big = b"s" * 2000, b"b" * 60_000
    files = [_store(aws["s3"], big, "application/zip", "big.zip"), _store(aws["s3"], small, "image/png", "shot.png"),
             {"s3_key": "attachments/sha256/00/missing", "filename": "lost.txt", "content_type": "text/plain", "size": 5}]
    _, event = _reply(db, clock, intake, "Here you go.", files)
    # a limit that holds the mail and the small file but not the big one (60 KB scaled from 40 MB)
    limit = 30_000 + encoded_size(len(small))
    OutboundEmail(db, aws["ses"], settings, clock, s3_client=aws["s3"], max_raw_bytes=limit).send(event)
    [sent] = _sent()
    assert len(_raw(sent)) <= limit
    out = message_from_bytes(_raw(sent), policy=policy.default)
    assert [p.get_filename() for p in out.iter_attachments()] == ["shot.png"]
    text = out.get_body(("plain",)).get_content()
    assert "big.zip (58.6 KB, too large for email)" in text and "lost.txt (5 bytes, no longer stored)" in text
    assert "big.zip" in out.get_body(("html",)).get_content()


def test_s3_failure_records_failed_and_retries(db, clock, aws, settings, intake):
    files = [_store(aws["s3"], b"x" * 10, "text/plain", "a.txt")]
    _, event = _reply(db, clock, intake, "File attached.", files)

    class BrokenS3:
        def get_object(self, **kwargs):
            raise RuntimeError("S3 is down")

    with pytest.raises(RuntimeError):
        OutboundEmail(db, aws["ses"], settings, clock, s3_client=BrokenS3()).send(event)
    assert db.query_one("SELECT state FROM email_outbound")["state"] == "failed" and _sent() == []
    assert OutboundEmail(db, aws["ses"], settings, clock, s3_client=aws["s3"]).send(event).action == "sent"


def test_a_reply_quoting_500_levels_deep_is_mailed(db, clock, aws, settings, intake):
    # Issue 22: the HTML renderer recursed once per '>' and the reply died (retried into the DLQ).
    body = "See below.\n" + ">" * 500 + " the original question\nThanks"
    _, event = _reply(db, clock, intake, body, [])
    assert OutboundEmail(db, aws["ses"], settings, clock, s3_client=aws["s3"]).send(event).action == "sent"
    [sent] = _sent()
    out = message_from_bytes(_raw(sent), policy=policy.default)
    assert out.get_body(("plain",)).get_content().startswith(body)  # then the portal footer
    assert "the original question" in out.get_body(("html",)).get_content()

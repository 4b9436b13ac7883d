"""Issue 22, never lose a mail: hostile mails through functions/inbound_email each end as a ticket or
a quarantine row (the raw mail stays in S3), never as a failed record retried into the DLQ; a mail
reusing one of our own Message-IDs is kept as suspicious; a failure to store what a mail holds is
quarantined with its reason; a batch near its time limit hands back only the records not started."""
from __future__ import annotations

import json
import uuid

import pytest

from helpdesk import errors
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from local.functions import LambdaContext

from .conftest import DOMAIN, RAW, mail
from .test_handlers import _agent, _tickets, outbound  # noqa: F401

NUL_CASES = {
    "part content-type": b"--b\r\nContent-Type: text/plain\x00; charset=utf-8\r\n\r\nhello\r\n--b--\r\n",
    "part content-id": b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: image/png\r\n"
                       b"Content-ID: <i\x00mg@x>\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n",
    "delivery-status field": b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: message/delivery-status"
                             b"\r\n\r\nFinal-Recipient: rfc822; a\x00b@x.test\r\nAction: fail\x00ed\r\n--b--\r\n",
    "embedded message-id": b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
                           b"Message-ID: <emb\x00edded@x.test>\r\nSubject: inner\x00\r\n\r\ninner text\x00\r\n--b--\r\n",
    "file name and body": b"--b\r\nContent-Type: text/plain\r\n\r\nhel\x00lo\r\n--b\r\nContent-Type: application/pdf; "
                          b"name=\"in\x00voice.pdf\"\r\nContent-Disposition: attachment; filename=\"in\x00voice.pdf\"\r\n\r\n"
                          b"%PDF\x00\x01\r\n--b--\r\n",
}


def _multipart(body: bytes, message_id: str, subject: str = "Hostile") -> bytes:
    return (f"From: Mal <mal@customer.test>\r\nTo: support@{DOMAIN}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n").encode() + body


def _kept(db) -> tuple[int, list[dict]]:
    tickets = db.query_one("SELECT count(*) AS n FROM tickets")["n"]
    return tickets, db.query("SELECT reason, detail, raw_key FROM email_quarantine ORDER BY created_at")


@pytest.mark.parametrize("where", list(NUL_CASES))
def test_a_nul_byte_anywhere_never_fails_the_record(db, inbound, where):
    assert inbound(_multipart(NUL_CASES[where], f"nul-{uuid.uuid4().hex}@customer.test")) == {"batchItemFailures": []}
    assert _kept(db) == (1, [])
    message = db.query_one("SELECT body, attachments, metadata FROM ticket_messages")
    assert "\x00" not in json.dumps(message) and "\\u0000" not in json.dumps(message)


@pytest.mark.parametrize(("name", "raw"), [
    ("1 MB folded subject", mail(subject="\r\n ".join(["word =?utf-8?q?caf=C3=A9?= more"] * 30_000), message_id="<big@c>")),
    ("nested html", (b"From: a@customer.test\r\nTo: support@helpdesk.test\r\nSubject: html\r\nMessage-ID: <html@c>\r\n"
                     b"Content-Type: text/html\r\n\r\n" + b"<div>" * 110_000 + b"request" + b"</div>" * 110_000)),
    ("nested quotes", (b"From: a@customer.test\r\nTo: support@helpdesk.test\r\nSubject: q\r\nMessage-ID: <q@c>\r\n"
                       b"Content-Type: text/html\r\n\r\n" + b"<blockquote>" * 50_000 + b"request")),
    ("100,000 parameters", _multipart(b"--b\r\nContent-Type: text/plain; " + b"a=b; " * 100_000 + b"\r\n\r\nrequest\r\n--b--\r\n",
                                      "params@c")),
    ("60,000 references", mail(message_id="<refs@c>", headers={"References": " ".join(f"<{i}@c>" for i in range(60_000))})),
])
def test_a_costly_mail_becomes_a_ticket_with_its_cuts_named(db, inbound, name, raw):
    assert inbound(raw) == {"batchItemFailures": []}
    assert _kept(db)[0] == 1, name
    metadata = db.query_one("SELECT metadata FROM ticket_messages")["metadata"]
    assert any("cut" in d or "nested" in d for d in metadata["defects"]), metadata["defects"]


def test_a_mail_reusing_our_message_id_is_quarantined_as_suspicious(db, clock, inbound, outbound):
    inbound(mail(frm="carol@customer.test", message_id="<first@customer.test>"))
    [ticket] = _tickets(db)
    agent = _agent(db)
    reply = TicketCommands(db, clock).add_message(
        ticket["id"], {"body": "Done.", "visibility": "public", "author_type": "agent", "author_agent_id": agent},
        Actor(type="agent", id=agent))
    outbound([e for e in reply.events if e["event_type"] == "outbound.requested"])
    ours = db.query("SELECT message_id FROM email_message_ids WHERE kind IN ('generated', 'ses')")
    assert len(ours) == 2
    for n, row in enumerate(ours):  # a forged mail under each id we gave our own mail (no loop header)
        forged = mail(frm="mallory@evil.test", message_id=f"<{row['message_id']}>", subject=f"Forged {n}")
        assert inbound(forged) == {"batchItemFailures": []}
        assert inbound(forged) == {"batchItemFailures": []}  # redelivered: still one row
    tickets, quarantined = _kept(db)
    assert tickets == 1 and [q["reason"] for q in quarantined] == ["suspicious", "suspicious"]
    assert all("reuses the Message-ID of a mail we sent" in q["detail"] for q in quarantined)
    assert db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE author_type = 'customer'")["n"] == 1


def test_a_content_failure_while_storing_is_quarantined_with_its_reason(db, inbound, monkeypatch):
    from helpdesk.intake.email import service

    def refuse(*args, **kwargs):
        raise errors.DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', sqlstate="22021")

    monkeypatch.setattr(service, "open_ticket", refuse)
    assert inbound(mail(message_id="<store@c>"), key="inbound/store-fails") == {"batchItemFailures": []}
    tickets, quarantined = _kept(db)
    assert tickets == 0 and [(q["reason"], q["raw_key"]) for q in quarantined] == [("store_failed", "inbound/store-fails")]
    assert "0x00" in quarantined[0]["detail"]
    # listed for admins, and a redelivery adds nothing
    assert inbound(mail(message_id="<store@c>"), key="inbound/store-fails") == {"batchItemFailures": []}
    assert len(_kept(db)[1]) == 1


def test_a_passing_failure_is_retried_not_quarantined(db, inbound, monkeypatch):
    from helpdesk.intake.email import service

    def unavailable(*args, **kwargs):
        raise errors.DatabaseUnavailable("the cluster is resuming")

    monkeypatch.setattr(service, "open_ticket", unavailable)
    result = inbound(mail(message_id="<later@c>"))
    assert len(result["batchItemFailures"]) == 1 and _kept(db) == (0, [])


def test_records_not_started_in_time_are_handed_back_and_the_rest_are_done(db, aws, inbound):
    from functions.inbound_email import handler as module

    class Clock(LambdaContext):
        # ms left: once when the handler bounds its database retries, then when each record starts
        left = [60_000, 60_000, 40_000, 14_000, 9_000]

        def get_remaining_time_in_millis(self) -> int:
            return self.left.pop(0) if self.left else 0

    records = []
    for i in range(4):
        key = f"inbound/late-{i}"
        aws["s3"].put_object(Bucket=RAW, Key=key, Body=mail(message_id=f"<late{i}@c>", subject=f"Late {i}"))
        body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": RAW}, "object": {"key": key}}}]}
        records.append({"messageId": f"m{i}", "receiptHandle": "r", "body": json.dumps(body),
                        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
                        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:inbound", "awsRegion": "us-east-1"})
    result = module.handler({"Records": records}, Clock(function_name="test"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    assert [t["subject"] for t in _tickets(db)] == ["Late 0", "Late 1"]


def test_a_mail_nested_beyond_what_is_parsed_is_quarantined_at_once(db, inbound):
    deep = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(1_000))
    assert inbound(_multipart(deep.replace(b"--b0\r\n", b"--b\r\n", 1), "deep@c"), key="inbound/deep") == \
        {"batchItemFailures": []}
    tickets, quarantined = _kept(db)
    assert tickets == 0 and [(q["reason"], q["raw_key"]) for q in quarantined] == [("unparseable", "inbound/deep")]
    assert "multipart boundaries declared" in quarantined[0]["detail"]

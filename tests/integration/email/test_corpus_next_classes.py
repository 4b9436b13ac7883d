"""Real mails of the five classes of issue 25, each through the whole inbound path (the raw mail as
SES stores it in S3, its S3 event on SQS, functions/inbound_email) and, where the class is about our
answer, through functions/outbound to SES:

- threading: our reply's In-Reply-To/References are msg-id lists in the raw bytes (never encoded-words)
- bulk: newsletters and list mail are quarantined, or tickets tagged "bulk" that get no acknowledgement
- forward: the mail that opens a ticket keeps its whole content (an inline or attached forward)
- broken_headers: a damaged header block still yields From, Subject and Message-ID
- international: RFC 6532 addresses open tickets; the domain is stored in ASCII

The mails are in tests/corpora/email/<source>/ (SOURCE.md names the upstream files and licences;
expected.json holds the expectations), plus the forwarded mails of the shared email_reply_trimmer
corpus read in place.
"""
from __future__ import annotations

import json
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from helpdesk.outbound.email import NO_SMTPUTF8
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor, display_email

from .conftest import DOMAIN
from .test_handlers import _agent, _created_events, _tickets, outbound, sent_messages  # noqa: F401

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "email"
SOURCES = ("spamscope_mail_parser", "mail_gem")


def _cases() -> list[tuple[str, str, dict]]:
    cases = []
    for source in SOURCES:
        expected = json.loads((CORPUS / source / "expected.json").read_text())
        for name, expect in expected.items():
            if "class" in expect:  # the mails of issue 25's classes (test_corpus.py runs every mail)
                cases.append((expect["class"], f"{source}/{name}", expect))
    return sorted(cases)


CASES = _cases()


def _raw(path: str) -> bytes:
    return (CORPUS / path).read_bytes()


def _first_message(db, ticket_id) -> dict:
    return db.query_one("SELECT body, body_full, metadata FROM ticket_messages WHERE ticket_id = :t::uuid "
                        "ORDER BY position LIMIT 1", {"t": ticket_id})


def _raw_sent(message) -> bytes:
    return message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data


def _reply(db, clock, ticket_id, body: str = "Thanks, we are on it."):
    agent = _agent(db)
    result = TicketCommands(db, clock).add_message(
        ticket_id, {"body": body, "visibility": "public", "author_type": "agent", "author_agent_id": agent},
        Actor(type="agent", id=agent))
    return [e for e in result.events if e["event_type"] == "outbound.requested"]


def _use_bulk_setting(value: str) -> None:
    from functions.inbound_email import handler as module

    module.intake().bulk_mail = value


@pytest.mark.parametrize(("kind", "path", "expect"), CASES, ids=[f"{k}:{p}" for k, p, _ in CASES])
def test_corpus_mail(db, clock, inbound, outbound, kind, path, expect):
    assert inbound(_raw(path)) == {"batchItemFailures": []}
    tickets = _tickets(db)
    if kind == "bulk":
        # default setting: kept in quarantine as bulk, no ticket, nothing mailed
        row = db.query_one("SELECT reason, from_email, subject FROM email_quarantine")
        assert tickets == [] and row["reason"] == "bulk"
        assert (row["from_email"], row["subject"].strip()) == (expect["from"], expect["subject"])
        return
    [ticket] = tickets
    assert ticket["subject"] == expect["subject"]
    first = _first_message(db, ticket["id"])
    requester = db.query_one("SELECT c.email FROM tickets t JOIN customers c ON c.id = t.requester_id "
                             "WHERE t.id = :t::uuid", {"t": ticket["id"]})["email"]
    assert display_email(requester) == expect["from"]
    for text in expect.get("body_contains", []):
        assert text in first["body"], text
    if "message_id" in expect:
        assert first["metadata"]["header_message_id"] == expect["message_id"]
    if kind == "international":
        assert requester == expect["stored_as"] and first["metadata"]["from"] == expect["from"]
        before = len(sent_messages())
        sent = outbound(_reply(db, clock, ticket["id"]))
        assert sent == {"batchItemFailures": []} and len(sent_messages()) == before  # SES cannot take it
        row = db.query_one("SELECT state, last_error FROM email_outbound WHERE kind <> 'ack'")
        assert (row["state"], row["last_error"]) == ("skipped", NO_SMTPUTF8)


@pytest.mark.parametrize("name", ["mail_test_13.eml", "mail_test_6.eml", "mail_test_5.eml"])
def test_bulk_mail_as_a_ticket_is_tagged_and_never_acknowledged(db, inbound, outbound, name):
    _use_bulk_setting("ticket")
    inbound(_raw(f"spamscope_mail_parser/{name}"))
    [ticket] = _tickets(db)
    row = db.query_one("SELECT tags FROM tickets WHERE id = :t::uuid", {"t": ticket["id"]})
    assert "bulk" in row["tags"]
    before = len(sent_messages())
    assert outbound(_created_events(db)) == {"batchItemFailures": []}
    assert len(sent_messages()) == before


def test_reply_to_a_long_real_message_id_threads_in_the_customers_client(db, clock, inbound, outbound):
    """threading: the Mailchimp id of mail_test_13 (93 characters) makes an In-Reply-To line of 108."""
    _use_bulk_setting("ticket")
    raw = _raw("spamscope_mail_parser/mail_test_13.eml")
    inbound(raw)
    [ticket] = _tickets(db)
    customer_id = message_from_bytes(raw, policy=policy.default)["Message-ID"].strip()
    before = len(sent_messages())
    outbound(_reply(db, clock, ticket["id"]))
    [sent] = sent_messages()[before:]
    head = _raw_sent(sent).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert b"=?" not in head
    assert f"In-Reply-To: {customer_id}".encode() in head
    assert f"References: {customer_id}".encode() in head


@pytest.mark.parametrize("name", ["forwarded_gmail", "forwarded_apple", "forwarded_message"])
def test_forwarded_request_keeps_the_forwarded_content(db, inbound, corpora, name):
    """forward: the email_reply_trimmer forwards (the forwarder's line, then the forwarded mail)."""
    text = (corpora / "email_reply_trimmer" / "test" / "emails" / f"{name}.txt").read_text()
    raw = (f"From: Fay <fay@customer.test>\r\nTo: support@{DOMAIN}\r\nSubject: Fwd: This email is going to be "
           f"forwarded\r\nMessage-ID: <{uuid.uuid4().hex}@customer.test>\r\nContent-Type: text/plain; charset=utf-8"
           f"\r\n\r\n{text}").encode()
    inbound(raw)
    [ticket] = _tickets(db)
    body = _first_message(db, ticket["id"])["body"]
    assert [line for line in text.splitlines() if line.strip() and line.strip() not in body] == []

"""Every real mail of tests/corpora/email/*/ through the whole inbound path: an SES-shaped S3 object
and its S3 event on SQS into functions/inbound_email (some also through the local SMTP front first),
then the ticket, message, attachments or quarantine row it became checked against the upstream
project's own expectations (expected.json beside the mails; see tests/corpora/email/README.md)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpdesk.intake.email.classify import classify
from helpdesk.intake.email.parse import parse_email
from helpdesk.outbound.tokens import reply_address

from .conftest import DOMAIN, SIGNING_KEYS, mail

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "email"
# Through the local SMTP front as well (a bounce with a null sender, clients, charsets, attachments).
VIA_SMTP = {"chatwoot/bounced_with_no_from.eml", "talon/gmail.eml", "mail_gem/multi_charset__japanese_iso_2022.eml",
            "mail_gem/attachment__attachment_with_unquoted_name.eml", "mail_gem/multipart_report__report_530.eml",
            "sisimai/rfc3834-03.eml", "sisimai/lhost-postfix-01.eml"}


# Where our design deliberately differs from an upstream expectation: talon's reply extraction keeps
# the signature under the reply; ours also drops it (as email_reply_trimmer's expectations do), so
# the body is the upstream reply up to its signature.
REPLY_WITHOUT_SIGNATURE = {"talon/iphone.eml", "talon/sparrow.eml"}


def _cases() -> list[tuple[str, dict]]:
    cases = []
    for expected in sorted(CORPUS.glob("*/expected.json")):
        for name, expect in sorted(json.loads(expected.read_text(encoding="utf-8")).items()):
            cases.append((f"{expected.parent.name}/{name}", expect))
    return cases


CASES = _cases()


def test_the_corpus_is_in_the_tree_with_its_sources():
    assert len(CASES) >= 40
    for folder in {c.split("/")[0] for c, _ in CASES}:
        files = {p.name for p in (CORPUS / folder).iterdir()}
        assert {"SOURCE.md", "expected.json"} <= files and any("LICENSE" in f for f in files), folder
        listed = set(json.loads((CORPUS / folder / "expected.json").read_text(encoding="utf-8")))
        assert listed == {f for f in files if f.endswith(".eml")}, f"{folder}: every mail has expectations"


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _check(db, raw: bytes, expect: dict, case: str) -> None:
    tickets = db.query("SELECT id, subject, requester_id FROM tickets")
    if expect.get("class") == "bulk":  # a newsletter or list mail: kept in quarantine by default, never a ticket
        assert tickets == []
        [row] = db.query("SELECT reason FROM email_quarantine")
        assert row["reason"] == "bulk"
        return
    if expect.get("auto") is True:
        assert tickets == [], "an automatic mail never opens a ticket"
        [row] = db.query("SELECT reason, metadata FROM email_quarantine")
        assert row["reason"] == "auto_reply_unmatched"
        if "kind" in expect:
            assert classify(parse_email(raw)).kind.value == expect["kind"]
        got = [{k: (d.get(k) or "").lower() for k in ("recipient", "action", "status")}
               for d in (row["metadata"] or {}).get("delivery_status") or []]
        for block in expect.get("delivery_status", []):
            assert {k: v.lower() for k, v in block.items()} in got
        return
    assert len(tickets) == 1, "a person's mail opens exactly one ticket (or threads into the one it answers)"
    if "reply" in expect:  # answers our mail: its new text above the quoted history is the message
        body = db.query_one("SELECT body FROM ticket_messages ORDER BY position DESC LIMIT 1")["body"].strip()
        if case in REPLY_WITHOUT_SIGNATURE:
            assert body and expect["reply"].startswith(body)
            rest = expect["reply"][len(body):].strip()
            assert re.fullmatch(r"(?:-- ?\n)?(?:[^\n]*\n)*?Sent (?:from|with) [^\n]*", rest), "only the signature is left out"
        else:
            assert body == expect["reply"].strip()
        return
    [ticket] = tickets
    [message] = db.query("SELECT body, body_full, attachments, metadata FROM ticket_messages WHERE ticket_id = :t::uuid",
                         {"t": str(ticket["id"])})
    customer = db.query_one("SELECT email, name FROM customers WHERE id = :c::uuid", {"c": str(ticket["requester_id"])})
    meta = message["metadata"]
    if "from" in expect:  # stored_as: an international domain is stored in its ASCII form
        assert customer["email"] == expect.get("stored_as", expect["from"]).lower()
    if "from_name" in expect:
        assert customer["name"] == expect["from_name"]
    if "subject" in expect:
        assert ticket["subject"] == _fold(expect["subject"])
    for key in ("to", "cc"):
        if key in expect:
            assert meta[key] == [a.lower() for a in expect[key]]
    if "message_id" in expect:
        assert meta["header_message_id"] == expect["message_id"]
    for key in ("in_reply_to", "references"):
        if key in expect:
            assert meta[key] == expect[key]
    attachments = message["attachments"] or []
    if isinstance(expect.get("attachments"), int):  # a count
        assert len(attachments) == expect["attachments"]
    elif "attachments" in expect:  # the file names
        assert sorted(a["filename"] for a in attachments) == sorted(expect["attachments"])
    if "attachment_sizes" in expect:
        assert sorted(a["size"] for a in attachments) == sorted(expect["attachment_sizes"])
    text = (message["body"] or "") + "\n" + (message["body_full"] or "")
    for fragment in expect.get("body_contains", []):
        assert fragment in text


def _answered_ticket(db, inbound, expect: dict) -> list[str] | None:
    """For a reply (expect["reply"]): a ticket it answers, opened first; the envelope it is delivered
    to (that ticket's signed reply address). None for a mail that opens a conversation."""
    if "reply" not in expect:
        return None
    inbound(mail(message_id="<opening@customer.test>"))
    return [reply_address(db.query_one("SELECT id FROM tickets")["id"], DOMAIN, SIGNING_KEYS)]


@pytest.mark.parametrize(("case", "expect"), CASES, ids=[c for c, _ in CASES])
def test_corpus_mail_through_the_inbound_handler(db, inbound, case, expect):
    raw = (CORPUS / case).read_bytes()
    envelope = _answered_ticket(db, inbound, expect)
    assert inbound(raw, envelope) == {"batchItemFailures": []}
    _check(db, raw, expect, case)
    assert inbound(raw, envelope) == {"batchItemFailures": []}, "redelivery"
    opened = 0 if expect.get("auto") is True or expect.get("class") == "bulk" else 1
    assert len(db.query("SELECT id FROM tickets")) == opened, "redelivery changes nothing"


@pytest.mark.parametrize(("case", "expect"), [c for c in CASES if c[0] in VIA_SMTP], ids=[c for c, _ in CASES if c in VIA_SMTP])
def test_corpus_mail_through_the_local_smtp_front(db, inbound, smtp_front, case, expect):
    raw = (CORPUS / case).read_bytes()
    envelope = _answered_ticket(db, inbound, expect)
    as_stored = smtp_front(raw, envelope_from="" if expect.get("auto") else "sender@customer.test", to=envelope)
    assert inbound(as_stored, envelope) == {"batchItemFailures": []}
    _check(db, as_stored, expect, case)

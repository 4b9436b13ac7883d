"""MIME parsing and classification against the zammad and chatwoot corpora, plus our own cases."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpdesk.intake.email.classify import Kind, classify
from helpdesk.intake.email.parse import MAX_ATTACHMENTS, decode_iso2022jp_cp50220, parse_email


def _cases(corpora):
    return json.loads((corpora / "zammad_mail" / "expected.json").read_text())["cases"]


def test_zammad_headers_and_attachments(corpora):
    for case in _cases(corpora):
        mail = parse_email((corpora / "zammad_mail" / case["raw"]).read_bytes())
        expected = case["expected"]
        assert mail.from_email == expected["from_email"].lower(), case["id"]
        assert mail.subject == expected["subject"], case["id"]
        if expected.get("from_display_name") and case["id"] not in ("mail065", "mail075"):
            assert mail.from_name == expected["from_display_name"], case["id"]
        if expected.get("reply-to"):
            assert mail.reply_to == [expected["reply-to"]]
        ours = {a.sha256 for a in mail.attachments}
        for att in case.get("expected_attachments", []):
            if att["zammad_alternative_copy"] or att["mime_type"] in ("message/rfc822", "multipart/mixed"):
                continue  # Zammad's own copy of the HTML; .eml bytes differ by line endings; 'file' is Zammad's naming
            assert att["sha256"] in ours, (case["id"], att["filename"])
        assert mail.message_id, case["id"]


def test_specific_zammad_details(corpora):
    by_id = {c["id"]: c for c in _cases(corpora)}
    read = lambda i: parse_email((corpora / "zammad_mail" / by_id[i]["raw"]).read_bytes())  # noqa: E731
    assert "①１都３県の鯵" in read("mail099").text  # CP50220 ISO-2022-JP
    assert "このアドレスへのメルマガを解除してください" in read("mail091").text
    related = read("mail079")
    assert [(a.filename, a.inline) for a in related.attachments] == [("a.jpg", True)]
    assert related.html and "<script" not in related.html
    assert read("mail089").text.strip()  # truncated multipart still yields its text
    assert read("mail096").header_message_id is None and read("mail096").message_id.endswith("synthetic.helpdesk.invalid")
    assert read("mail075").text and "test 123" in read("mail075").text  # HTML-only: text derived
    dsn = read("mail033-undelivered-mail-returned-to-sender-notification")
    assert dsn.content_type == "multipart/report" and dsn.report_type == "delivery-status"
    assert any(a.filename.endswith(".eml") for a in dsn.attachments)


def test_classification_of_corpora(corpora):
    by_id = {c["id"]: c for c in _cases(corpora)}
    kinds = {i: classify(parse_email((corpora / "zammad_mail" / c["raw"]).read_bytes())).kind for i, c in by_id.items()}
    assert kinds.pop("mail033-undelivered-mail-returned-to-sender-notification") is Kind.BOUNCE
    assert kinds.pop("mail089") is Kind.AUTO_REPLY
    assert set(kinds.values()) == {Kind.PERSON}
    bounce = parse_email((corpora / "chatwoot_autoreply" / "bounced_with_no_from.eml").read_bytes())
    assert bounce.from_email is None and classify(bounce).kind is Kind.BOUNCE


def _headers_mail(headers: dict[str, str]) -> bytes:
    lines = [f"{k}: {v}" for k, v in headers.items() if not k.startswith("Content-Type")]
    return ("\r\n".join(lines + ["Content-Type: text/plain", "", "Hello", ""])).encode()


def test_chatwoot_autoreply_vectors(corpora):
    doc = json.loads((corpora / "chatwoot_autoreply" / "vectors.json").read_text())
    for case in doc["cases"]:
        if "headers" not in case:
            continue
        kind = classify(parse_email(_headers_mail(case["headers"]))).kind
        assert (kind is Kind.AUTO_REPLY) == case["expected"]["auto_reply"], case["id"]
    welcome = {"From": "Sony Mathew <Sony@chatwoot.com>", "Subject": "Discussion", "Message-Id": "<w@c>"}
    assert classify(parse_email(_headers_mail(welcome))).kind is Kind.PERSON


@pytest.mark.parametrize("header,value,kind", [
    ("X-Helpdesk-Loop", "helpdesk.test", Kind.LOOP), ("Auto-Submitted", "auto-replied", Kind.AUTO_REPLY),
    ("Auto-Submitted", "no", Kind.PERSON), ("Precedence", "junk", Kind.AUTO_REPLY), ("X-Autorespond", "yes", Kind.AUTO_REPLY),
    ("Return-Path", "<>", Kind.AUTO_REPLY), ("X-SES-Spam-Verdict", "FAIL", Kind.SPAM), ("X-SES-Virus-Verdict", "FAIL", Kind.VIRUS),
    ("X-SES-Spam-Verdict", "PASS", Kind.PERSON)])
def test_classification_signals(header, value, kind):
    raw = _headers_mail({"From": "a@b.test", "Subject": "x", header: value})
    assert classify(parse_email(raw)).kind is kind


def test_mailer_daemon_is_a_bounce():
    assert classify(parse_email(_headers_mail({"From": "MAILER-DAEMON@mx.test", "Subject": "x"}))).kind is Kind.BOUNCE


def test_rfc2047_and_forwarded_and_limits():
    from email.message import EmailMessage

    inner = EmailMessage()
    inner["From"] = "Bob <bob@x.test>"
    inner["Subject"] = "Order 42"
    inner.set_content("Your order shipped")
    outer = EmailMessage()
    outer["From"] = "=?utf-8?b?SsO8cmdlbg==?= <j@x.test>"
    outer["Subject"] = "=?iso-8859-1?q?Gr=FC=DFe?="
    outer.set_content("see below")
    outer.add_attachment(inner)
    for i in range(MAX_ATTACHMENTS + 2):
        outer.add_attachment(b"x" * 10, maintype="application", subtype="octet-stream", filename=f"f{i}.bin")
    mail = parse_email(outer.as_bytes())
    assert mail.from_name == "Jürgen" and mail.subject == "Grüße"
    assert "Your order shipped" in mail.text and mail.forwarded[0]["subject"] == "Order 42"
    assert len(mail.attachments) == MAX_ATTACHMENTS and len(mail.skipped_attachments) == 3


def test_html_only_is_sanitized_and_has_text():
    raw = (b"From: a@b.test\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<p>Hi <b>there</b></p><script>alert(1)</script><img src=x onerror=alert(1)>"
           b"<blockquote>old stuff</blockquote>")
    mail = parse_email(raw)
    assert "script" not in mail.html and "onerror" not in mail.html
    assert mail.reply_text == "Hi there"


def test_cp50220_decoder():
    assert decode_iso2022jp_cp50220(b"\x1b$B-!\x1b(B") == "①"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_parser_never_raises_on_bytes(raw):
    mail = parse_email(raw)
    assert mail.message_id
    classify(mail)


_SEED = (b"From: Alice <a@b.test>\r\nTo: support@helpdesk.test\r\nSubject: =?utf-8?q?h=C3=A9llo?=\r\n"
         b"Message-ID: <x@y>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
         b"--BB\r\nContent-Type: multipart/alternative; boundary=\"AA\"\r\n\r\n--AA\r\nContent-Type: text/plain; "
         b"charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHall=F6\r\n--AA\r\n"
         b"Content-Type: text/html\r\n\r\n<p>Hall&ouml;</p>\r\n--AA--\r\n--BB\r\nContent-Type: image/png; name=a.png\r\n"
         b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.png\r\n\r\niVBORw0KGgo=\r\n--BB--\r\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_SEED) - 1), st.binary(max_size=8), st.integers(0, 8)), max_size=6))
def test_parser_never_raises_on_mutated_mail(edits):
    raw = bytearray(_SEED)
    for position, insert, delete in edits:
        raw[position:position + delete] = insert
    mail = parse_email(bytes(raw))
    assert mail.message_id
    classify(mail)


def test_chatwoot_bounce_delivery_status(corpora):
    doc = json.loads((corpora / "chatwoot_autoreply" / "vectors.json").read_text())
    expected = next(c for c in doc["cases"] if c["id"] == "chatwoot-bounced_with_no_from")["expected"]
    mail = parse_email((corpora / "chatwoot_autoreply" / "bounced_with_no_from.eml").read_bytes())
    assert (classify(mail).kind is Kind.BOUNCE) == expected["is_bounce"]
    assert mail.from_email == expected["from_email"]
    [status] = mail.delivery_status
    assert status["recipient"] == expected["failed_recipient"] and status["status"] == expected["status"]


@pytest.mark.parametrize("header", [
    b"Content-Type: text/plain; charset*",           # the standard library's parser raises IndexError
    b"Content-Type: text/plain; name*",
    b"Content-Type: multipart/mixed; boundary=\"BB\"; x*",
])
def test_a_header_the_standard_parser_crashes_on_is_kept_as_text(header):
    raw = b"From: a@b.test\r\nMessage-ID: <m@b.test>\r\nMIME-Version: 1.0\r\n" + header + b"\r\n\r\n"
    raw += b"--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BB--\r\n" if b"multipart" in header else b"hello"
    mail = parse_email(raw)
    kept = mail.text + "".join(a.data.decode() for a in mail.attachments)
    assert "hello" in kept  # as the text, or as the part the broken header names
    assert mail.defects.count("Content-Type header could not be parsed; kept as text") == 1

"""Parsing a hostile or damaged mail: bounded work (caps on header fields, MIME parameters, HTML size
and nesting), NULs gone from everything parsed, a broken header block recovered, bulk mail named."""
from __future__ import annotations

import pytest

from helpdesk.intake.email.classify import Kind, classify
from helpdesk.intake.email.limits import (MAX_HEADER_CHARS, MAX_HTML_CHARS, MAX_HTML_DEPTH, MAX_MIME_PARAMS,
                                          bound_html, scrub)
from helpdesk.intake.email.parse import parse_email
from helpdesk.intake.email.repair import obsolete_address, repair_header_block
from helpdesk.tickets.models import display_email, normalize_email

HEAD = b"From: Ann <ann@customer.test>\r\nTo: support@helpdesk.test\r\nMessage-ID: <h1@customer.test>\r\n"


def _mail(headers: bytes, body: bytes = b"Hello", ctype: bytes = b"text/plain; charset=utf-8") -> bytes:
    return HEAD + headers + b"Content-Type: " + ctype + b"\r\n\r\n" + body


# -- bounded cost -------------------------------------------------------------------------------
def test_a_megabyte_folded_subject_is_cut_as_it_is_read():
    subject = b"Subject: " + b"\r\n ".join([b"word =?utf-8?q?caf=C3=A9?= more"] * 30_000) + b"\r\n"
    mail = parse_email(_mail(subject))
    assert mail.subject.startswith("word café more") and len(mail.subject) <= MAX_HEADER_CHARS
    assert any(d.startswith("Subject header of") for d in mail.defects)
    assert mail.from_email == "ann@customer.test" and mail.text == "Hello"


def test_references_keep_their_latest_ids_when_cut():
    ids = [f"<{i}@customer.test>" for i in range(5_000)]
    mail = parse_email(_mail(b"Subject: x\r\nReferences: " + " ".join(ids).encode() + b"\r\n"))
    assert mail.references[-1] == "4999@customer.test" and len(mail.references) < 5_000
    assert all(r.endswith("@customer.test") for r in mail.references)  # cut between ids


def test_a_part_with_thousands_of_parameters_keeps_its_first_ones():
    raw = _mail(b"Subject: x\r\n", b"--b\r\nContent-Type: text/plain; charset=utf-8; " + b"a=b; " * 100_000 +
                b"\r\n\r\nhello part\r\n--b--\r\n", ctype=b"multipart/mixed; boundary=b")
    mail = parse_email(raw)
    assert mail.text == "hello part"
    assert any(f"cut to {MAX_MIME_PARAMS}" in d for d in mail.defects)


def test_deeply_nested_html_is_flattened_below_the_depth_limit_and_keeps_its_text():
    html = "<div>" * 80_000 + "the request" + "</div>" * 80_000  # 0.9 MB: under the size cap
    bounded, notes = bound_html(html)
    assert bounded.count("<div>") == MAX_HTML_DEPTH and bounded.count("</div>") == MAX_HTML_DEPTH
    assert "the request" in bounded and notes
    mail = parse_email(_mail(b"Subject: x\r\n", html.encode(), ctype=b"text/html; charset=utf-8"))
    assert mail.text == "the request" and "the request" in mail.html


def test_unclosed_and_void_elements_do_not_count_as_nesting():
    html = "<table>" + "<tr><td>cell<br><img src='cid:x'><p>para" * 5_000 + "</table>"
    assert bound_html(html) == (html, [])


def test_html_beyond_the_size_cap_is_cut():
    bounded, notes = bound_html("<p>" + "x" * (MAX_HTML_CHARS + 10))
    assert len(bounded) == MAX_HTML_CHARS and notes == [f"HTML of {MAX_HTML_CHARS + 13} characters cut to {MAX_HTML_CHARS}"]


# -- NUL bytes ----------------------------------------------------------------------------------
def test_nul_bytes_anywhere_are_gone_from_the_parsed_mail():
    raw = (b"From: Ann\x00 <ann@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: hi\x00there\r\n"
           b"Message-ID: <n\x00ul@customer.test>\r\nIn-Reply-To: <a\x00b@x>\r\nX-Odd\x00: v\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\x00; charset=utf-8\r\n\r\nbody\x00text\r\n"
           b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
           b"Final-Recipient: rfc822; x\x00y@customer.test\r\nAction: failed\x00\r\nStatus: 5.0.0\r\n"
           b"--b\r\nContent-Type: image/png\x00; name=\"a\x00.png\"\r\nContent-ID: <c\x00id@x>\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
           b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <emb\x00edded@helpdesk.test>\r\n--b--\r\n")
    mail = parse_email(raw)

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from strings(v)
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from strings(k)
                yield from strings(v)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                yield from strings(getattr(value, name))

    found = [s for s in strings(mail) if "\x00" in s]
    assert found == []
    assert mail.message_id == "nul@customer.test" and mail.in_reply_to == ["ab@x"]
    assert mail.embedded_message_ids == ["embedded@helpdesk.test"]
    assert mail.delivery_status[0]["recipient"] == "xy@customer.test"
    assert any(a.content_id == "cid@x" for a in mail.attachments)
    assert any(a.data == b"\x00\x01\x02" for a in mail.attachments)  # contents are bytes: left whole


def test_scrub_leaves_bytes_and_clean_strings_alone():
    assert scrub({"a\x00": ["b\x00", b"\x00"], "c": 1}) == {"a": ["b", b"\x00"], "c": 1}


# -- damaged header blocks ----------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "note"), [
    (b"relay banner without a colon\r\nFrom: Ann <ann@x.test>\r\nSubject: Printer\r\nMessage-ID: <a@x.test>\r\n\r\nHi",
     "header line 1 is not a header field: skipped"),
    (b"From: Ann <ann@x.test>\r\nSubject: Printer\r\nbroken continuation\r\nMessage-ID: <a@x.test>\r\n\r\nHi",
     "header line 3 is not a header field: joined to the field above"),
    (b"From : Ann <ann@x.test>\nSubject  : Printer\nMessage-ID\t: <a@x.test>\n\nHi",
     "header line 1: white space before the colon removed"),
])
def test_a_damaged_header_block_keeps_from_subject_and_message_id(raw, note):
    mail = parse_email(raw)
    assert (mail.from_email, mail.subject.split(" broken")[0], mail.header_message_id) == ("ann@x.test", "Printer", "a@x.test")
    assert note in mail.defects and mail.text == "Hi"


def test_a_missing_blank_line_starts_the_body_at_the_first_line_after_the_fields():
    fixed, notes = repair_header_block(b"From: a@x.test\nSubject: s\nHello: not a field? no, text\nmore text\n")
    assert fixed == b"From: a@x.test\nSubject: s\nHello: not a field? no, text\n\nmore text\n"
    assert notes == ["no blank line after the headers: the body starts at line 4"]


def test_intact_and_headerless_mail_is_left_as_it_is():
    for raw in (b"From: a@x.test\r\nSubject: s\r\n\r\nbody: with a colon\r\nplain", b"just text\r\nno headers at all"):
        assert repair_header_block(raw) == (raw, [])


def test_obsolete_address_syntax():
    assert obsolete_address("John Doe <jdoe@machine(comment).  example>") == "jdoe@machine.example"
    assert obsolete_address("no address here") is None


# -- bulk mail ----------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [b"List-Unsubscribe: <https://x.test/u>", b"List-Id: <news.x.test>",
                                    b"List-Post: <mailto:list@x.test>", b"X-Campaign: mailchimp1.2",
                                    b"X-MC-User: abc", b"X-Mailer: MailChimp Mailer - **CID1**"])
def test_list_and_campaign_headers_make_bulk_mail(header):
    kind = classify(parse_email(_mail(header + b"\r\nSubject: News\r\nPrecedence: bulk\r\n")))
    assert kind.kind is Kind.BULK and not kind.automatic


def test_a_person_is_not_bulk():
    assert classify(parse_email(_mail(b"Subject: help\r\nX-Mailer: Microsoft Outlook 16.0\r\n"))).kind is Kind.PERSON


# -- international addresses --------------------------------------------------------------------
@pytest.mark.parametrize(("given", "stored", "shown"), [
    ("jdöe@mächine.example", "jdöe@xn--mchine-bua.example", "jdöe@mächine.example"),
    ("JDÖE@MÄCHINE.EXAMPLE", "jdöe@xn--mchine-bua.example", "jdöe@mächine.example"),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", "用户@例子.广告"),
    ("ann@xn--mchine-bua.example", "ann@xn--mchine-bua.example", "ann@mächine.example"),
    ("ann@example.com", "ann@example.com", "ann@example.com"),
])
def test_international_addresses_are_stored_with_ascii_domains(given, stored, shown):
    assert normalize_email(given) == stored and display_email(stored) == shown


@pytest.mark.parametrize("bad", ["a\x00b@x.test", "a@-x.test", "a@ä", "no-at-sign.test", "a@x..test"])
def test_malformed_addresses_are_refused(bad):
    with pytest.raises(ValueError, match="is not an email address"):
        normalize_email(bad)


def test_a_mail_nested_a_thousand_multiparts_deep_is_refused_before_parsing():
    from helpdesk.intake.email.limits import MAX_MULTIPARTS, MailTooComplex

    raw = HEAD + b"Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i - 1, i) for i in range(1, 1_000))
    with pytest.raises(MailTooComplex, match=f"1000 multipart boundaries declared; at most {MAX_MULTIPARTS}"):
        parse_email(raw)

"""Classes of real-world mail that went wrong (issue 17): null senders however written, vacation
replies without RFC 3834 headers, raw 8-bit headers, named text parts and inline uuencoded files,
and SES's SPF/DKIM/DMARC verdicts."""
from __future__ import annotations

import binascii

import pytest

from helpdesk.intake.email.auth import SenderAuth, sender_auth
from helpdesk.intake.email.classify import Kind, classify
from helpdesk.intake.email.parse import parse_email


def _mail(headers: dict[str, str], body: str = "Hello") -> bytes:
    lines = [f"{k}: {v}" for k, v in {"From": "a@b.test", "To": "support@helpdesk.test", "Subject": "x", **headers}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize("return_path", ["<>", "<<>>", "", " < > "])
def test_an_empty_envelope_sender_is_automatic_however_written(return_path):
    assert classify(parse_email(_mail({"Return-Path": return_path}))).automatic


def test_a_real_envelope_sender_is_not():
    assert classify(parse_email(_mail({"Return-Path": "<a@b.test>"}))).kind is Kind.PERSON


@pytest.mark.parametrize("headers", [
    {"X-Apple-Action": "VACATION", "Subject": "Re: My order"},  # iCloud: no Auto-Submitted at all
    {"X-Autoreply": "yes"},
    {"X-Mail-Autoreply": "GMX vacation"},
    {"Subject": "Automatic reply: My order", "X-Auto-Response-Suppress": "All"},  # Exchange without X-MS-*
    {"Subject": "Automatische Antwort: Bestellung", "X-MS-Exchange-Inbox-Rules-Loop": "a@b.test"},
    {"Subject": "Réponse automatique : commande", "X-Mailer": "Zimbra autoresponder"},
    {"Subject": "Out of Office: order", "X-Loop": "a@b.test"},
], ids=["apple", "x-autoreply", "gmx", "exchange-stripped", "exchange-de", "mailer", "x-loop"])
def test_vacation_replies_without_rfc3834_headers(headers):
    assert classify(parse_email(_mail(headers))).kind is Kind.AUTO_REPLY


@pytest.mark.parametrize("subject", ["Automatic reply: My order", "Out of office", "Abwesenheitsnotiz"])
def test_an_out_of_office_subject_alone_is_a_person(subject):
    assert classify(parse_email(_mail({"Subject": subject}))).kind is Kind.PERSON


def test_raw_8bit_latin1_and_utf8_headers_decode():
    latin = b"From: =?iso-8859-1?q?Andr=E9?= <a@b.test>\r\nSubject: Caf\xe9 cr\xe8me \x96 urgent\r\n\r\nbody\r\n"
    mail = parse_email(latin)
    assert mail.subject == "Café crème – urgent"  # Windows-1252 (0x96 is an en dash)
    named = parse_email(b"From: Ren\xe9 M\xfcller <r@b.test>\r\nSubject: \xc3\xa9t\xc3\xa9\r\n\r\nbody\r\n")
    assert named.from_name == "René Müller" and named.from_email == "r@b.test"
    assert named.subject == "été"  # unencoded UTF-8 stays UTF-8


def test_a_named_inline_text_part_is_a_file_with_its_rfc2231_name():
    raw = ("From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the list.\r\n"
           "--B\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: inline;\r\n"
           " filename*0*=utf-8''Pr%C3%BCf; filename*1*=liste%20M%C3%A4rz.csv\r\n\r\n\xef\xbb\xbfa,b\r\n1,2\r\n"
           "--B\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: inline\r\n\r\nnote text\r\n--B--\r\n")
    mail = parse_email(raw.encode("latin-1"))
    assert sorted(a.filename for a in mail.attachments) == ["Prüfliste März.csv", "notes.txt"]
    assert "\ufeff" not in mail.text and "note text" not in mail.text and "a,b" not in mail.text
    assert mail.text.strip() == "See the list."


def test_inline_uuencoded_blocks_become_files():
    block = "begin 644 report.pdf\n" + binascii.b2a_uu(b"%PDF-1.4 tiny").decode() + "`\nend\n"
    mail = parse_email(_mail({}, body=f"Report attached (Lotus Notes).\n\n{block}\nRegards"))
    [att] = mail.attachments
    assert (att.filename, att.data, att.content_type) == ("report.pdf", b"%PDF-1.4 tiny", "application/pdf")
    assert "begin 644" not in mail.text and "Regards" in mail.text


SES = ("amazonses.com; spf=pass (spfCheck: domain of b.test designates 192.0.2.1 as permitted sender) "
       "client-ip=192.0.2.1; envelope-from=a@b.test; helo=mx.b.test; dkim=pass header.i=@b.test; dmarc=pass header.from=b.test;")


def test_ses_verdicts_are_read_from_the_topmost_ses_header_only():
    assert sender_auth(parse_email(_mail({"Authentication-Results": SES}))).vouches_for("b.test")
    # a sender's own forged "amazonses.com" header below another server's is not SES's verdict
    forged = _mail({"Authentication-Results": "mx.other.test; spf=none", "X-Dummy": "1"}).replace(
        b"X-Dummy: 1", f"Authentication-Results: {SES}".encode())
    assert sender_auth(parse_email(forged)) == SenderAuth()
    assert not SenderAuth().vouches_for("b.test")


@pytest.mark.parametrize("results,vouches,rejects", [
    ("dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=b.test", False, True),
    ("dmarc=fail (p=QUARANTINE) header.from=b.test", False, True),
    ("dmarc=fail (p=none) header.from=b.test", False, False),
    ("spf=pass envelope-from=bounce@mail.b.test; dkim=none; dmarc=none", True, False),  # aligned subdomain
    ("spf=pass envelope-from=x@evil.test; dkim=pass header.d=evil.test; dmarc=none", False, False),  # not aligned
    ("spf=softfail envelope-from=a@b.test; dkim=none; dmarc=none", False, False),
])
def test_dmarc_policy_and_alignment(results, vouches, rejects):
    auth = sender_auth(parse_email(_mail({"Authentication-Results": f"amazonses.com; {results}"})))
    assert auth.vouches_for("b.test") is vouches and auth.dmarc_rejects is rejects

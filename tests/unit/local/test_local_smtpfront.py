"""The local SMTP front writes the headers SES writes: the null sender as `<>`, and the verdict
headers (kept from a test sender that wrote its own, so tests can send failing mail)."""
from __future__ import annotations

from email import message_from_bytes, policy

from local.smtpfront import SesInbound


class _Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def put_object(self, **kwargs) -> None:
        self.bodies.append(kwargs["Body"])

    def send_message(self, **kwargs) -> None:
        pass


def _store(mail_from: str, raw: bytes, *, keep: bool = True):
    front = SesInbound(endpoint="http://127.0.0.1:9", inbound_queue_url="q", domains=lambda: {"helpdesk.test"},
                       keep_sender_verdicts=keep)
    front._s3 = front._sqs = recorder = _Recorder()  # noqa: SLF001
    front.store(mail_from, ["support@helpdesk.test"], raw, "mx.customer.test", "192.0.2.1")
    return message_from_bytes(recorder.bodies[0], policy=policy.default)


MAIL = b"From: Alice <alice@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: hi\r\n\r\nhello\r\n"


def test_the_null_sender_is_written_as_ses_writes_it():
    for envelope in ("<>", ""):
        assert _store(envelope, MAIL)["Return-Path"] == "<>"
    assert _store("alice@customer.test", MAIL)["Return-Path"] == "<alice@customer.test>"


def test_verdict_headers_are_stamped_on_top():
    stored = _store("alice@customer.test", MAIL)
    assert stored["X-SES-Spam-Verdict"] == "PASS" and stored["X-SES-Virus-Verdict"] == "PASS"
    assert stored["Authentication-Results"].startswith("amazonses.com; spf=pass")
    assert "dmarc=pass header.from=customer.test" in stored["Authentication-Results"]


def test_a_test_senders_verdicts_are_kept_in_dev():
    failing = (b"Authentication-Results: amazonses.com; spf=fail; dkim=fail;\r\n dmarc=fail (p=REJECT) header.from=customer.test\r\n"
               b"X-SES-Spam-Verdict: FAIL\r\n" + MAIL)
    stored = _store("alice@customer.test", failing)
    assert stored["X-SES-Spam-Verdict"] == "FAIL"  # the first (topmost) header is the one read
    assert stored["Authentication-Results"] == "amazonses.com; spf=fail; dkim=fail; dmarc=fail (p=REJECT) header.from=customer.test"
    assert _store("alice@customer.test", failing, keep=False)["X-SES-Spam-Verdict"] == "PASS"

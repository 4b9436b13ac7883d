"""Trigger mail and Slack delivery: what a provider can never accept is a permanent DeliveryError
(recorded, not retried); an outage is retryable."""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes

import pytest

from helpdesk.auth.signing import Keyring
from helpdesk.clock import FixedClock
from helpdesk.delivery import DeliveryError
from helpdesk.triggers.deliver import TriggerDelivery
from helpdesk.triggers.evaluate import TicketFacts


class Ses:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.sent = error, []

    def send_raw_email(self, **kwargs):
        if self.error:
            raise self.error
        self.sent.append(kwargs)
        return {"MessageId": "ses-1"}


class SesError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


def delivery(ses, slack=None) -> TriggerDelivery:
    return TriggerDelivery(ses_client=ses, clock=FixedClock(datetime(2026, 3, 2, tzinfo=timezone.utc)),
                           support_domain="Example.com", signing_keys=Keyring.single("k" * 32),
                           web_base_url="https://help.example.com", slack=slack)


FACTS = TicketFacts(id="6f1b2f5e-0000-4c5e-9a43-5d2d7e6a0000", number=7, subject="Hi", status="new", priority="normal",
                    channel="email", requester_email="ann@customer.test", requester_name="Ann\r\nBcc: x@evil.test")


def test_the_requester_mail_comes_from_the_team_address_with_the_signed_reply_address():
    ses = Ses()
    assert delivery(ses).mail_requester(FACTS, team_address="billing@example.com", subject="s", body="b",
                                        message_id="m@example.com") == "ses-1"
    [sent] = ses.sent
    mail = message_from_bytes(sent["RawMessage"]["Data"])
    assert sent["Source"] == "billing@example.com" and sent["Destinations"] == ["ann@customer.test"]
    assert mail["Reply-To"].startswith("support+") and mail["Bcc"] is None  # a name cannot add a header
    assert mail["Subject"].endswith("[TKT-7] s") and mail["Auto-Submitted"] == "auto-replied"


@pytest.mark.parametrize("facts, message", [
    (TicketFacts(**{**FACTS.__dict__, "requester_email": None}), "no email address"),
    (TicketFacts(**{**FACTS.__dict__, "requester_email": "jörg@customer.test"}), "non-ASCII local part"),
])
def test_a_requester_we_cannot_mail_is_a_permanent_refusal(facts, message):
    with pytest.raises(DeliveryError, match=message) as caught:
        delivery(Ses()).mail_requester(facts, team_address=None, subject="s", body="b", message_id="m@x")
    assert caught.value.retryable is False


@pytest.mark.parametrize("code, retryable", [("MessageRejected", False), ("Throttling", True), ("ServiceUnavailable", True)])
def test_ses_errors(code, retryable):
    with pytest.raises(DeliveryError) as caught:
        delivery(Ses(SesError(code))).mail_requester(FACTS, team_address=None, subject="s", body="b", message_id="m@x")
    assert caught.value.retryable is retryable


def test_slack_without_a_bot_token_is_refused_not_retried():
    with pytest.raises(DeliveryError, match="Slack is not configured") as caught:
        delivery(Ses()).post_slack("C0ABC", "hi")
    assert caught.value.retryable is False

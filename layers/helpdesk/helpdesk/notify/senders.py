"""Delivery channels: email through SES and Slack DMs through chat.postMessage.

A sender returns the provider's id for what it sent, or raises DeliveryError: `retryable` for an
outage, throttling or a configuration problem that an operator can fix (the SQS message is
retried with backoff and ends in the DLQ); not retryable for a problem with this recipient (an
address SES rejects, a Slack user that does not exist), recorded as rejected and not retried.
"""
from __future__ import annotations

import json
import logging
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sender(Protocol):
    channel: str

    def send(self, message: dict[str, Any]) -> str: ...


# SES errors about this message/recipient: retrying the same mail cannot succeed.
_SES_PERMANENT = {"MessageRejected", "InvalidParameterValue"}


class SesEmailSender:
    """Plain-text mail from the support domain. Sent raw so it carries RFC 3834 `Auto-Submitted`:
    an agent address that forwards to a support address cannot turn a notification into a ticket."""

    channel = "email"

    def __init__(self, ses_client: Any, *, from_address: str, configuration_set: str = "") -> None:
        self.ses = ses_client
        self.from_address = from_address
        self.configuration_set = configuration_set

    def send(self, message: dict[str, Any]) -> str:
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = formataddr((message.get("name") or "", message["to"]))
        mail["Subject"] = message["subject"]
        mail["Message-ID"] = make_msgid(domain=self.from_address.rsplit("@", 1)[-1].rstrip(">"))
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content(message["text"])
        kwargs: dict[str, Any] = {"Source": self.from_address, "Destinations": [message["to"]],
                                  "RawMessage": {"Data": mail.as_bytes()}}
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            return str(self.ses.send_raw_email(**kwargs)["MessageId"])
        except Exception as exc:  # noqa: BLE001 - classified below
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise DeliveryError(f"SES {code}: {exc}", retryable=code not in _SES_PERMANENT) from exc


# Slack errors about this recipient or message; everything else (rate limits, outages, a bad or
# revoked token: an operator fixes it and redrives the DLQ) is retried.
_SLACK_PERMANENT = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "is_archived",
                    "msg_too_long", "no_text", "invalid_blocks", "not_in_channel", "restricted_action"}


class SlackDmSender:
    """chat.postMessage to the agent's Slack user id (a DM from the bot)."""

    channel = "slack"

    def __init__(self, token: Callable[[], str], *, base_url: str = "https://slack.com/api/", timeout: float = 5.0) -> None:
        self.token = token
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def send(self, message: dict[str, Any]) -> str:
        # One Slack Web API client for the product (helpdesk.outbound.slack); imported here because
        # that module imports this one for DeliveryError and SlackSecret.
        from helpdesk.outbound.slack import SlackApi

        answer = SlackApi(self.token, base_url=self.base_url, timeout=self.timeout).call(
            "chat.postMessage", {"channel": message["slack_user_id"], "text": message["text"], "unfurl_links": False})
        return str(answer.get("ts") or "")


class SlackSecret:
    """The bot token from Secrets Manager ({"bot_token", "signing_secret"}), cached for a few minutes
    so a warm Lambda does not call Secrets Manager per message, yet picks up a rotation."""

    def __init__(self, secrets_client: Any, secret_arn: str, *, ttl_seconds: float = 300.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.secrets = secrets_client
        self.secret_arn = secret_arn
        self.ttl = ttl_seconds
        self.now = now
        self._cached: tuple[float, dict[str, Any]] | None = None

    def value(self) -> dict[str, Any]:
        if self._cached and self.now() - self._cached[0] < self.ttl:
            return self._cached[1]
        try:
            doc = json.loads(self.secrets.get_secret_value(SecretId=self.secret_arn)["SecretString"])
        except Exception as exc:  # noqa: BLE001
            raise DeliveryError(f"Slack secret {self.secret_arn} unavailable: {exc}", retryable=True) from exc
        if not isinstance(doc, dict) or not doc.get("bot_token"):
            raise DeliveryError(f"Slack secret {self.secret_arn} has no bot_token", retryable=True)
        self._cached = (self.now(), doc)
        return doc

    def bot_token(self) -> str:
        return str(self.value()["bot_token"])

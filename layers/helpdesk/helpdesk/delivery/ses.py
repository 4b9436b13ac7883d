"""Automatic plain-text mail through SES (agent notifications, chat transcripts)."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from helpdesk.delivery import DeliveryError, header_text

MAX_SUBJECT_CHARS = 900  # SES accepts long (folded) subjects; ours quote a ticket subject of at most 500

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
        # A ticket subject or chat name may hold CR/LF: as a header it would refuse to build (and the
        # notification would be retried into the DLQ) or inject a header.
        mail["To"] = formataddr((header_text(message.get("name")), message["to"]))
        mail["Subject"] = header_text(message["subject"], MAX_SUBJECT_CHARS)
        mail["Message-ID"] = make_msgid(domain=self.from_address.rsplit("@", 1)[-1].rstrip(">"))
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content(message["text"])
        return send_raw_mail(self.ses, source=self.from_address, to=message["to"], data=mail.as_bytes(),
                             configuration_set=self.configuration_set)


def send_raw_mail(ses: Any, *, source: str, to: str, data: bytes, configuration_set: str | None) -> str:
    """Sends one built mail with SES; its MessageId, or a DeliveryError that says whether a retry can help."""
    kwargs: dict[str, Any] = {"Source": source, "Destinations": [to], "RawMessage": {"Data": data}}
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    try:
        return str(ses.send_raw_email(**kwargs)["MessageId"])
    except Exception as exc:  # noqa: BLE001 - classified below
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise DeliveryError(f"SES {code}: {exc}", retryable=code not in _SES_PERMANENT) from exc

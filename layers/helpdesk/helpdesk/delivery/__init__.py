"""Clients of the services we deliver through (SES mail, the Slack Web API), shared by the outbound
sender (agent replies to customers) and the notifier (notifications to agents).

A client returns the provider's id for what it sent, or raises DeliveryError: `retryable` for an
outage, throttling or a configuration problem that an operator can fix (the SQS message is
retried with backoff and ends in the DLQ); not retryable for a problem with this recipient or
message (an address SES rejects, a Slack user that does not exist), recorded and not retried.
"""
from __future__ import annotations

import re


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def header_text(value: str | None, limit: int = 200) -> str:
    """Text a customer or agent chose (a name, a subject) as one header line: control characters
    (CR/LF above all) become spaces, so no value can end a header or inject another."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value or "").strip()[:limit]

"""How a notification reaches an agent: a Sender per channel (email through SES, a Slack DM).

Senders are thin: the service clients live in helpdesk.delivery, shared with the outbound sender.
A sender returns the provider's id or raises helpdesk.delivery.DeliveryError.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

from helpdesk.delivery.slack import SlackApi


class Sender(Protocol):
    channel: str

    def send(self, message: dict[str, Any]) -> str: ...


class SlackDmSender:
    """chat.postMessage to the agent's Slack user id (a DM from the bot)."""

    channel = "slack"

    def __init__(self, token: Callable[[], str], *, base_url: str = "https://slack.com/api/", timeout: float = 5.0) -> None:
        self.api = SlackApi(token, base_url=base_url, timeout=timeout)

    def send(self, message: dict[str, Any]) -> str:
        answer = self.api.call("chat.postMessage", {"channel": message["slack_user_id"], "text": message["text"],
                                                    "unfurl_links": False})
        return str(answer.get("ts") or "")

"""Public agent replies on Slack tickets, posted into the ticket's Slack thread (chat.postMessage
with thread_ts), and the small Slack Web API client the channel uses (users.info for the intake).

Input: an `outbound.requested` event (payload {message_id, channel, number}); the ticket's
channel_thread_id is '<channel>:<thread_ts>'. Internal notes and customer messages are never
posted: the claim statement accepts only public agent messages of Slack tickets. Exactly once
toward Slack as far as Slack allows: claimed ('sending') in the statement that reads the message,
recorded 'sent' with Slack's ts; a retried event finds 'sent' and posts nothing; a send that died
mid-way is claimed again after LEASE. Data API calls per post: 2.

The bot token comes from Secrets Manager (SLACK_SECRET_ARN, JSON {"bot_token", "signing_secret"})
through helpdesk.notify.senders.SlackSecret (cached); the API base URL is settings.slack_api_base_url
(a local HTTP stub in tests).
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, Callable

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import channels as sql
from helpdesk.db.client import DataApi
from helpdesk.notify.senders import _SLACK_PERMANENT, DeliveryError, SlackSecret

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
# Slack truncates text over 40,000 characters; we cut a little earlier and say so.
MAX_TEXT = 39_000


class SlackApi:
    """Slack Web API calls with the bot token: JSON POST for writes, form POST for reads."""

    def __init__(self, token: Callable[[], str], *, base_url: str = "https://slack.com/api/", timeout: float = 5.0) -> None:
        self.token = token
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def call(self, method: str, payload: dict[str, Any], *, form: bool = False) -> dict[str, Any]:
        if form:  # users.info and other read methods take form arguments
            data = urllib.parse.urlencode(payload).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(payload).encode()
            content_type = "application/json; charset=utf-8"
        request = urllib.request.Request(self.base_url + method, data=data, method="POST", headers={
            "Content-Type": content_type, "Authorization": f"Bearer {self.token()}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https or the local stub
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"Slack {method} HTTP {exc.code}", retryable=exc.code == 429 or exc.code >= 500
                                or exc.code in (401, 403)) from exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc
        if not answer.get("ok"):
            error = str(answer.get("error") or "unknown_error")
            raise DeliveryError(f"Slack {method}: {error}", retryable=error not in _SLACK_PERMANENT)
        return answer

    def post_in_thread(self, channel: str, thread_ts: str, text: str) -> str:
        answer = self.call("chat.postMessage", {"channel": channel, "thread_ts": thread_ts, "text": text,
                                                "unfurl_links": False, "unfurl_media": False})
        return str(answer.get("ts") or "")

    def user_email(self, user_id: str) -> str | None:
        """The email on the user's Slack profile (needs the users:read.email scope), or None."""
        answer = self.call("users.info", {"user": user_id}, form=True)
        email = ((answer.get("user") or {}).get("profile") or {}).get("email")
        return str(email) if email else None


@dataclass
class PostOutcome:
    action: str  # sent | already_sent | skipped | failed
    reason: str = ""
    slack_ts: str | None = None

    def __str__(self) -> str:
        return f"{self.action}: {self.reason}" if self.reason else self.action


def _payload(event: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(event, dict):
        return str(event.get("type") or event.get("event_type")), dict(event.get("payload") or {})
    return str(event.type), event.payload.model_dump(mode="json", by_alias=True)


class SlackReplies:
    def __init__(self, db: DataApi, api: SlackApi, clock: Clock | None = None) -> None:
        self.db = db
        self.api = api
        self.clock = clock or SystemClock()

    def send(self, event: Any) -> PostOutcome:
        etype, payload = _payload(event)
        if etype != "outbound.requested" or payload.get("channel") != "slack":
            return PostOutcome("skipped", f"{etype} on channel {payload.get('channel')} is not posted to Slack")
        message_id = uuid.UUID(str(payload["message_id"]))
        now = self.clock.now()
        row = self.db.query_one(sql.CLAIM_SLACK_POST, {"message_id": message_id, "now": now,
                                                       "lease_expired": now - LEASE, "max_chars": MAX_TEXT + 1})
        message, previous = (row or {}).get("message"), (row or {}).get("previous")
        if message is None:
            return PostOutcome("skipped", f"message {message_id} not found")
        if not (row or {}).get("claimed"):
            if previous and previous["state"] == "sent":
                return PostOutcome("already_sent", "posted before", previous.get("slack_ts"))
            if previous and previous["state"] == "sending":
                raise errors.Conflict(f"the Slack post of message {message_id} is in flight; retry after {LEASE}")
            return PostOutcome("skipped", "internal note, not an agent message, or not a Slack thread: never posted")
        channel, thread_ts = str(message["channel_thread_id"]).split(":", 1)
        text = message["body"]
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + f"\n[…cut; the full reply is on ticket TKT-{message['number']}]"
        try:
            ts = self.api.post_in_thread(channel, thread_ts, text)
        except DeliveryError as exc:
            self.db.execute(sql.RECORD_SLACK_POST, {"message_id": message_id, "state": "failed",
                                                    "slack_ts": None, "error": str(exc)[:500]})
            if exc.retryable:
                raise  # the queue retries (then the DLQ): 'failed' rows are claimed again
            return PostOutcome("failed", str(exc))
        self.db.execute(sql.RECORD_SLACK_POST, {"message_id": message_id, "state": "sent", "slack_ts": ts, "error": None})
        return PostOutcome("sent", slack_ts=ts)


@lru_cache(maxsize=4)
def _secret(secret_arn: str) -> SlackSecret:
    from helpdesk import wiring

    return SlackSecret(wiring.boto3_client("secretsmanager"), secret_arn)


def slack_secret(settings: Any) -> SlackSecret:
    if not settings.slack_secret_arn:
        raise DeliveryError("Slack is not configured: SLACK_SECRET_ARN is empty", retryable=True)
    return _secret(settings.slack_secret_arn)


def slack_api(settings: Any, *, timeout: float = 5.0) -> SlackApi:
    return SlackApi(slack_secret(settings).bot_token, base_url=settings.slack_api_base_url, timeout=timeout)


def send(event: Any) -> PostOutcome:
    """functions/outbound's entry point for Slack tickets."""
    from helpdesk import wiring
    from helpdesk.config import get_settings

    settings = get_settings()
    return SlackReplies(wiring.data_api(), slack_api(settings), wiring.clock(settings)).send(event)

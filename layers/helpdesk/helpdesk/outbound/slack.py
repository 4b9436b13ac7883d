"""Public agent replies on Slack tickets, posted into the ticket's Slack thread (chat.postMessage
with thread_ts) through the Slack Web API client of helpdesk.delivery.slack.

Input: an `outbound.requested` event (payload {message_id, channel, number}); the ticket's
channel_thread_id is '<channel>:<thread_ts>'. Internal notes and customer messages are never
posted: the claim statement accepts only public agent messages of Slack tickets. Exactly once
toward Slack as far as Slack allows: claimed ('sending') in the statement that reads the message,
recorded 'sent' with Slack's ts; a retried event finds 'sent' and posts nothing; a send that died
mid-way is claimed again after LEASE. Data API calls per post: 2.

The bot token comes from Secrets Manager (SLACK_SECRET_ARN, JSON {"bot_token", "signing_secret"})
through helpdesk.delivery.slack.SlackSecret (cached); the API base URL is settings.slack_api_base_url
(a local HTTP stub in tests).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import channels as sql
from helpdesk.db.client import DataApi
from helpdesk.delivery import DeliveryError
from helpdesk.delivery.slack import SlackApi, slack_api

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
# Slack truncates text over 40,000 characters; we cut a little earlier and say so.
MAX_TEXT = 39_000


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


def send(event: Any) -> PostOutcome:
    """functions/outbound's entry point for Slack tickets."""
    from helpdesk import wiring
    from helpdesk.config import get_settings

    settings = get_settings()
    return SlackReplies(wiring.data_api(), slack_api(settings), wiring.clock(settings)).send(event)

"""Slack Events API adapter: verifies Slack's request signature and turns message events of
connected support channels into ticket commands.

Signature (https://api.slack.com/authentication/verifying-requests-from-slack): v0 HMAC-SHA256 of
"v0:{X-Slack-Request-Timestamp}:{raw body}" with the app's signing secret, compared in constant
time; a timestamp more than 5 minutes from our clock is refused, and so is a signature seen before
(a replayed request). Every refusal is 401 before anything is written.

Conversations: a top-level message in a connected channel (table slack_channels) opens a ticket
with channel "slack" and channel_thread_id "<channel>:<ts>"; a reply in that thread
(thread_ts = the ticket's ts) is a customer message on it; a reply in a connected channel's thread
that has no ticket yet (the thread predates the connection) opens one for that thread. Agents answer
from the workspace: anyone writing in the Slack thread is treated as the customer side. Customer
messages go through helpdesk.routing.intake.receive_customer_message. Inbound ids are
"slack:<event_id>", so Slack's retries (X-Slack-Retry-Num, same event_id) are no-ops. The requester is the customer whose
slack_user_id matches; else the email from users.info (linked to the customer for next time) when
a lookup is available; else a stable placeholder address <user>@users.slack.invalid.

Ignored: bot messages (bot_id, subtype bot_message, our own bot user), channel joins and other
housekeeping subtypes, top-level messages in channels that are not connected, app_mention (the
message event carries the same text). Edits and deletions do not rewrite the ticket's history (it
is the record agents answered): message_changed adds an internal note with the new text,
message_deleted an internal note saying the customer deleted a message, both only on tickets we have.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.auth import Principal, Unauthenticated
from helpdesk.clock import Clock
from helpdesk.db import channels as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.routing.intake import receive_customer_message
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor, normalize_email

log = logging.getLogger(__name__)
TIMESTAMP_WINDOW = timedelta(minutes=5)
SUBJECT_CHARS = 80
# Message subtypes that are a person writing; every other subtype is housekeeping and ignored.
USER_SUBTYPES = (None, "", "thread_broadcast", "file_share", "me_message")
PLACEHOLDER_DOMAIN = "users.slack.invalid"

OpenTicket = Callable[..., Any]  # routes pass helpdesk.routing.intake.open_ticket (via _shared.open_ticket)


def verify_request(signing_secret: str, timestamp: str | None, body: str, signature: str | None, now: datetime) -> None:
    """Raises Unauthenticated unless the request is Slack's, signed within the last 5 minutes."""
    if not signing_secret:
        raise Unauthenticated("Slack is not configured: no signing secret")
    if not timestamp or not signature:
        raise Unauthenticated("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise Unauthenticated("X-Slack-Request-Timestamp is not a Unix time") from None
    if abs(now.timestamp() - sent_at) > TIMESTAMP_WINDOW.total_seconds():
        raise Unauthenticated("the Slack request timestamp is outside the 5-minute window")
    expected = "v0=" + hmac.new(signing_secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Unauthenticated("the Slack request signature does not match")


def sign_request(signing_secret: str, timestamp: str, body: str) -> str:
    """What Slack sends as X-Slack-Signature (tests and local tooling sign with it)."""
    return "v0=" + hmac.new(signing_secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


def record_signature(db: DataApi, signature: str, now: datetime) -> None:
    """Unauthenticated when this exact signed request was accepted before (a replay)."""
    row = db.query_one(sql.RECORD_SLACK_SIGNATURE, {"signature": signature, "now": now,
                                                    "expired": now - 2 * TIMESTAMP_WINDOW})
    if row is None:
        raise Unauthenticated("this Slack request was already received (replay)")


@dataclass
class SlackOutcome:
    action: str  # opened | replied | noted | duplicate | ignored
    reason: str = ""
    ticket_id: str | None = None
    number: int | None = None


def _text(raw: Any) -> str:
    # Slack escapes only &, < and > in message text.
    return html.unescape(str(raw or "")).strip()


class SlackIntake:
    def __init__(self, db: DataApi, clock: Clock, publisher: Publisher, open_ticket: OpenTicket, *,
                 user_email: Callable[[str], str | None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher
        self.open_ticket = open_ticket
        self.user_email = user_email  # users.info, when a bot token is available

    def handle(self, envelope: dict[str, Any]) -> SlackOutcome:
        event = envelope.get("event") or {}
        event_id = str(envelope.get("event_id") or "")
        if envelope.get("type") != "event_callback" or not event_id:
            return SlackOutcome("ignored", f"envelope type {envelope.get('type')!r}")
        if event.get("type") != "message":
            return SlackOutcome("ignored", f"event type {event.get('type')!r}")
        bot_users = {a.get("user_id") for a in envelope.get("authorizations") or [] if a.get("is_bot")}
        subtype = event.get("subtype")
        if subtype == "message_changed":
            return self._edited(event, event_id, bot_users)
        if subtype == "message_deleted":
            return self._deleted(event, event_id)
        if self._is_bot(event, bot_users):
            return SlackOutcome("ignored", "bot message")
        if subtype not in USER_SUBTYPES:
            return SlackOutcome("ignored", f"message subtype {subtype!r}")
        return self._message(event, event_id, str(envelope.get("team_id") or ""))

    @staticmethod
    def _is_bot(message: dict[str, Any], bot_users: set[Any]) -> bool:
        return bool(message.get("bot_id") or message.get("subtype") == "bot_message"
                    or (message.get("user") and message.get("user") in bot_users) or not message.get("user"))

    def _context(self, channel: str, thread_ts: str, user: str | None) -> dict[str, Any]:
        return self.db.query_one(sql.SLACK_EVENT_CONTEXT, {"channel": channel, "thread_key": f"{channel}:{thread_ts}",
                                                           "user_id": user or ""}) or {}

    def _requester(self, user: str, known: str | None) -> tuple[str, bool]:
        """(email, looked_up): the linked customer's email, users.info's, or the placeholder."""
        if known:
            return known, False
        if self.user_email is not None:
            try:
                found = self.user_email(user)
                if found:
                    return normalize_email(found), True
            except Exception as exc:  # noqa: BLE001 - a lookup is optional; the placeholder still identifies the user
                log.warning("users.info failed for %s: %s", user, exc)
        return f"{user.lower()}@{PLACEHOLDER_DOMAIN}", False

    def _message(self, event: dict[str, Any], event_id: str, team: str) -> SlackOutcome:
        channel, ts, user = str(event.get("channel") or ""), str(event.get("ts") or ""), str(event["user"])
        thread_ts = str(event.get("thread_ts") or ts)
        text = _text(event.get("text"))
        if not channel or not ts:
            return SlackOutcome("ignored", "message without channel or ts")
        if not text:
            text = "(a message without text, e.g. files only)"
        ctx = self._context(channel, thread_ts, user)
        inbound_id = f"slack:{event_id}"
        metadata = {"slack": {"channel": channel, "ts": ts, "thread_ts": thread_ts, "user": user, "team": team}}
        if ctx.get("ticket_id"):
            email, looked_up = self._requester(user, ctx.get("email"))
            result = receive_customer_message(
                self.db, self.clock, self.publisher, ctx["ticket_id"],
                {"body": text, "author_type": "customer", "author_email": email, "channel": "slack",
                 "inbound_message_id": inbound_id, "metadata": metadata})
            self._link(user, email, looked_up)
            return self._outcome("duplicate" if result.replayed else "replied", result)
        if ctx.get("connected") is None:
            return SlackOutcome("ignored", f"channel {channel} is not a connected support channel")
        email, looked_up = self._requester(user, ctx.get("email"))
        first_line = text.splitlines()[0] if text else "Slack message"
        subject = first_line if len(first_line) <= SUBJECT_CHARS else first_line[:SUBJECT_CHARS - 1] + "…"
        try:
            result = self.open_ticket(
                {"channel": "slack", "subject": subject, "body": text, "requester_email": email,
                 "team_id": ctx["connected"].get("team_id"), "channel_thread_id": f"{channel}:{thread_ts}",
                 "inbound_message_id": inbound_id, "metadata": metadata},
                actor=Actor(type="customer"))
        except errors.Conflict:  # the thread became a ticket concurrently (another delivery of the same message)
            return SlackOutcome("duplicate", "the thread already has a ticket")
        self._link(user, email, looked_up)
        return self._outcome("duplicate" if result.replayed else "opened", result)

    def _link(self, user: str, email: str, looked_up: bool) -> None:
        if looked_up:  # next time this Slack user is recognized without a users.info call
            self.db.execute(sql.LINK_SLACK_USER, {"user_id": user, "email": email, "now": self.clock.now()})

    def _note(self, event: dict[str, Any], message: dict[str, Any], event_id: str, body: str) -> SlackOutcome:
        channel = str(event.get("channel") or "")
        thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
        ctx = self._context(channel, thread_ts, None)
        if not ctx.get("ticket_id"):
            return SlackOutcome("ignored", "not a message of a ticket's thread")
        result = TicketCommands(self.db, self.clock, self.publisher).add_message(
            ctx["ticket_id"], {"body": body, "author_type": "system", "visibility": "internal", "channel": "slack",
                               "inbound_message_id": f"slack:{event_id}",
                               "metadata": {"slack": {"channel": channel, "ts": message.get("ts"), "thread_ts": thread_ts}}},
            Actor.system(), follow_merged=True)
        return self._outcome("duplicate" if result.replayed else "noted", result)

    def _edited(self, event: dict[str, Any], event_id: str, bot_users: set[Any]) -> SlackOutcome:
        message = event.get("message") or {}
        if self._is_bot(message, bot_users):
            return SlackOutcome("ignored", "edit of a bot message")
        previous = event.get("previous_message") or {}
        if _text(message.get("text")) == _text(previous.get("text")):
            return SlackOutcome("ignored", "no text change (e.g. a link unfurl)")
        return self._note(event, message, event_id, f"The customer edited a Slack message; it now reads:\n\n{_text(message.get('text'))}")

    def _deleted(self, event: dict[str, Any], event_id: str) -> SlackOutcome:
        previous = event.get("previous_message") or {}
        if previous.get("bot_id"):
            return SlackOutcome("ignored", "deletion of a bot message")
        return self._note(event, previous, event_id, "The customer deleted a Slack message in this thread "
                          f"(ts {previous.get('ts') or event.get('deleted_ts')}); it stays on the ticket as received.")

    @staticmethod
    def _outcome(action: str, result: Any) -> SlackOutcome:
        ticket = getattr(result, "ticket", None)
        return SlackOutcome(action, ticket_id=str(ticket.id) if ticket else None, number=ticket.number if ticket else None)


# -- connected channels (admin) ----------------------------------------------------------------
def list_channels(db: DataApi) -> list[dict[str, Any]]:
    """The Slack channels whose top-level messages open tickets."""
    return db.query(sql.LIST_SLACK_CHANNELS)


def connect_channel(db: DataApi, clock: Clock, channel_id: str, by: Principal, *, name: str | None = None,
                    team_id: Any = None) -> dict[str, Any]:
    """Connect (or update) a channel; its tickets go to `team_id` when given. 1 call, with the admin audit
    row naming `by`."""
    if not (2 <= len(channel_id) <= 30 and channel_id.isalnum() and channel_id.upper() == channel_id):
        raise errors.ValidationFailed(f"channel_id {channel_id!r} is not a Slack channel id (e.g. C0123ABCD)")
    try:
        given = {k: v for k, v in (("name", name), ("team_id", team_id)) if v is not None}
        return db.execute(sql.CONNECT_SLACK_CHANNEL, {
            "channel_id": channel_id, "name": name, "team_id": team_id, "now": clock.now(),
            "audit": audit.entry(by, "update", "slack_channel", given)}).one()
    except errors.ForeignKeyViolation:
        raise errors.ValidationFailed(f"team_id: team {team_id} does not exist") from None


def disconnect_channel(db: DataApi, clock: Clock, channel_id: str, by: Principal) -> None:
    if not db.query_one(sql.DISCONNECT_SLACK_CHANNEL, {"channel_id": channel_id, "now": clock.now(),
                                                       "audit": audit.entry(by, "delete", "slack_channel")}):
        raise errors.NotFound(f"Slack channel {channel_id} is not connected")

"""The notifier: turns one event into agent notifications and delivers them exactly once per
(event id, recipient, channel) in normal operation.

Dedupe and delivery semantics (at-least-once, deliberately):
1. Decide recipients and channels (rules, preferences, quiet hours) and render the messages.
2. CLAIM: one statement inserts a row per (event, agent, channel) -- the dedupe key -- BEFORE
   anything is sent: 'sending' with a short lease, or 'deferred'/'suppressed' in quiet hours. A
   redelivered event finds its rows and sends nothing again; a concurrent duplicate cannot claim
   a row another worker holds.
   A burst about one ticket (COALESCE_WINDOW: a customer's many replies) is claimed 'coalesced'
   after the first one sent to that agent on that channel: recorded, not sent.
3. Send, then SETTLE in one statement: 'sent' (with the SES MessageId / Slack ts), 'rejected'
   (permanent, not retried) or 'failed' (taken over by the next attempt).
A crash after the provider accepted a message but before SETTLE leaves 'sending'; once the lease
runs out the next delivery of the SQS message sends it again. That one duplicate is the price of
never losing an SLA breach notice (at-most-once would mark first and could lose it for good).

Per notifying event: 3 Data API calls (recipients, claim, settle); 0 for events nobody hears about.
Any retryable failure raises RetryLater so the SQS message (only that one) is retried with backoff;
what was already sent is not sent again.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from helpdesk.clock import Clock
from helpdesk.db import notify as sql
from helpdesk.db.client import DataApi
from helpdesk.events.schemas import Event
from helpdesk.notify.preferences import NOTIFIABLE, Preferences
from helpdesk.notify.rules import audience, render
from helpdesk.delivery import DeliveryError
from helpdesk.notify.senders import Sender

log = logging.getLogger(__name__)

# Shorter than the notify queue's visibility timeout: when SQS hands the message out again, the
# previous attempt's claims have expired and can be taken over.
LEASE = timedelta(seconds=30)
MAX_DEFERRED_ATTEMPTS = 10
# Data API calls of one scheduled run (deliver_due), whatever is due: claim, settle, re-defer.
DELIVER_DUE_MAX_CALLS = 3
# Events that come in bursts about one ticket (a customer sending many replies): after one is sent to
# an agent on a channel, the next ones within the window are coalesced (recorded, not sent). The
# first mail already sends the agent to the ticket, where every reply is shown.
COALESCE_WINDOW: dict[str, timedelta] = {"ticket.replied": timedelta(minutes=2)}


class RetryLater(Exception):
    """Some delivery of this event failed in a retryable way (or is in flight elsewhere)."""


@dataclass
class Outcome:
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    coalesced: int = 0
    rejected: int = 0
    already_done: int = 0
    failed: list[str] = field(default_factory=list)


class Notifier:
    def __init__(self, db: DataApi, clock: Clock, senders: dict[str, Sender], *, web_base_url: str = "",
                 lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.senders = senders
        self.web_base_url = web_base_url
        self.lease = lease

    # -- one event ----------------------------------------------------------------------------
    def handle(self, event: Event) -> Outcome:
        outcome = Outcome()
        if event.type not in NOTIFIABLE:
            return outcome
        who = audience(event)
        if who.empty:
            return outcome
        now = self.clock.now()
        recipients = self.db.query(sql.RECIPIENTS, {
            "event_id": event.id, "ticket_id": event.ticket_id,
            "agent_ids": [str(a) for a in who.agent_ids], "team_ids": [str(t) for t in who.lead_team_ids],
            "team_leads": bool(who.lead_team_ids),
        })
        planned = [d for row in recipients for d in self._plan(event, row, now)]
        if not planned:
            return outcome
        rows = self.db.execute(sql.CLAIM_DELIVERIES, {
            "event_id": event.id, "event_type": event.type, "ticket_id": event.ticket_id, "deliveries": planned,
            "now": now, "lease_until": now + self.lease,
            "coalesce_since": now - COALESCE_WINDOW[event.type] if event.type in COALESCE_WINDOW else None,
        }).rows
        results: list[dict[str, Any]] = []
        in_flight_elsewhere = False
        for row in rows:
            if not row["claimed"]:
                if row["status"] in (None, "sending", "failed"):
                    in_flight_elsewhere = True
                else:
                    outcome.already_done += 1
                continue
            if row["status"] == "deferred":
                outcome.deferred += 1
            elif row["status"] == "suppressed":
                outcome.suppressed += 1
            elif row["status"] == "coalesced":
                outcome.coalesced += 1
            elif row["status"] == "sending":
                results.append(self._send(event.id, row, outcome))
        if results:
            self.db.execute(sql.SETTLE_DELIVERIES, {"now": self.clock.now(), "results": results})
        if outcome.failed or in_flight_elsewhere:
            raise RetryLater(f"event {event.id}: {len(outcome.failed)} delivery(ies) failed"
                             + (", some in flight elsewhere" if in_flight_elsewhere else "")
                             + (f": {'; '.join(outcome.failed)}" if outcome.failed else ""))
        return outcome

    def _plan(self, event: Event, row: dict[str, Any], now) -> list[dict[str, Any]]:
        if row.get("actor_id") and row["actor_id"] == row["agent_id"]:
            return []  # nobody is told about what they did themselves
        try:
            prefs = Preferences.from_row(row)
        except ValidationError:
            log.warning("agent %s has invalid notification preferences; using defaults", row["agent_id"])
            prefs = Preferences()
        channels = [c for c in prefs.channels_for(event.type) if c in self.senders
                    and (c != "slack" or row.get("slack_user_id"))]
        if not channels:
            return []
        quiet_until = prefs.quiet_until(now)
        status = "sending" if quiet_until is None else ("deferred" if prefs.quiet_mode == "defer" else "suppressed")
        content = render(event, row.get("ticket"), timezone=prefs.timezone, web_base_url=self.web_base_url)
        out = []
        for channel in channels:
            message: dict[str, Any] = {**content, "why": row["why"]}
            if channel == "email":
                message |= {"to": row["email"], "name": row.get("name")}
            else:
                message |= {"slack_user_id": row["slack_user_id"]}
            out.append({"agent_id": str(row["agent_id"]), "channel": channel, "status": status,
                        "deliver_after": quiet_until.isoformat() if status == "deferred" else None, "message": message})
        return out

    def _send(self, event_id: uuid.UUID | str, row: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
        key = {"event_id": str(event_id), "agent_id": str(row["agent_id"]), "channel": row["channel"]}
        try:
            provider_id = self.senders[row["channel"]].send(row["message"])
        except DeliveryError as exc:
            if exc.retryable:
                outcome.failed.append(f"{row['channel']} to {row['agent_id']}: {exc}")
                return {**key, "status": "failed", "provider_id": None, "error": str(exc)[:1000]}
            outcome.rejected += 1
            log.warning("notification rejected permanently (%s to %s): %s", row["channel"], row["agent_id"], exc)
            return {**key, "status": "rejected", "provider_id": None, "error": str(exc)[:1000]}
        except Exception as exc:  # noqa: BLE001 - an unexpected sender bug: retry, it ends in the DLQ
            log.exception("sender %s failed", row["channel"])
            outcome.failed.append(f"{row['channel']} to {row['agent_id']}: {exc!r}")
            return {**key, "status": "failed", "provider_id": None, "error": repr(exc)[:1000]}
        outcome.sent += 1
        return {**key, "status": "sent", "provider_id": provider_id, "error": None}

    # -- deferred (quiet hours over) ----------------------------------------------------------------
    def deliver_due(self, *, limit: int = 100) -> Outcome:
        """Send deferred notifications whose quiet hours have ended (the notifier's scheduled run): up to
        `limit` per run, the rest on the next. At most DELIVER_DUE_MAX_CALLS Data API calls (claim, then
        one statement for the settled and one for the re-deferred), never one per notification."""
        outcome = Outcome()
        now = self.clock.now()
        rows = self.db.execute(sql.CLAIM_DUE_DEFERRED, {"now": now, "lease_until": now + self.lease, "limit": limit}).rows
        settled: list[dict[str, Any]] = []
        redefer: list[dict[str, Any]] = []
        for row in rows:
            if row["channel"] not in self.senders:
                settled.append({"event_id": row["event_id"], "agent_id": row["agent_id"], "channel": row["channel"],
                                "status": "rejected", "provider_id": None, "error": "channel not configured"})
                continue
            result = self._send(row["event_id"], row, outcome)
            if result["status"] == "failed" and row["attempts"] < MAX_DEFERRED_ATTEMPTS:
                redefer.append({k: result[k] for k in ("event_id", "agent_id", "channel", "error")})
            else:
                settled.append({**result, "status": "rejected"} if result["status"] == "failed" else result)
        if settled:
            self.db.execute(sql.SETTLE_DELIVERIES, {"now": self.clock.now(), "results": settled})
        if redefer:
            self.db.execute(sql.REDEFER, {"now": self.clock.now(), "failed": redefer})
        return outcome

    def next_deferred_at(self) -> datetime | None:
        """When the earliest waiting deferred notification becomes due (None: nothing is deferred)."""
        return self.db.execute(sql.NEXT_DEFERRED, {}).one()["next_at"]


def prune_deliveries(db: DataApi, clock: Clock, *, keep: timedelta = timedelta(days=90)) -> int:
    """Forget finished deliveries older than `keep` (well past any SQS redelivery)."""
    return int(db.execute(sql.PRUNE_DELIVERIES, {"before": clock.now() - keep}).one()["deleted"])

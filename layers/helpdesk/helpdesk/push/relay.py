"""The push consumer's work: committed events (from the outbox, through SNS and the push queue)
become channel messages (helpdesk.push.channels) published to the Event API.

Data API calls: at most 1 per batch (RECIPIENTS: agent subs and chat sessions), none when no
event names an agent or a chat ticket. Delivery is at-least-once: a redelivered batch pushes the
same signals again, which only makes clients re-read what they already show."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from helpdesk.db import push as sql
from helpdesk.db.client import DataApi
from helpdesk.events.schemas import Event
from helpdesk.push.channels import Channel, Recipients, agent_ids, deliveries, is_public_to_customer

MAX_CALLS_PER_BATCH = 1


class ChannelPublisher(Protocol):
    def publish(self, deliveries: Sequence[tuple[Channel, dict[str, Any]]]) -> int: ...


@dataclass(frozen=True)
class PushResult:
    events: int
    messages: int


def recipients(db: DataApi, events: Sequence[Event]) -> Recipients:
    agents = sorted({a for e in events for a in agent_ids(e)})
    chat_tickets = sorted({str(e.ticket_id) for e in events if is_public_to_customer(e)})
    if not agents and not chat_tickets:
        return Recipients({}, {})
    rows = db.query(sql.RECIPIENTS, {"agent_ids": json.dumps(agents), "ticket_ids": json.dumps(chat_tickets)})
    return Recipients(agent_subs={r["id"]: r["key"] for r in rows if r["kind"] == "agent"},
                      chat_sessions={r["id"]: r["key"] for r in rows if r["kind"] == "chat"})


def push_events(db: DataApi, publisher: ChannelPublisher, events: Sequence[Event]) -> PushResult:
    messages = deliveries(events, recipients(db, events))
    return PushResult(events=len(events), messages=publisher.publish(messages))

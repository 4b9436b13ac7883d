"""Channels and what each hears. A push message is a thin signal (what changed, on which ticket),
never the data itself: the client re-reads through the REST API, which stays the one place that
decides who may see what, and a message stays far below AppSync's 240 KB event limit.

    /tickets/<ticket id>     agents with the ticket open: every event of the ticket, and presence
    /teams/<team id>         agents watching a team's queue: a ticket of the team created, routed,
                             assigned, re-prioritised, changing status, warned or breached
    /agents/<cognito sub>    one agent's own views: tickets assigned to or taken from them
    /chat/<session id>       a chat visitor: public messages and status of their chat
    /portal/<ticket id>      a customer on the portal page of their ticket: public messages, status

An agent's channel is named by the token's immutable `sub` (what AppSync's Cognito identity
carries), so "only your own channel" is a comparison with the caller's identity; the consumer maps
agent ids to subs (relay.py)."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from helpdesk import errors
from helpdesk.events.schemas import Event

# Namespaces agents reach with their Cognito token, and those customers reach with a signed token.
AGENT_NAMESPACES = ("tickets", "teams", "agents")
CUSTOMER_NAMESPACES = ("chat", "portal")
NAMESPACES = AGENT_NAMESPACES + CUSTOMER_NAMESPACES
# AppSync: segments of 1-50 characters [A-Za-z0-9-]; our channels are exactly /<namespace>/<key>.
_SEGMENT = re.compile(r"^[A-Za-z0-9-]{1,50}$")

# Customers hear only what they can see: public messages and the ticket's status.
CUSTOMER_EVENT_TYPES = ("ticket.replied", "ticket.status_changed", "ticket.merged")
# Payload fields copied into the agents' signal (ids and states, never text).
_SIGNAL_FIELDS = ("number", "message_id", "author_type", "visibility", "from", "to", "agent_id", "previous_agent_id",
                  "team_id", "assignee_id", "priority_to", "kind", "merged_into")


@dataclass(frozen=True)
class Channel:
    namespace: str
    key: str

    @property
    def path(self) -> str:
        return f"/{self.namespace}/{self.key}"

    def __str__(self) -> str:
        return self.path


def parse_channel(path: str) -> Channel:
    """'/tickets/<uuid>' -> Channel; ValidationFailed naming the allowed shapes otherwise."""
    parts = path.strip("/").split("/") if isinstance(path, str) else []
    if len(parts) != 2 or parts[0] not in NAMESPACES or not all(_SEGMENT.match(p) for p in parts):
        raise errors.ValidationFailed(
            f"channel {path!r} is not one of /tickets/<ticket id>, /teams/<team id>, /agents/<sub>, "
            f"/chat/<session id>, /portal/<ticket id>")
    return Channel(parts[0], parts[1])


def ticket(ticket_id: Any) -> Channel:
    return Channel("tickets", str(uuid.UUID(str(ticket_id))))


def team(team_id: Any) -> Channel:
    return Channel("teams", str(uuid.UUID(str(team_id))))


def agent(sub: str) -> Channel:
    return parse_channel(f"/agents/{sub}")


def chat(session_id: Any) -> Channel:
    return Channel("chat", str(uuid.UUID(str(session_id))))


def portal(ticket_id: Any) -> Channel:
    return Channel("portal", str(uuid.UUID(str(ticket_id))))


def agent_ids(event: Event) -> set[str]:
    """Agents whose own views this event changes (assignee now, before, a delegate)."""
    p = event.payload.model_dump(by_alias=True)
    return {str(p[k]) for k in ("agent_id", "previous_agent_id", "assignee_id", "delegate_id") if p.get(k)}


def team_ids(event: Event) -> set[str]:
    p = event.payload.model_dump(by_alias=True)
    return {str(p[k]) for k in ("team_id", "previous_team_id", "escalated_to_team_id") if p.get(k)}


def is_public_to_customer(event: Event) -> bool:
    if event.type not in CUSTOMER_EVENT_TYPES or event.ticket_id is None:
        return False
    return event.type != "ticket.replied" or getattr(event.payload, "visibility", None) == "public"


def agent_signal(event: Event) -> dict[str, Any]:
    p = event.payload.model_dump(by_alias=True, mode="json")
    return {"kind": "change", "type": event.type, "event_id": str(event.id),
            "ticket_id": str(event.ticket_id) if event.ticket_id else None,
            "occurred_at": event.occurred_at.isoformat(),
            **{k: p[k] for k in _SIGNAL_FIELDS if p.get(k) is not None}}


def customer_signal(event: Event) -> dict[str, Any]:
    p = event.payload.model_dump(by_alias=True, mode="json")
    signal = {"kind": "change", "type": event.type, "event_id": str(event.id), "occurred_at": event.occurred_at.isoformat()}
    if event.type == "ticket.status_changed":
        signal["status"] = p.get("to")
    return signal


@dataclass(frozen=True)
class Recipients:
    """What the consumer looked up for a batch: agent id -> Cognito sub, ticket id -> chat session."""

    agent_subs: dict[str, str]
    chat_sessions: dict[str, str]


def deliveries(events: Iterable[Event], recipients: Recipients) -> list[tuple[Channel, dict[str, Any]]]:
    """Every (channel, message) the events produce, in event order."""
    out: list[tuple[Channel, dict[str, Any]]] = []
    for event in events:
        if event.type == "outbound.requested":  # the send request of a reply already signalled as ticket.replied
            continue
        signal = agent_signal(event)
        if event.ticket_id is not None:
            out.append((ticket(event.ticket_id), signal))
        out.extend((team(t), signal) for t in sorted(team_ids(event)))
        out.extend((agent(recipients.agent_subs[a]), signal) for a in sorted(agent_ids(event)) if a in recipients.agent_subs)
        if is_public_to_customer(event):
            public = customer_signal(event)
            out.append((portal(event.ticket_id), public))
            session = recipients.chat_sessions.get(str(event.ticket_id))
            if session:
                out.append((chat(session), public))
    return out

"""Who is told about an event, and what they read. Pure functions (no I/O).

- ticket.assigned: the agent it was assigned to (not when they took it themselves).
- ticket.replied: the assignee, when the customer wrote (agent replies and internal notes: nobody).
- sla.warning: the assignee; an unassigned ticket's team leads.
- sla.breached: the assignee and the team leads (of the ticket's team and any escalation team).
Nobody is told about what they did themselves (the event's actor).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk.events.schemas import Event, SlaBreached, SlaWarning, TicketAssigned, TicketReplied

KIND_LABELS = {"first_response": "first response", "next_reply": "next reply", "resolution": "resolution"}


@dataclass(frozen=True)
class Audience:
    """Whom to look up: named agents, and the leads of some teams."""

    agent_ids: tuple[uuid.UUID, ...] = ()
    lead_team_ids: tuple[uuid.UUID, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.agent_ids and not self.lead_team_ids


def audience(event: Event) -> Audience:
    p = event.payload
    if isinstance(p, TicketAssigned):
        if p.agent_id is None or p.reason == "pulled":  # unassigned, or the agent claimed it
            return Audience()
        return Audience(agent_ids=(p.agent_id,))
    if isinstance(p, TicketReplied):
        if p.author_type != "customer" or p.assignee_id is None:
            return Audience()
        return Audience(agent_ids=(p.assignee_id,))
    if isinstance(p, SlaWarning):
        if p.assignee_id is not None:
            return Audience(agent_ids=(p.assignee_id,))
        return Audience(lead_team_ids=tuple(t for t in (p.team_id,) if t))
    if isinstance(p, SlaBreached):
        teams = tuple(dict.fromkeys(t for t in (p.team_id, p.escalated_to_team_id, p.previous_team_id) if t))
        leads = teams if "team_lead" in p.notify else ()
        agents = (p.assignee_id,) if p.assignee_id is not None and "assignee" in p.notify else ()
        return Audience(agent_ids=agents, lead_team_ids=leads)
    return Audience()


def render(event: Event, ticket: dict[str, Any] | None, *, timezone: str, web_base_url: str) -> dict[str, str]:
    """Subject and text of the notification, times in the recipient's timezone."""
    p = event.payload
    number = getattr(p, "number", None) or (ticket or {}).get("number")
    subject = (ticket or {}).get("subject") or ""
    ref = f"TKT-{number}" if number else "a ticket"
    link = f"{web_base_url.rstrip('/')}/#/ticket/{event.ticket_id}" if event.ticket_id else web_base_url
    zone = ZoneInfo(timezone)

    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime(f"%a %d %b %H:%M ({timezone})")

    if isinstance(p, TicketAssigned):
        title = f"[{ref}] assigned to you: {subject}"
        text = f"{ref} \"{subject}\" was assigned to you ({p.reason.replace('_', ' ')})."
    elif isinstance(p, TicketReplied):
        title = f"[{ref}] new customer reply: {subject}"
        text = f"The customer replied on {ref} \"{subject}\" (via {p.channel})."
    elif isinstance(p, SlaWarning):
        what = KIND_LABELS.get(p.kind, p.kind)
        title = f"[{ref}] SLA warning: {what} due {local(p.due_at)}"
        text = f"{ref} \"{subject}\": the {what} target is due at {local(p.due_at)}."
    elif isinstance(p, SlaBreached):
        what = ", ".join(KIND_LABELS.get(c.kind, c.kind) for c in p.clocks) or KIND_LABELS.get(p.kind, p.kind)
        title = f"[{ref}] SLA breached: {what}"
        text = f"{ref} \"{subject}\" breached its {what} target."
        if p.priority_to and p.priority_to != p.priority_from:
            text += f" Priority raised to {p.priority_to}."
        if p.escalated_to_team_id:
            text += " It was escalated to another team."
        if p.assignee_id is None:
            text += " It is unassigned."
    else:
        title = f"[{ref}] {event.type}"
        text = f"{ref}: {event.type}."
    return {"subject": title, "text": f"{text}\n\n{link}\n"}

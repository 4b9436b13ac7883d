"""Which agent works a ticket: push (least loaded eligible agent, or round robin), pull (claim the next
ticket), back-fill of queued tickets when capacity frees, and out-of-office handover.

Every assignment writes an assignments row (reason), an audit event and an outbox event in the same
statement as the ticket change; the current assignee stays on the ticket row. Capacity counts only
active statuses (agents.active_count, trigger-maintained); pushes into a team are serialized by a
lock on the team row inside the statement (routing_pick_agent, migration 0200), so concurrent pushes
never take an agent above capacity. Pull ignores capacity (the agent asks for the work).

Calls: claim_next_ticket 1 (+1 follow-up when the publisher accepted events or an SLA deadline must
be filled); push_assign and reopened the same; backfill 1 per ticket tried + 1 to find the teams;
hand_over_due 1 (events are published by the outbox relay).
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import routing as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import DeferredPublisher, Publisher
from helpdesk.routing.config import routing_config
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import Actor, Ticket

SYSTEM = Actor.system()
BACKFILL_TRIES_PER_TEAM = 200
BACKFILL_MAX_STATEMENTS = 500
BACKFILL_BUDGET_SECONDS = 30.0


def _uuid(value: Any, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed(f"{what}: {value!r} is not a UUID") from None


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise errors.ValidationFailed(f"{what} must be a timezone-aware date-time (e.g. 2026-03-02T09:00:00Z)")
    return value


class Assignment:
    def __init__(self, db: DataApi, clock: Clock | None = None, publisher: Publisher | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.publisher = publisher or DeferredPublisher()
        self._commands = TicketCommands(db, self.clock, self.publisher)

    # -- pull --------------------------------------------------------------------------------
    def claim_next_ticket(self, agent_id: uuid.UUID | str) -> Ticket | None:
        """The highest-priority, oldest unassigned ticket of the agent's teams, now theirs (reason
        pulled), or None when every queue is empty. One statement (FOR UPDATE SKIP LOCKED)."""
        agent_id = _uuid(agent_id, "agent_id")
        row = self.db.execute(sql.CLAIM_NEXT, {
            "agent_id": agent_id, "assigned_by": agent_id, "now": self.clock.now(),
            "actor_type": "agent", "actor_id": agent_id,
        }).one()
        if not row["agent_exists"]:
            raise errors.NotFound(f"agent {agent_id} does not exist or is inactive")
        if row["ticket"] is None:
            return None
        return self._commands._finish(row).ticket

    # -- push --------------------------------------------------------------------------------
    def push_assign(self, ticket_id: uuid.UUID | str, *, reason: str = "pushed") -> CommandResult | None:
        """Push one queued ticket (unassigned, status new/reopened/in_progress) to the best eligible
        agent of its team. None when it stays in the queue (pull-only team, off shift, nobody eligible
        or under capacity, or not a queued ticket)."""
        if reason not in ("pushed", "backfill"):
            raise errors.ValidationFailed(f"push reason must be pushed or backfill, not {reason!r}")
        row = self._push(kind="queued", ticket_id=_uuid(ticket_id, "ticket_id"), reason=reason)
        if row["subject"] is None:
            raise errors.NotFound(f"ticket {ticket_id} not found")
        return self._commands._finish(row) if row["ticket"] is not None else None

    def reopened(self, ticket_id: uuid.UUID | str) -> CommandResult | None:
        """After a reopen: the ticket stays with its previous owner when they are available (active, not
        away, still in the team); otherwise it is pushed to another eligible agent or, failing that,
        put back in the team queue (reason reopened). None when nothing changed."""
        row = self._push(kind="reopened", ticket_id=_uuid(ticket_id, "ticket_id"), reason="reopened")
        return self._commands._finish(row) if row["ticket"] is not None else None

    def after_customer_message(self, result: CommandResult) -> CommandResult | None:
        """Call with the result of TicketCommands.receive_customer_message / add_message: when the
        message reopened a closed ticket, apply `reopened` (1 call); otherwise nothing (0 calls)."""
        reopened = any(e.get("event_type") == "ticket.status_changed" and (e.get("payload") or {}).get("to") == "reopened"
                       for e in result.events)
        if not reopened or result.ticket is None:
            return None
        return self.reopened(result.ticket.id)

    def backfill(self, team_id: uuid.UUID | str | None = None, *, per_team: int = BACKFILL_TRIES_PER_TEAM,
                 max_statements: int = BACKFILL_MAX_STATEMENTS, budget_seconds: float = BACKFILL_BUDGET_SECONDS) -> int:
        """Give queued tickets (priority, then oldest first) to agents with free capacity, in every
        push/round-robin team on shift (or just `team_id`). Returns how many were assigned. Tickets
        no eligible agent can take (skills) are stepped over; a team stops when nobody has capacity.

        One statement per ticket tried (each under the team lock, like a push), bounded per run by
        max_statements and budget_seconds so a sweep never overruns: a large backlog (a shift start
        after a night of queued tickets) drains over consecutive sweeps, while agents can also pull."""
        team = _uuid(team_id, "team_id") if team_id is not None else None
        now = self.clock.now()
        config = routing_config(self.db)
        assigned = 0
        statements = 0
        deadline = time.monotonic() + budget_seconds
        for row in self.db.query(sql.QUEUED_TEAMS, {"team_id": team}):
            tid = uuid.UUID(row["team_id"])
            if tid in config.teams and not config.on_shift(tid, now):
                continue
            cursor: dict[str, Any] = {"after_rank": None, "after_created": None, "after_id": None}
            for _ in range(per_team):
                if statements >= max_statements or time.monotonic() > deadline:
                    return assigned
                statements += 1
                out = self._push(kind="queued", ticket_id=None, team_id=tid, reason="backfill", **cursor)
                if out["subject"] is None:
                    break  # queue exhausted (or the rest is being claimed right now)
                if out["ticket"] is not None:
                    self._commands._finish(out)
                    assigned += 1
                    continue
                if not out["capacity_left"]:
                    break
                subject = out["subject"]
                cursor = {"after_rank": subject["priority_rank"], "after_created": subject["created_at"],
                          "after_id": subject["id"]}
        return assigned

    def _push(self, *, kind: str, ticket_id: uuid.UUID | None, reason: str, team_id: uuid.UUID | None = None,
              after_rank: int | None = None, after_created: Any = None, after_id: Any = None) -> dict[str, Any]:
        now = self.clock.now()
        return self.db.execute(sql.PUSH, {
            "kind": kind, "ticket_id": ticket_id, "team_id": team_id, "reason": reason,
            "after_rank": after_rank,
            "after_created": datetime.fromisoformat(after_created) if isinstance(after_created, str) else after_created,
            "after_id": _uuid(after_id, "after_id") if after_id is not None else None,
            "off_shift": routing_config(self.db).off_shift_teams(now),
            "assigned_by": None, "now": now, "actor_type": "system", "actor_id": None,
        }).one()

    # -- out of office -----------------------------------------------------------------------
    def set_out_of_office(self, agent_id: uuid.UUID | str, start: datetime, end: datetime | None,
                          delegate_id: uuid.UUID | str | None = None) -> dict[str, Any]:
        """Record an absence [start, end). New tickets skip the agent meanwhile; at start their open
        tickets go to the delegate (or the team queue). When start is not in the future the handover
        runs now (one more call)."""
        agent = _uuid(agent_id, "agent_id")
        delegate = _uuid(delegate_id, "delegate_id") if delegate_id is not None else None
        _aware(start, "start")
        _aware(end, "end")
        if start is None:
            raise errors.ValidationFailed("start is required")
        if end is not None and end <= start:
            raise errors.ValidationFailed(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        if delegate == agent:
            raise errors.ValidationFailed("delegate_id: an agent cannot delegate to themselves")
        now = self.clock.now()
        row = self.db.execute(sql.SET_OUT_OF_OFFICE, {
            "agent_id": agent, "delegate_id": delegate, "start": start, "end": end, "now": now}).one()
        if not row["agent_exists"]:
            raise errors.NotFound(f"agent {agent} not found")
        if delegate is not None and not row["delegate_ok"]:
            raise errors.ValidationFailed(f"delegate_id: agent {delegate} does not exist or is inactive")
        if start <= now and (end is None or now < end):
            self._hand_over(agent)
        return row["agent"]

    def clear_out_of_office(self, agent_id: uuid.UUID | str) -> None:
        agent = _uuid(agent_id, "agent_id")
        if self.db.query_one(sql.CLEAR_OUT_OF_OFFICE, {"agent_id": agent, "now": self.clock.now()}) is None:
            raise errors.NotFound(f"agent {agent} not found")

    def hand_over_due(self, *, limit: int = 200, max_pages: int = 10) -> int:
        """Sweep job: hands every open ticket held by an agent who is away now to their delegate or the
        team queue (reason vacation_handover). Returns the number of tickets moved. One call per page
        of `limit` absent agents with work left (usually one call)."""
        moved = 0
        for _ in range(max_pages):
            row = self._hand_over_page(None, limit)
            moved += int(row["tickets_moved"])
            if int(row["agents_away"]) < limit:
                break
        return moved

    def _hand_over(self, agent_id: uuid.UUID) -> int:
        return int(self._hand_over_page(agent_id, 1)["tickets_moved"])

    def _hand_over_page(self, agent_id: uuid.UUID | None, limit: int) -> dict[str, Any]:
        return self.db.execute(sql.HAND_OVER, {"agent_id": agent_id, "now": self.clock.now(), "limit": limit}).one()

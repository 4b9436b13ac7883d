"""Which agent works a ticket: push (least loaded eligible agent, or round robin), pull (claim the next
ticket), back-fill of queued tickets when capacity frees, and out-of-office handover.

Every assignment writes an assignments row (reason), an audit event and an outbox event in the same
statement as the ticket change; the current assignee stays on the ticket row. Capacity counts only
active statuses (agents.active_count, trigger-maintained); pushes into a team are serialized by a
lock on the team row inside the statement (routing_pick_agent, migration 0200), so concurrent pushes
never take an agent above capacity. Pull ignores capacity (the agent asks for the work).

Calls: claim_next_ticket 1 (+1 follow-up when the publisher accepted events or an SLA deadline must
be filled); push_assign and reopened the same; backfill 1 per batch of up to 500 assignments (at most 4,
+1 follow-up), whatever the queue's size;
hand_over_due 1 (events are published by the outbox relay).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import routing as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import DeferredPublisher, Publisher
from helpdesk.routing.config import routing_config
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import Actor, Ticket

SYSTEM = Actor.system()
# One back-fill statement assigns at most BACKFILL_BATCH tickets (the default and the largest batch: its
# event rows, about 1 KB per ticket, stay inside the Data API's 1 MB result); a sweep runs at most
# BACKFILL_MAX_ROUNDS of them.
BACKFILL_BATCH = 500
BACKFILL_MAX_ROUNDS = 4
# Calls of one back-fill run at most: its rounds, the follow-up acknowledging published events, and
# reloading the routing configuration when the process's copy is older than its TTL.
BACKFILL_MAX_CALLS = BACKFILL_MAX_ROUNDS + 2
# The out-of-office handover job: pages of HAND_OVER_PAGE absent agents, one call each.
HAND_OVER_PAGE = 200
HAND_OVER_MAX_PAGES = 10


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

    def backfill(self, team_id: uuid.UUID | str | None = None, *, batch: int = BACKFILL_BATCH,
                 max_rounds: int = BACKFILL_MAX_ROUNDS) -> int:
        """Give queued tickets (priority, then oldest first) to on-shift, skilled agents with free
        capacity, least loaded first (round robin: longest since the last assignment), in every
        push/round-robin team (or just `team_id`). Returns how many were assigned. The same decisions
        and guarantees as a push per ticket (routing_backfill, migration 1110), with history rows,
        audit and outbox events as a push writes them (reason backfill).

        Calls: at most max_rounds statements of up to `batch` tickets each (a round that comes back
        short ends the run), + 1 follow-up when the publisher accepted events, + 1 when the process's
        routing configuration is older than its TTL (BACKFILL_MAX_CALLS with the defaults): never per
        ticket, and tickets nobody can take cost nothing. A backlog larger than batch x max_rounds (a
        shift start after a night of queued tickets) drains over consecutive sweeps, while agents can
        also pull."""
        team = _uuid(team_id, "team_id") if team_id is not None else None
        if not 1 <= batch <= BACKFILL_BATCH:
            raise errors.ValidationFailed(f"batch must be between 1 and {BACKFILL_BATCH}, got {batch}")
        now = self.clock.now()
        off_shift = routing_config(self.db).off_shift_teams(now)
        assigned = 0
        events: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = []
        for _ in range(max_rounds):
            rows = self.db.execute(sql.BACKFILL, {
                "team_id": team, "off_shift": off_shift, "limit": batch, "now": now,
                "assigned_by": None, "actor_type": "system", "actor_id": None,
            }).rows
            taken = int(rows[0]["assigned"])
            assigned += taken
            events.extend(r["event"] for r in rows if r["event"] is not None)
            pending.extend(rows[0]["pending_sla"] or [])
            if taken < batch:
                break
        if events or pending:
            self._commands._publish_and_settle(events, pending)
        return assigned

    def _push(self, *, kind: str, ticket_id: uuid.UUID, reason: str) -> dict[str, Any]:
        now = self.clock.now()
        return self.db.execute(sql.PUSH, {
            "kind": kind, "ticket_id": ticket_id, "reason": reason,
            "off_shift": routing_config(self.db).off_shift_teams(now),
            "assigned_by": None, "now": now, "actor_type": "system", "actor_id": None,
        }).one()

    # -- out of office -----------------------------------------------------------------------
    def set_out_of_office(self, agent_id: uuid.UUID | str, start: datetime, end: datetime | None,
                          delegate_id: uuid.UUID | str | None = None, *, by: Principal) -> dict[str, Any]:
        """Record an absence [start, end), with its admin audit row naming `by` (the agent or their lead).
        New tickets skip the agent meanwhile; at start their open tickets go to the delegate (or the team
        queue). When start is not in the future the handover runs now (one more call)."""
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
        given = {k: v for k, v in (("start", start), ("end", end), ("delegate_id", delegate)) if v is not None}
        row = self.db.execute(sql.SET_OUT_OF_OFFICE, {
            "agent_id": agent, "delegate_id": delegate, "start": start, "end": end, "now": now,
            "audit": audit.entry(by, "update", "out_of_office", given)}).one()
        if not row["agent_exists"]:
            raise errors.NotFound(f"agent {agent} not found")
        if delegate is not None and not row["delegate_ok"]:
            raise errors.ValidationFailed(f"delegate_id: agent {delegate} does not exist or is inactive")
        if start <= now and (end is None or now < end):
            self._hand_over(agent)
        return row["agent"]

    def clear_out_of_office(self, agent_id: uuid.UUID | str, *, by: Principal) -> None:
        agent = _uuid(agent_id, "agent_id")
        if self.db.query_one(sql.CLEAR_OUT_OF_OFFICE, {"agent_id": agent, "now": self.clock.now(),
                                                       "audit": audit.entry(by, "delete", "out_of_office")}) is None:
            raise errors.NotFound(f"agent {agent} not found")

    def hand_over_due(self, *, limit: int = HAND_OVER_PAGE, max_pages: int = HAND_OVER_MAX_PAGES) -> int:
        """Sweep job: hands every open ticket held by an agent who is away now to their delegate or the
        team queue (reason vacation_handover). Returns the number of tickets moved. One call per page
        of `limit` absent agents with work left (usually one call), at most max_pages, whatever the
        number of tickets they hold."""
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

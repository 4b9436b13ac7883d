"""Helpers for the ticket command tests (real PostgreSQL through the local Data API)."""
from __future__ import annotations

import uuid

import pytest

from helpdesk.tickets.commands import TicketCommands

TABLES = ("customers", "tickets", "ticket_messages", "email_message_ids", "ticket_participants", "assignments",
          "sla_targets", "ticket_audit", "outbox", "idempotency_keys", "agents", "teams")


@pytest.fixture
def cmds(db, clock):
    return TicketCommands(db, clock)


@pytest.fixture
def make_agent(factories):
    def make(name: str = "agent", capacity: int = 10) -> uuid.UUID:
        return factories.agent(name, capacity=capacity).id
    return make

@pytest.fixture
def make_team(factories):
    def make(name: str = "team") -> uuid.UUID:
        return factories.team(name)
    return make

@pytest.fixture
def snapshot(db):
    """Everything the commands write: row counts per table plus every ticket row (to prove 'nothing changed')."""
    def take() -> dict:
        counts = db.query_one("SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in TABLES))
        tickets = db.query("SELECT to_jsonb(t) AS doc FROM tickets t ORDER BY number")
        agents = db.query("SELECT id, active_count FROM agents ORDER BY id")
        return {"counts": counts, "tickets": [r["doc"] for r in tickets], "agents": agents}
    return take

"""Fixtures for SLA integration tests: a New York 09:00-17:00 team, policies, agents, a movable clock."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from helpdesk.clock import FixedClock
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.sla.policies import SlaPolicies
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from tests.factories import FACTORY

NY_HOURS = {"timezone": "America/New_York",
            "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
# Friday 2026-03-06 17:00 in New York (EST, UTC-5); US daylight time starts Sunday 2026-03-08.
FRIDAY_17 = datetime(2026, 3, 6, 22, 0, tzinfo=timezone.utc)
H = 3600


@pytest.fixture
def now():
    return FixedClock(FRIDAY_17)


@pytest.fixture
def publisher():
    return RecordingPublisher()


@pytest.fixture
def cmds(db, now):
    return TicketCommands(db, now)


@pytest.fixture
def team(factories):
    return factories.team("support", schedule=NY_HOURS)


@pytest.fixture
def policies(db, now):
    return SlaPolicies(db, now)


@pytest.fixture
def standard_policy(policies, team):
    return policies.create({"name": "standard", "position": 100, "targets": {
        "first_response": {"seconds": 1 * H}, "resolution": {"seconds": 8 * H}, "reopen": {"seconds": 2 * H}}}, by=FACTORY)


@pytest.fixture
def agent(factories):
    return factories.agent("Ann").id


@pytest.fixture
def agent_actor(agent):
    return Actor(type="agent", id=agent, role="agent")


@pytest.fixture
def open_ticket(cmds, team):
    def make(priority: str = "normal", email: str = "kim@example.com", channel: str = "email", team_id=None):
        return cmds.create_ticket({"channel": channel, "subject": "printer on fire", "body": "help",
                                   "requester_email": email, "priority": priority,
                                   "team_id": str(team_id or team)}).ticket
    return make


@pytest.fixture
def clocks(db):
    """The ticket's SLA rows by kind."""
    def read(ticket_id) -> dict[str, dict]:
        rows = db.query("SELECT to_jsonb(s) AS doc FROM sla_targets s WHERE ticket_id = :t::uuid", {"t": ticket_id})
        out = {}
        for r in rows:
            doc = r["doc"]
            for k in ("due_at", "warn_at", "paused_at", "met_at", "started_at", "recompute_from", "breached_at", "warned_at"):
                if doc.get(k):
                    doc[k] = datetime.fromisoformat(doc[k]).astimezone(timezone.utc)
            out[doc["kind"]] = doc
        return out
    return read


# Open tickets with one running resolution clock each, loaded set-based (tests and bench of the sweep).
BULK_LOAD = """
WITH c AS (
    INSERT INTO customers (email, created_at, updated_at) VALUES (:email, :now::timestamptz, :now::timestamptz) RETURNING id
),
t AS (
    INSERT INTO tickets (id, subject, channel, requester_id, status, team_id, created_at, updated_at)
    SELECT gen_random_uuid(), 'bulk ' || g, 'email', c.id, 'in_progress', :team_id::uuid, :now::timestamptz, :now::timestamptz
    FROM c, generate_series(1, :n) g
    RETURNING id, number
)
INSERT INTO sla_targets (ticket_id, kind, target_seconds, business, state, started_at, due_at, warn_at, updated_at)
SELECT t.id, 'resolution', 3600, false, 'running', :now::timestamptz,
       :due::timestamptz + (t.number % 60) * interval '1 second', :due::timestamptz - interval '30 minutes', :now::timestamptz
FROM t
"""


@pytest.fixture
def bulk_tickets(db):
    def load(n: int, due: datetime, now: datetime, team_id=None, email: str | None = None) -> None:
        db.execute(BULK_LOAD, {"n": n, "due": due, "now": now, "team_id": team_id,
                               "email": email or f"bulk-{uuid.uuid4().hex[:8]}@example.com"})
    return load

"""Fixtures for the operations insight tests: a Billing team on New York hours (the default team) and
a 24/7 Tech team, their agents, a movable clock."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from helpdesk.clock import FixedClock
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

UTC = timezone.utc
NY_HOURS = {"timezone": "America/New_York",
            "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
MONDAY_10_NY = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 10:00 New York (EDT)
LEAD = Actor(type="agent", role="admin")


@pytest.fixture
def now():
    return FixedClock(MONDAY_10_NY)


@pytest.fixture
def cmds(db, now):
    return TicketCommands(db, now)


@pytest.fixture
def desk(factories, db):
    """Billing (the default team, New York hours; Ann capacity 4, Bob 6) and Tech (24/7; Cy capacity 5)."""
    billing = factories.team("Billing", schedule=NY_HOURS, is_default=True)
    tech = factories.team("Tech")
    ann = factories.agent("Ann", teams=[billing], capacity=4).id
    bob = factories.agent("Bob", teams=[billing], capacity=6).id
    cy = factories.agent("Cy", teams=[tech], capacity=5).id
    names = {r["id"]: r["name"] for r in db.query("SELECT id::text AS id, name FROM teams")}
    return {"billing": billing, "tech": tech, "ann": ann, "bob": bob, "cy": cy,
            "Billing": names[str(billing)], "Tech": names[str(tech)]}


def open_ticket(cmds, team, subject="printer on fire", channel="email"):
    return cmds.create_ticket({"channel": channel, "subject": subject, "body": "help",
                               "requester_email": "kim@example.com", "team_id": str(team)}).ticket

"""Every job of the scheduled sweep (functions/sweep) costs a bounded number of Data API calls, the
same at a small and a large backlog: open tickets, a routing queue no free agent is skilled for,
pending outbox rows, absent agents holding tickets."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.events.outbox import RELAY_MAX_CALLS
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.routing.assignment import BACKFILL_MAX_CALLS, HAND_OVER_MAX_PAGES
from helpdesk.sla.sweep import SweepSettings


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


WORLD = """
WITH c AS (INSERT INTO customers (email) VALUES (:email) RETURNING id),
team AS (INSERT INTO teams (name, assignment_mode) VALUES (:team_name, 'push') RETURNING id),
agents AS (
    INSERT INTO agents (email, name, capacity, skills, ooo_start)
    SELECT :team_name || '-' || k || '@example.com', k, cap, skills::jsonb, ooo
    FROM (VALUES ('lawyer', 0, '["legal"]', NULL::timestamptz), ('free1', 50, '[]', NULL), ('free2', 50, '[]', NULL),
                 ('away', 1000, '[]', :now::timestamptz - interval '1 hour')) AS a(k, cap, skills, ooo)
    RETURNING id, name
),
members AS (INSERT INTO team_members (team_id, agent_id) SELECT team.id, agents.id FROM team, agents),
queued AS (
    -- the queue nobody free can take: every ticket needs 'legal', held only by a full agent
    INSERT INTO tickets (id, subject, channel, requester_id, team_id, tags, created_at, updated_at)
    SELECT gen_random_uuid(), 'legal ' || g, 'api', c.id, team.id, '["legal"]', :now::timestamptz, :now::timestamptz
    FROM c, team, generate_series(1, :n) g
),
held AS (
    -- tickets an absent agent holds (handed over to the queue by the sweep)
    INSERT INTO tickets (id, subject, channel, requester_id, team_id, assignee_id, status, tags, created_at, updated_at)
    SELECT gen_random_uuid(), 'held ' || g, 'api', c.id, team.id, agents.id, 'assigned', '["legal"]',
           :now::timestamptz, :now::timestamptz
    FROM c, team, agents, generate_series(1, :n) g WHERE agents.name = 'away'
)
INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at, created_at)
SELECT gen_random_uuid(), 'ticket.priority_changed', NULL, jsonb_build_object('from', 'low', 'to', 'high', 'number', g),
       :now::timestamptz, now() - interval '10 minutes'
FROM generate_series(1, :n) g
"""


@pytest.fixture
def world(db, now, bulk_tickets):
    def build(n: int) -> None:
        bulk_tickets(n, due=utc(2026, 3, 20, 12, 0), now=utc(2026, 3, 6, 12, 0))  # open, nothing due soon
        db.execute(WORLD, {"n": n, "now": now.now(), "email": f"w-{uuid.uuid4().hex[:8]}@example.com",
                           "team_name": f"jobs-{uuid.uuid4().hex[:6]}"})
        db.execute("ANALYZE")
    return build


def job_calls(db, now) -> dict[str, int]:
    """Data API calls per job of one scheduled run, in the order helpdesk.periodic runs them."""
    from helpdesk.periodic import jobs, run_job
    from helpdesk.routing.config import invalidate

    invalidate()  # a sweep a minute after the last finds its routing configuration expired (TTL 30 s)
    out = {}
    publisher = RecordingPublisher()
    for job in jobs():
        db.stats.calls = 0
        run_job(job, db, now, publisher)
        out[job.name] = db.stats.calls
    return out


BOUNDS = {"sla": SweepSettings().max_calls, "outbox_relay": RELAY_MAX_CALLS,
          "out_of_office_handover": HAND_OVER_MAX_PAGES, "queue_backfill": BACKFILL_MAX_CALLS, "metrics": 1,
          "operations_metrics": 1}


def test_the_schedule_declares_each_job_bound_where_the_job_lives():
    from helpdesk import periodic

    assert {job.name: job.max_calls for job in periodic.jobs()} == BOUNDS
    assert periodic.max_calls() == sum(BOUNDS.values())


def test_every_job_is_bounded_and_the_same_at_two_backlog_sizes(db, now, world):
    world(10)
    small = job_calls(db, now)
    now.advance(timedelta(minutes=1))
    world(1500)
    large = job_calls(db, now)
    assert small == large
    assert set(small) == set(BOUNDS)
    assert all(small[job] <= BOUNDS[job] for job in BOUNDS), (small, BOUNDS)
    # the steady state: nothing due, nothing assignable, the handover and relay each one page
    assert small == {"sla": 4, "outbox_relay": 2, "out_of_office_handover": 1, "queue_backfill": 2, "metrics": 1,
                     "operations_metrics": 1}

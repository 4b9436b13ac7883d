"""Concurrency against the real PostgreSQL through the local Data API: every thread has its own DataApi
over the shared rds-data client. A temporary CHECK (active_count <= capacity) makes "never above
capacity" a hard rule during the push tests: any overshoot, even for an instant inside a transaction,
fails that statement and is counted as an error."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest

from helpdesk.events.publisher import DeferredPublisher
from helpdesk.routing.assignment import Assignment
from helpdesk.routing.intake import open_ticket

from .conftest import new_ticket, run_threads, thread_db

QUEUE_SQL = """
WITH c AS (INSERT INTO customers (email) VALUES ('bulk@example.com') RETURNING id)
INSERT INTO tickets (id, subject, priority, channel, requester_id, team_id, created_at, updated_at)
SELECT gen_random_uuid(), 'queued ' || g, (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4], 'api', c.id,
       :team::uuid, :now::timestamptz + make_interval(secs => g), :now::timestamptz
FROM c, generate_series(1, :n) g
"""


@pytest.mark.slow
def test_50_claimers_take_1000_tickets_each_exactly_once(db, clock, rds_data_client, make_team, make_agent):
    team = make_team(mode="pull")
    agents = [make_agent(f"puller{i}", teams=[team], capacity=1) for i in range(50)]
    db.execute(QUEUE_SQL, {"team": team, "now": clock.now(), "n": 1000})
    claimed: list[list[uuid.UUID]] = [[] for _ in agents]
    calls: list[int] = [0] * len(agents)

    def worker(i: int) -> None:
        api = thread_db(rds_data_client)
        assign = Assignment(api, clock)
        while (ticket := assign.claim_next_ticket(agents[i])) is not None:
            claimed[i].append(ticket.id)
        calls[i] = api.stats.calls

    errors = run_threads(len(agents), worker)
    assert errors == []
    everything = [t for per in claimed for t in per]
    assert len(everything) == 1000 and len(set(everything)) == 1000
    assert sum(calls) == 1000 + len(agents)  # one call per claim, plus each thread's final empty claim
    rows = db.query_one("""SELECT count(*) FILTER (WHERE assignee_id IS NULL) AS unassigned,
                                  count(DISTINCT id) AS tickets FROM tickets""")
    assert rows == {"unassigned": 0, "tickets": 1000}
    history = db.query("SELECT ticket_id, agent_id FROM assignments WHERE reason = 'pulled'")
    assert len(history) == 1000 and len({h["ticket_id"] for h in history}) == 1000
    owners = {str(t): str(agents[i]) for i, per in enumerate(claimed) for t in per}
    assert all(owners[h["ticket_id"]] == h["agent_id"] for h in history)
    assert db.query_one("SELECT count(*) AS n FROM ticket_audit WHERE event_type = 'ticket.assigned'")["n"] == 1000
    loads = {r["id"]: r["active_count"] for r in db.query("SELECT id, active_count FROM agents")}
    assert loads == {str(a): len(claimed[i]) for i, a in enumerate(agents)}
    # the queue order held: the urgent tickets (every 4th, g % 4 == 3) were all claimed before any low one
    ordered = db.query("""SELECT t.priority FROM assignments a JOIN tickets t ON t.id = a.ticket_id
                          WHERE a.reason = 'pulled' ORDER BY a.id""")
    first_low = next(i for i, r in enumerate(ordered) if r["priority"] == "low")
    assert Counter(r["priority"] for r in ordered[:first_low])["urgent"] == 250


@pytest.mark.slow
def test_20_pushers_500_tickets_never_exceed_capacity(db, clock, rds_data_client, make_team, make_agent, capacity_guard, loads):
    team = make_team(is_default=True)
    agents = [make_agent(f"pushed{i}", teams=[team], capacity=10) for i in range(5)]
    per_thread = 25
    results: list[list] = [[] for _ in range(20)]

    def worker(i: int) -> None:
        api = thread_db(rds_data_client)
        for k in range(per_thread):
            results[i].append(open_ticket(api, clock, DeferredPublisher(), new_ticket(subject=f"t{i}-{k}")).ticket)

    errors = run_threads(20, worker)
    assert errors == []
    tickets = [t for per in results for t in per]
    assert len(tickets) == 500
    assigned = [t for t in tickets if t.assignee_id is not None]
    assert len(assigned) == 50  # 5 agents x capacity 10
    assert Counter(t.assignee_id for t in assigned) == {a: 10 for a in agents}
    assert all(t.status == "new" and t.team_id == team for t in tickets if t.assignee_id is None)
    for agent_id, (active, held, capacity) in loads().items():
        assert active == held == capacity == 10
    # every assignment left its history row and audit event
    assert db.query_one("SELECT count(*) AS n FROM assignments WHERE reason = 'pushed'")["n"] == 50
    assert db.query_one("SELECT count(*) AS n FROM assignments WHERE reason = 'routed'")["n"] == 500
    assert db.query_one("SELECT count(*) AS n FROM ticket_audit WHERE event_type = 'ticket.assigned'")["n"] == 50
    assert db.query_one("SELECT count(*) AS n FROM tickets WHERE assignee_id IS NULL AND status = 'new'")["n"] == 450


def test_pushes_into_two_teams_sharing_agents(db, clock, rds_data_client, make_team, make_agent, capacity_guard, loads):
    """An agent in two teams: pushes into both teams lock different team rows; the agent-row re-check
    still keeps them at capacity. Mixed with back-fill runs."""
    red, blue, pull = make_team("red"), make_team("blue"), make_team("pull", mode="pull")
    shared = [make_agent(f"shared{i}", teams=[red, blue, pull], capacity=6) for i in range(3)]
    db.execute(QUEUE_SQL, {"team": pull, "now": clock.now(), "n": 60})

    def worker(i: int) -> None:
        api = thread_db(rds_data_client)
        if i % 5 == 4:
            assign = Assignment(api, clock)
            for _ in range(5):
                assign.backfill()
            return
        team = red if i % 2 else blue
        for k in range(10):
            open_ticket(api, clock, DeferredPublisher(), new_ticket(team_id=str(team), subject=f"{i}-{k}"))

    errors = run_threads(15, worker)
    assert errors == []
    for agent_id, (active, held, capacity) in loads().items():
        assert active == held == 6
    assert db.query_one("SELECT count(*) AS n FROM tickets WHERE team_id <> :p::uuid AND assignee_id IS NOT NULL",
                        {"p": pull})["n"] == 18

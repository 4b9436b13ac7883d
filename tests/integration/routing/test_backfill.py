"""The set-based queue back-fill (routing_backfill, migration 1110) on the real database: the same
decisions as one push per ticket, the same trail, calls that do not grow with the queue, and the
push guarantees (capacity, no double assignment) under concurrency at two queue sizes."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from helpdesk.events.publisher import DeferredPublisher, RecordingPublisher
from helpdesk.routing.assignment import Assignment
from helpdesk.routing.config import routing_config
from helpdesk.routing.intake import open_ticket
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

from .conftest import new_ticket, run_threads, thread_db

# Queued tickets in bulk: priorities cycle, every `tag_every`-th ticket carries :tag.
BULK_QUEUE = """
WITH c AS (INSERT INTO customers (email) VALUES ('bulk-' || gen_random_uuid() || '@example.com') RETURNING id)
INSERT INTO tickets (id, subject, priority, channel, requester_id, team_id, tags, created_at, updated_at)
SELECT gen_random_uuid(), 'queued ' || g, (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4], 'api', c.id, :team::uuid,
       CASE WHEN g % :tag_every = 0 THEN jsonb_build_array(:tag::text) ELSE '[]'::jsonb END,
       :now::timestamptz + make_interval(secs => g), :now::timestamptz
FROM c, generate_series(1, :n) g
"""



def owners(db, team) -> dict[str, str | None]:
    return {r["id"]: r["assignee_id"] for r in db.query("SELECT id, assignee_id FROM tickets WHERE team_id = :t::uuid",
                                                        {"t": team})}


@pytest.mark.parametrize("mode", ["push", "round_robin"])
def test_backfill_decides_like_one_push_per_ticket(db, clock, make_team, make_agent, queue, mode):
    """Priority then oldest; least loaded (round robin: longest idle) among present, active members
    with free capacity who hold the ticket's required skills. Run the back-fill, undo it, push the
    same queue one ticket at a time: the same agent for every ticket."""
    team = make_team(mode=mode)
    busy = make_agent("busy", teams=[team], capacity=3)
    make_agent("german", teams=[team], capacity=2, skills=["german"])
    make_agent("polyglot", teams=[team], capacity=4, skills=["French", "german"])
    make_agent("spanish", teams=[team], capacity=0, skills=["spanish"])  # full: nobody free speaks Spanish
    away = make_agent("away", teams=[team], capacity=5)
    make_agent("inactive", teams=[team], capacity=5, active=False)
    db.execute("UPDATE agents SET ooo_start = :s::timestamptz WHERE id = :a::uuid", {"s": clock.now(), "a": away})
    held = queue(team)[0]
    TicketCommands(db, clock).assign(held.id, Actor.system(), agent_id=busy)
    tags = [["german"], [], ["french"], ["spanish"], ["german", "french"], ["vip"], [], ["GERMAN"], [], ["french"], [], []]
    priorities = ["normal", "urgent", "low", "high", "normal", "high", "normal", "urgent", "low", "normal", "high", "normal"]
    for t, p in zip(tags, priorities):
        queue(team, tags=t, priority=p)
    stamps = db.query("SELECT id, last_assigned_at FROM agents")

    assert Assignment(db, clock).backfill() == 8  # 2 + 2 + 4 free slots; the Spanish ticket stays
    by_backfill = owners(db, team)
    spanish = db.query_one("SELECT id FROM tickets WHERE tags = '[\"spanish\"]'::jsonb")["id"]
    assert by_backfill[spanish] is None

    db.execute("UPDATE tickets SET assignee_id = NULL, status = 'new' WHERE team_id = :t::uuid AND id <> :h::uuid",
               {"t": team, "h": held.id})
    for s in stamps:
        db.execute("UPDATE agents SET last_assigned_at = :at::timestamptz WHERE id = :a::uuid", {"at": s["last_assigned_at"], "a": s["id"]})
    assign = Assignment(db, clock)
    for row in db.query("""SELECT id FROM tickets WHERE team_id = :t::uuid AND assignee_id IS NULL
                           ORDER BY priority_rank, created_at, id""", {"t": team}):
        assign.push_assign(row["id"])
    assert owners(db, team) == by_backfill


def test_backfill_leaves_the_trail_of_a_push(db, clock, make_team, make_agent, queue):
    team = make_team()
    agent = make_agent(teams=[team], capacity=5)
    fresh, returned, reopened = queue(team, 3)
    # unassigned in_progress (its agent went away) and reopened, walked through the state machine
    for ticket, path in ((returned, ("assigned", "in_progress")),
                         (reopened, ("assigned", "in_progress", "resolved", "closed", "reopened"))):
        for status in path:
            db.execute("UPDATE tickets SET status = :s WHERE id = :t::uuid", {"s": status, "t": ticket.id})
    publisher = RecordingPublisher()
    routing_config(db)
    db.stats.calls = 0
    assert Assignment(db, clock, publisher).backfill() == 3
    assert db.stats.calls == 2  # the back-fill statement + one follow-up acknowledging the published events
    rows = {r["id"]: r for r in db.query("SELECT id, assignee_id, status, version FROM tickets")}
    assert {r["assignee_id"] for r in rows.values()} == {str(agent)}
    assert [rows[str(t.id)]["status"] for t in (fresh, returned, reopened)] == ["assigned", "assigned", "reopened"]
    for ticket, status_events in ((fresh, 1), (returned, 1), (reopened, 0)):
        history = db.query("SELECT agent_id, assigned_by, reason FROM assignments WHERE ticket_id = :t::uuid ORDER BY id",
                           {"t": ticket.id})
        assert history[-1] == {"agent_id": str(agent), "assigned_by": None, "reason": "backfill"}
        audit = db.query("SELECT event_type, actor_type, data FROM ticket_audit WHERE ticket_id = :t::uuid AND event_type <> 'ticket.created'",
                         {"t": ticket.id})
        assert Counter(a["event_type"] for a in audit) == {"ticket.assigned": 1, **({"ticket.status_changed": 1} if status_events else {})}
        assert all(a["actor_type"] == "system" and a["data"]["reason"] == "backfill" for a in audit)
    assert db.query_one("SELECT active_count FROM agents WHERE id = :a::uuid", {"a": agent})["active_count"] == 3
    published = [e for e in publisher.published if e["event_type"] in ("ticket.assigned", "ticket.status_changed")]
    assert len(published) == 5
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND event_type <> 'ticket.created'")["n"] == 0


def test_backfill_skips_off_shift_pull_only_and_unavailable(db, clock, make_team, make_agent, queue):
    night = make_team("night", schedule={"timezone": "America/New_York", "hours": {"sun": [["09:00", "17:00"]]}})
    pull = make_team("pull", mode="pull")
    nobody = make_team("nobody")
    for team in (night, pull):
        make_agent(teams=[team], capacity=5)
    make_agent("away", teams=[nobody], capacity=5)
    make_agent("inactive", teams=[nobody], capacity=5, active=False)
    db.execute("UPDATE agents SET ooo_start = :s::timestamptz WHERE name = 'away'", {"s": clock.now() - timedelta(hours=1)})
    for team in (night, pull, nobody):
        queue(team, 2)
    assert Assignment(db, clock).backfill() == 0
    assert Assignment(db, clock).backfill(night) == 0
    assert db.query_one("SELECT count(*) AS n FROM tickets WHERE assignee_id IS NOT NULL")["n"] == 0


@pytest.mark.parametrize("queued", [20, 3000])
def test_backfill_calls_do_not_grow_with_a_queue_nobody_can_take(db, clock, make_team, make_agent, queue, queued):
    """A long queue no free agent is skilled for (its skilled agent is full), free agents, and a few
    tickets they can take behind it: one statement takes those, the same one call at both sizes."""
    team = make_team()
    make_agent("lawyer", teams=[team], capacity=0, skills=["legal"])
    free = [make_agent(f"free{i}", teams=[team], capacity=5) for i in range(2)]
    db.execute(BULK_QUEUE, {"team": team, "now": clock.now() - timedelta(days=1), "n": queued, "tag": "legal", "tag_every": 1})
    db.execute("ANALYZE tickets")
    takeable = queue(team, 3)  # newer than every legal ticket
    assign = Assignment(db, clock)
    routing_config(db)
    db.stats.calls = 0
    assert assign.backfill() == 3
    assert db.stats.calls == 1
    assert {owners(db, team)[str(t.id)] for t in takeable} == {str(a) for a in free}
    db.stats.calls = 0
    assert assign.backfill() == 0
    assert db.stats.calls == 1
    assert db.query_one("SELECT count(*) AS n FROM tickets WHERE assignee_id IS NULL")["n"] == queued


@pytest.mark.parametrize("queued", [20, 3000])
def test_backfill_catch_up_is_bounded_by_batches(db, clock, make_team, make_agent, queued):
    team = make_team()
    for i in range(4):
        make_agent(f"a{i}", teams=[team], capacity=1000)
    db.execute(BULK_QUEUE, {"team": team, "now": clock.now(), "n": queued, "tag": "none", "tag_every": 1})
    assign = Assignment(db, clock)
    routing_config(db)
    db.stats.calls = 0
    assigned = assign.backfill(batch=100, max_rounds=3)
    assert assigned == min(queued, 300)
    assert db.stats.calls == min(3, queued // 100 + 1)


def test_a_full_batch_fits_the_data_api_limits(db, clock, make_team, make_agent):
    team = make_team()
    for i in range(2):
        make_agent(f"a{i}", teams=[team], capacity=1000)
    db.execute(BULK_QUEUE, {"team": team, "now": clock.now(), "n": 600, "tag": "none", "tag_every": 1})
    publisher = RecordingPublisher()
    assign = Assignment(db, clock, publisher)
    routing_config(db)
    db.stats.calls = 0
    assert assign.backfill() == 600
    assert db.stats.calls == 3  # a full batch of 500, the remaining 100, one follow-up acknowledging 1,200 events
    assert len(publisher.published) == 1200
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")["n"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("queued", [60, 1200])
def test_concurrent_backfills_pushes_and_claims_keep_every_guarantee(db, clock, rds_data_client, make_team, make_agent,
                                                                     capacity_guard, loads, queued):
    """Back-fills in parallel with pushes into the same teams (agents shared by two teams) and claims:
    nobody above capacity even for an instant (CHECK), no ticket assigned twice, one history row
    and one ticket.assigned event per assignment, and no deadlock, at a small and a large queue."""
    red, blue = make_team("red"), make_team("blue", mode="round_robin")
    shared = [make_agent(f"shared{i}", teams=[red, blue], capacity=8, skills=["german"] if i == 0 else []) for i in range(3)]
    own = [make_agent(f"red{i}", teams=[red], capacity=5) for i in range(2)]
    claimer = make_agent("claimer", teams=[red, blue], capacity=1000)
    for team in (red, blue):
        db.execute(BULK_QUEUE, {"team": team, "now": clock.now(), "n": queued // 2, "tag": "german", "tag_every": 7})

    def worker(i: int) -> None:
        api = thread_db(rds_data_client)
        if i % 4 == 0:
            for _ in range(3):
                Assignment(api, clock).backfill(batch=7)
        elif i % 4 == 1:
            for k in range(6):
                open_ticket(api, clock, DeferredPublisher(), new_ticket(team_id=str(red if k % 2 else blue), subject=f"{i}-{k}"))
        elif i % 4 == 2:
            for _ in range(5):
                Assignment(api, clock).claim_next_ticket(claimer)
        else:
            for _ in range(3):
                Assignment(api, clock).backfill(red, batch=3)

    assert run_threads(12, worker) == []
    Assignment(db, clock).backfill()  # whatever the races left for the next sweep
    for agent_id, (active, held, capacity) in loads().items():
        assert active == held <= capacity
    for agent in shared + own:
        assert loads()[str(agent)][0] == loads()[str(agent)][2]  # every capacity-limited agent ended full
    per_ticket = db.query("""SELECT ticket_id, count(*) AS n FROM assignments WHERE agent_id IS NOT NULL GROUP BY ticket_id""")
    assert per_ticket and all(r["n"] == 1 for r in per_ticket)
    events = db.query("""SELECT ticket_id, count(*) AS n FROM ticket_audit WHERE event_type = 'ticket.assigned' GROUP BY ticket_id""")
    assert {r["ticket_id"]: r["n"] for r in events} == {r["ticket_id"]: 1 for r in per_ticket}
    assigned = db.query_one("SELECT count(*) AS n FROM tickets WHERE assignee_id IS NOT NULL")["n"]
    assert assigned == len(per_ticket)
    assert db.query_one("SELECT count(*) AS n FROM assignments WHERE reason = 'backfill'")["n"] > 0

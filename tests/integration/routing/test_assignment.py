"""Push, pull, back-fill, out of office and reopen hand-back on the real database."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from helpdesk import errors
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.routing.assignment import Assignment
from helpdesk.routing.config import routing_config
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from tests.factories import FACTORY



@pytest.fixture
def assign(db, clock):
    return Assignment(db, clock)



def trail(db, ticket_id):
    history = db.query("SELECT agent_id, team_id, assigned_by, reason FROM assignments WHERE ticket_id = :t::uuid ORDER BY id",
                       {"t": ticket_id})
    audit = db.query("SELECT event_type, actor_type, from_status, to_status, data FROM ticket_audit WHERE ticket_id = :t::uuid ORDER BY id",
                     {"t": ticket_id})
    outbox = db.query("SELECT event_type FROM outbox WHERE ticket_id = :t::uuid ORDER BY seq", {"t": ticket_id})
    return history, audit, [r["event_type"] for r in outbox]


# -- pull --------------------------------------------------------------------------------------
def test_claim_takes_highest_priority_then_oldest_of_my_teams(db, assign, make_team, make_agent, queue):
    mine, other = make_team("mine", mode="pull"), make_team("other", mode="pull")
    agent = make_agent(teams=[mine])
    old_normal = queue(mine, priority="normal")[0]
    queue(other, priority="urgent")
    new_high = queue(mine, priority="high")[0]
    newer_high = queue(mine, priority="high")[0]
    db.stats.calls = 0
    got = assign.claim_next_ticket(agent)
    assert db.stats.calls == 1
    assert got.id == new_high.id and got.assignee_id == agent and got.status == "assigned"
    assert [assign.claim_next_ticket(agent).id for _ in range(2)] == [newer_high.id, old_normal.id]
    assert assign.claim_next_ticket(agent) is None
    history, audit, outbox = trail(db, new_high.id)
    assert [(h["reason"], h["agent_id"], h["assigned_by"]) for h in history] == [("routed", None, None), ("pulled", str(agent), str(agent))]
    assert [a["event_type"] for a in audit] == ["ticket.created", "ticket.assigned", "ticket.status_changed"]
    assert audit[1]["data"]["reason"] == "pulled" and audit[1]["actor_type"] == "agent"
    assert outbox == ["ticket.created", "ticket.assigned", "ticket.status_changed"]
    assert db.query_one("SELECT active_count FROM agents WHERE id = :a::uuid", {"a": agent})["active_count"] == 3


def test_claim_errors_and_publishing(db, clock, make_team, make_agent, queue):
    with pytest.raises(errors.NotFound):
        Assignment(db, clock).claim_next_ticket(uuid.uuid4())
    with pytest.raises(errors.ValidationFailed, match="agent_id"):
        Assignment(db, clock).claim_next_ticket("x")
    team = make_team(mode="pull")
    agent = make_agent(teams=[team])
    queue(team)
    pub = RecordingPublisher()
    db.stats.calls = 0
    Assignment(db, clock, pub).claim_next_ticket(agent)
    assert db.stats.calls == 2  # the claim + the follow-up acknowledging the published events
    assert [e["event_type"] for e in pub.published] == ["ticket.assigned", "ticket.status_changed"]
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND event_type = 'ticket.assigned'")["n"] == 0


# -- push --------------------------------------------------------------------------------------
def test_push_least_loaded_then_longest_idle_with_skills_and_capacity(db, clock, assign, make_team, make_agent, queue):
    team = make_team()
    busy = make_agent("busy", teams=[team], capacity=5)
    idle_a = make_agent("a", teams=[team], capacity=1)
    idle_b = make_agent("b", teams=[team], capacity=5, skills=["Spanish"])
    db.execute("UPDATE agents SET active_count = 3 WHERE id = :a::uuid", {"a": busy})  # pretend load
    db.execute("UPDATE agents SET last_assigned_at = :t WHERE id = :a::uuid", {"a": idle_b, "t": clock.now() - timedelta(hours=1)})
    t1, t2, t3, t4 = queue(team, 4)
    # idle_a never assigned (NULLS FIRST) beats idle_b at equal load
    assert assign.push_assign(t1.id).ticket.assignee_id == idle_a
    # idle_a is now full (capacity 1): idle_b (load 0) next
    assert assign.push_assign(t2.id).ticket.assignee_id == idle_b
    # idle_b load 1 < busy load 3
    assert assign.push_assign(t3.id).ticket.assignee_id == idle_b
    history, audit, outbox = trail(db, t3.id)
    assert history[-1]["reason"] == "pushed" and audit[-2]["data"]["reason"] == "pushed"
    # a Spanish ticket: only idle_b has the skill; tag case does not matter
    spanish = queue(team, tags=["SPANISH", "vip"])[0]
    assert assign.push_assign(spanish.id).ticket.assignee_id == idle_b
    db.execute("UPDATE agents SET capacity = 3 WHERE id = :a::uuid", {"a": idle_b})
    assert assign.push_assign(queue(team, tags=["spanish"])[0].id) is None  # skilled agent full: waits
    assert assign.push_assign(t4.id).ticket.assignee_id == busy  # the only one left under capacity
    assert assign.push_assign(t4.id) is None  # no longer queued


def test_push_respects_mode_shift_absence_and_activity(db, clock, assign, make_team, make_agent, queue):
    pull = make_team("pull", mode="pull")
    make_agent(teams=[pull])
    assert assign.push_assign(queue(pull)[0].id) is None
    # a schedule that is closed at the fixture's Monday 15:00Z (10:00 New York): Sundays only
    closed = make_team("closed", schedule={"timezone": "America/New_York", "hours": {"sun": [["09:00", "17:00"]]}})
    make_agent(teams=[closed])
    assert assign.push_assign(queue(closed)[0].id) is None
    open_team = make_team("open", schedule={"timezone": "America/New_York", "hours": {"mon": [["09:00", "17:00"]]}})
    away = make_agent("away", teams=[open_team])
    gone = make_agent("gone", teams=[open_team], active=False)
    here = make_agent("here", teams=[open_team])
    db.execute("UPDATE agents SET ooo_start = :s, ooo_end = :e WHERE id = :a::uuid",
               {"a": away, "s": clock.now() - timedelta(days=1), "e": clock.now() + timedelta(days=1)})
    db.execute("UPDATE agents SET last_assigned_at = :t WHERE id = :a::uuid", {"a": here, "t": clock.now()})
    assert assign.push_assign(queue(open_team)[0].id).ticket.assignee_id == here
    assert gone


def test_round_robin_rotates_by_last_assignment(db, assign, make_team, make_agent, queue, clock):
    team = make_team(mode="round_robin")
    agents = [make_agent(f"rr{i}", teams=[team], capacity=50) for i in range(3)]
    tickets = queue(team, 6)
    got = []
    for t in tickets:
        got.append(assign.push_assign(t.id).ticket.assignee_id)
        clock.advance(timedelta(seconds=1))
    assert got[:3] == sorted(agents) and got[3:] == got[:3]
    assert {h["reason"] for h in trail(db, tickets[0].id)[0][1:]} == {"round_robin"}


def test_backfill_oldest_first_when_capacity_frees(db, clock, assign, make_team, make_agent, queue):
    team = make_team()
    agent = make_agent(teams=[team], capacity=1)
    skilled_only = queue(team, tags=["legal"])  # nobody has 'legal' -> not a skill requirement
    first = queue(team)[0]
    later = queue(team)[0]
    assert assign.backfill() == 1
    owner = db.query("SELECT id FROM tickets WHERE assignee_id = :a::uuid", {"a": agent})
    assert [r["id"] for r in owner] == [str(skilled_only[0].id)]
    assert assign.backfill(team) == 0  # full
    TicketCommands(db, clock).transition(skilled_only[0].id, "in_progress", Actor(type="agent", id=agent))
    TicketCommands(db, clock).transition(skilled_only[0].id, "resolved", Actor(type="agent", id=agent))
    assert assign.backfill() == 1
    assert TicketCommands(db, clock).get_ticket(first.id).ticket["assignee_id"] == str(agent)
    assert trail(db, first.id)[0][-1]["reason"] == "backfill"
    assert TicketCommands(db, clock).get_ticket(later.id).ticket["assignee_id"] is None


def test_backfill_steps_over_tickets_nobody_can_take(db, assign, make_team, make_agent, queue):
    team = make_team()
    make_agent("fr", teams=[team], skills=["french"])
    make_agent("de", teams=[team], skills=["german"], capacity=0)
    german = queue(team, tags=["german"])[0]  # only the full German speaker could take it
    plain = queue(team)[0]
    assert assign.backfill() == 1
    assert assign.push_assign(german.id) is None
    assert db.query_one("SELECT assignee_id FROM tickets WHERE id = :t::uuid", {"t": plain.id})["assignee_id"] is not None


# -- out of office ------------------------------------------------------------------------------
def test_out_of_office_hands_over_and_new_tickets_skip(db, clock, make_team, make_agent, queue):
    team = make_team()
    away = make_agent("away", teams=[team], capacity=10)
    delegate = make_agent("delegate", teams=[team], capacity=10)
    assign = Assignment(db, clock)
    tickets = queue(team, 3)
    for t in tickets:
        TicketCommands(db, clock).assign(t.id, Actor.system(), agent_id=away)
    TicketCommands(db, clock).transition(tickets[1].id, "in_progress", Actor(type="agent", id=away))
    start = clock.now() + timedelta(hours=1)
    assign.set_out_of_office(away, start, start + timedelta(days=2), delegate, by=FACTORY)
    assert assign.hand_over_due() == 0  # not yet
    clock.advance(timedelta(hours=1))
    assert assign.hand_over_due() == 3
    rows = db.query("SELECT id, assignee_id, status FROM tickets ORDER BY number")
    assert {r["assignee_id"] for r in rows} == {str(delegate)}
    assert [r["status"] for r in rows] == ["assigned", "assigned", "assigned"]
    history, audit, _ = trail(db, tickets[1].id)
    assert history[-1]["reason"] == "vacation_handover" and history[-1]["agent_id"] == str(delegate)
    assert audit[-2]["data"]["previous_agent_id"] == str(away)
    started = db.query("SELECT data FROM ticket_audit WHERE event_type = 'agent.out_of_office_started'")
    assert len(started) == 1 and started[0]["data"]["tickets_handed_over"] == 3
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE event_type = 'agent.out_of_office_started'")["n"] == 1
    assert assign.hand_over_due() == 0  # idempotent; no second notification
    assert db.query_one("SELECT count(*) AS n FROM ticket_audit WHERE event_type = 'agent.out_of_office_started'")["n"] == 1
    # new tickets skip the absent agent
    db.execute("UPDATE agents SET active_count = 0, capacity = 1 WHERE id = :a::uuid", {"a": delegate})
    fresh = queue(team)[0]
    assert assign.push_assign(fresh.id).ticket.assignee_id == delegate
    assert assign.push_assign(queue(team)[0].id) is None  # delegate full, absent agent skipped
    loads = {r["id"]: r["active_count"] for r in db.query("SELECT id, active_count FROM agents")}
    assert loads[str(away)] == 0
    # after the end the agent takes tickets again
    clock.advance(timedelta(days=2))
    assert assign.backfill() == 1


def test_out_of_office_without_delegate_returns_tickets_to_the_queue(db, clock, make_team, make_agent, queue):
    team = make_team(mode="pull")
    away = make_agent("away", teams=[team])
    other = make_agent("other", teams=[team])
    assign = Assignment(db, clock)
    t1, t2 = queue(team, 2)
    for t in (t1, t2):
        TicketCommands(db, clock).assign(t.id, Actor.system(), agent_id=away)
    TicketCommands(db, clock).transition(t2.id, "in_progress", Actor(type="agent", id=away))
    assign.set_out_of_office(away, clock.now(), None, by=FACTORY)  # starts now: handed over at once
    rows = {r["id"]: r for r in db.query("SELECT id, assignee_id, status FROM tickets")}
    assert rows[str(t1.id)]["assignee_id"] is None and rows[str(t1.id)]["status"] == "new"
    assert rows[str(t2.id)]["assignee_id"] is None and rows[str(t2.id)]["status"] == "in_progress"
    claimed = {assign.claim_next_ticket(other).id, assign.claim_next_ticket(other).id}
    assert claimed == {t1.id, t2.id}
    assign.clear_out_of_office(away, by=FACTORY)
    assert db.query_one("SELECT ooo_start FROM agents WHERE id = :a::uuid", {"a": away})["ooo_start"] is None


def test_out_of_office_validation(db, clock, make_agent):
    assign = Assignment(db, clock)
    agent = make_agent()
    now = clock.now()
    with pytest.raises(errors.ValidationFailed, match="must be after start"):
        assign.set_out_of_office(agent, now, now, by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="themselves"):
        assign.set_out_of_office(agent, now, None, agent, by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="delegate_id"):
        assign.set_out_of_office(agent, now, None, uuid.uuid4(), by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="timezone-aware"):
        assign.set_out_of_office(agent, now.replace(tzinfo=None), None, by=FACTORY)
    with pytest.raises(errors.NotFound):
        assign.set_out_of_office(uuid.uuid4(), now, None, by=FACTORY)
    assert db.query_one("SELECT ooo_start FROM agents WHERE id = :a::uuid", {"a": agent})["ooo_start"] is None


# -- reopen -------------------------------------------------------------------------------------
def _closed_ticket(db, clock, team, owner, queue):
    cmds = TicketCommands(db, clock)
    ticket = queue(team)[0]
    cmds.assign(ticket.id, Actor.system(), agent_id=owner)
    for status in ("in_progress", "resolved", "closed"):
        cmds.transition(ticket.id, status, Actor(type="agent", id=owner))
    result = cmds.receive_customer_message(ticket.id, {"body": "still broken", "author_type": "customer",
                                                       "author_email": "c@example.com", "channel": "email"})
    assert any(e["event_type"] == "ticket.status_changed" and e["payload"]["to"] == "reopened" for e in result.events)
    return ticket


def test_reopened_ticket_stays_with_available_owner(db, clock, assign, make_team, make_agent, queue):
    team = make_team()
    owner = make_agent("owner", teams=[team])
    ticket = _closed_ticket(db, clock, team, owner, queue)
    assert assign.reopened(ticket.id) is None
    assert db.query_one("SELECT assignee_id, status FROM tickets WHERE id = :t::uuid", {"t": ticket.id}) == {
        "assignee_id": str(owner), "status": "in_progress"}


def test_reopened_ticket_moves_when_owner_unavailable(db, clock, assign, make_team, make_agent, queue):
    team = make_team()
    owner, other = make_agent("owner", teams=[team]), make_agent("other", teams=[team])
    ticket = _closed_ticket(db, clock, team, owner, queue)
    db.execute("UPDATE agents SET ooo_start = :s WHERE id = :a::uuid", {"a": owner, "s": clock.now()})
    out = assign.reopened(ticket.id)
    assert out.ticket.assignee_id == other and out.ticket.status == "assigned"
    assert trail(db, ticket.id)[0][-1]["reason"] == "reopened"
    # nobody eligible: back to the queue (unassigned, still in_progress), claimable
    ticket2 = _closed_ticket(db, clock, team, other, queue)
    db.execute("UPDATE agents SET is_active = false WHERE id = :a::uuid", {"a": other})
    out = assign.reopened(ticket2.id)
    assert out.ticket.assignee_id is None and out.ticket.status == "in_progress"
    db.execute("UPDATE agents SET ooo_start = NULL WHERE id = :a::uuid", {"a": owner})
    pull = make_agent("puller", teams=[team])
    assert assign.claim_next_ticket(pull).id == ticket2.id


def test_backfill_is_bounded_per_run(db, assign, make_team, make_agent, queue):
    team = make_team()
    make_agent(teams=[team], capacity=10)
    queue(team, 5)
    routing_config(db)  # warm the per-process routing cache
    db.stats.calls = 0
    assert assign.backfill(batch=2, max_rounds=1) == 2
    assert db.stats.calls == 1  # one statement for the batch
    db.stats.calls = 0
    assert assign.backfill(batch=2) == 3
    assert db.stats.calls == 2  # a full batch, then a short one ends the run
    with pytest.raises(errors.ValidationFailed, match="batch must be between 1 and"):
        assign.backfill(batch=0)


def test_after_customer_message_acts_only_on_a_reopen(db, clock, assign, make_team, make_agent, queue):
    team = make_team()
    owner, other = make_agent("owner", teams=[team]), make_agent("other", teams=[team])
    cmds = TicketCommands(db, clock)
    ticket = queue(team)[0]
    cmds.assign(ticket.id, Actor.system(), agent_id=owner)
    for status in ("in_progress", "resolved", "closed"):
        cmds.transition(ticket.id, status, Actor(type="agent", id=owner))
    db.execute("UPDATE agents SET is_active = false WHERE id = :a::uuid", {"a": owner})
    plain = cmds.receive_customer_message(queue(team)[0].id, {"body": "hi", "author_type": "customer", "channel": "email"})
    db.stats.calls = 0
    assert assign.after_customer_message(plain) is None and db.stats.calls == 0
    reopened = cmds.receive_customer_message(ticket.id, {"body": "again", "author_type": "customer", "channel": "email"})
    assert assign.after_customer_message(reopened).ticket.assignee_id == other


def test_hand_over_pages_past_finished_absences(db, clock, make_team, make_agent, queue):
    team = make_team(mode="pull")
    cmds = TicketCommands(db, clock)
    away = [make_agent(f"away{i}", teams=[team]) for i in range(5)]
    assign = Assignment(db, clock)
    for agent in away:
        db.execute("UPDATE agents SET ooo_start = :s WHERE id = :a::uuid", {"a": agent, "s": clock.now()})
    assert assign.hand_over_due(limit=2) == 0  # five notifications, no tickets: three pages
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE event_type = 'agent.out_of_office_started'")["n"] == 5
    last = sorted(away)[-1]
    ticket = queue(team)[0]
    cmds.assign(ticket.id, Actor.system(), agent_id=last)  # work reaches an absent agent later
    db.stats.calls = 0
    assert assign.hand_over_due(limit=2) == 1
    assert db.stats.calls == 1  # finished absences do not fill the page

"""open_ticket: routing rules -> team, create and push in one statement; calls counted."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from helpdesk import errors
from helpdesk.admin import Teams
from helpdesk.events.publisher import DeferredPublisher, RecordingPublisher
from helpdesk.routing.intake import open_ticket
from helpdesk.routing.rules import RoutingRules
from tests.factories import FACTORY

from .conftest import new_ticket


def test_rule_routes_and_push_assigns_in_one_call(db, clock, make_team, make_agent):
    billing, general = make_team("billing"), make_team("general", is_default=True)
    agent = make_agent(teams=[billing])
    RoutingRules(db, clock).create({"name": "invoices", "team_id": str(billing), "conditions": {"keywords": ["invoice"]}}, by=FACTORY)
    open_ticket(db, clock, DeferredPublisher(), new_ticket(subject="warm the cache"))
    db.stats.calls = 0
    result = open_ticket(db, clock, DeferredPublisher(), new_ticket(body="Where is my Invoice?"))
    assert db.stats.calls == 1
    t = result.ticket
    assert (t.team_id, t.assignee_id, t.status) == (billing, agent, "assigned")
    history = db.query("SELECT agent_id, reason FROM assignments WHERE ticket_id = :t::uuid ORDER BY id", {"t": t.id})
    assert [(h["reason"], h["agent_id"]) for h in history] == [("routed", None), ("pushed", str(agent))]
    audit = db.query("SELECT event_type, from_status, to_status, actor_type FROM ticket_audit WHERE ticket_id = :t::uuid ORDER BY id", {"t": t.id})
    assert [(a["event_type"], a["from_status"], a["to_status"]) for a in audit] == [
        ("ticket.created", None, "new"), ("ticket.assigned", None, None), ("ticket.status_changed", "new", "assigned")]
    assert db.query_one("SELECT active_count, last_assigned_at FROM agents WHERE id = :a::uuid", {"a": agent}) == {
        "active_count": 1, "last_assigned_at": clock.now()}
    # no rule matches: the default team (no agents there: waits in its queue)
    other = open_ticket(db, clock, DeferredPublisher(), new_ticket(body="hello")).ticket
    assert (other.team_id, other.assignee_id, other.status) == (general, None, "new")


def test_calls_with_publisher_and_sla_policy_stay_at_two(db, clock, make_team, make_agent):
    team = make_team(is_default=True)
    make_agent(teams=[team])
    db.execute("INSERT INTO sla_policies (name, targets) VALUES ('24x7', :t::jsonb)",
               {"t": {"first_response": {"seconds": 3600, "business": False}, "resolution": {"seconds": 86400, "business": False}}})
    pub = RecordingPublisher()
    open_ticket(db, clock, pub, new_ticket())  # fills the routing cache
    db.stats.calls = 0
    result = open_ticket(db, clock, pub, new_ticket())
    assert db.stats.calls == 2  # create + route + push, then the follow-up (publish ack + SLA deadlines)
    assert result.ticket.assignee_id is not None
    assert [e["event_type"] for e in result.events] == ["ticket.created", "ticket.assigned", "ticket.status_changed"]
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")["n"] == 0
    assert db.query_one("SELECT count(*) AS n FROM sla_targets WHERE due_at IS NULL")["n"] == 0


def test_tier_rule_needs_no_lookup(db, clock, make_team, make_agent):
    vip, std = make_team("vip"), make_team("std", is_default=True)
    RoutingRules(db, clock).create({"name": "vip", "team_id": str(vip), "conditions": {"tiers": ["enterprise"]}}, by=FACTORY)
    db.execute("INSERT INTO customers (email, tier) VALUES ('big@example.com', 'enterprise')")
    open_ticket(db, clock, DeferredPublisher(), new_ticket())
    db.stats.calls = 0
    big = open_ticket(db, clock, DeferredPublisher(), new_ticket(requester_email="Big@Example.com")).ticket
    small = open_ticket(db, clock, DeferredPublisher(), new_ticket(requester_email="new@example.com")).ticket
    assert db.stats.calls == 2
    assert (big.team_id, small.team_id) == (vip, std)


def test_recipient_rule_and_explicit_team(db, clock, make_team, make_agent):
    orders, chosen = make_team("orders"), make_team("chosen", mode="pull")
    make_agent(teams=[chosen])
    RoutingRules(db, clock).create({"name": "orders", "team_id": str(orders), "conditions": {"recipients": ["orders@example.com"]}}, by=FACTORY)
    t = open_ticket(db, clock, DeferredPublisher(), new_ticket(metadata={"recipient": "Orders@example.com"})).ticket
    assert t.team_id == orders
    t = open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=str(chosen), metadata={"recipient": "orders@example.com"})).ticket
    assert (t.team_id, t.assignee_id) == (chosen, None)  # pull-only team: waits for a claim


def test_team_created_after_cache_and_unknown_team(db, clock, make_agent):
    open_ticket(db, clock, DeferredPublisher(), new_ticket())  # the cache now knows no team
    # a team created elsewhere (another process): this process's cache does not know it yet
    team = str(Teams(db, clock).create({"name": "created elsewhere"}, by=FACTORY)["id"])  # not through factories: they refresh the cache
    agent = make_agent(teams=[team])
    db.stats.calls = 0
    t = open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=team)).ticket
    assert str(t.assignee_id) == str(agent) and db.stats.calls == 2  # one reload of the routing config
    with pytest.raises(errors.ValidationFailed, match="team_id: team .* does not exist"):
        open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=str(uuid.uuid4())))


def test_off_shift_and_full_teams_queue_and_idempotency(db, clock, make_team, make_agent):
    night = make_team("night", schedule={"timezone": "UTC", "hours": {"sun": [["00:00", "24:00"]]}}, is_default=True)
    make_agent(teams=[night])
    t = open_ticket(db, clock, DeferredPublisher(), new_ticket()).ticket
    assert t.assignee_id is None and t.status == "new"
    day = make_team("day")
    agent = make_agent(teams=[day], capacity=1)
    first = open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=str(day)), idempotency_key="k1")
    again = open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=str(day)), idempotency_key="k1")
    assert again.replayed and again.ticket.id == first.ticket.id and first.ticket.assignee_id == agent
    second = open_ticket(db, clock, DeferredPublisher(), new_ticket(team_id=str(day))).ticket
    assert second.assignee_id is None  # agent full: queued
    assert db.query_one("SELECT active_count FROM agents WHERE id = :a::uuid", {"a": agent})["active_count"] == 1


def test_round_robin_in_create(db, clock, make_team, make_agent):
    team = make_team(mode="round_robin", is_default=True)
    agents = sorted(make_agent(f"rr{i}", teams=[team]) for i in range(3))
    got = []
    for _ in range(4):
        got.append(open_ticket(db, clock, DeferredPublisher(), new_ticket()).ticket.assignee_id)
        clock.advance(timedelta(seconds=1))
    assert got == agents + agents[:1]
    assert {r["reason"] for r in db.query("SELECT reason FROM assignments WHERE agent_id IS NOT NULL")} == {"round_robin"}

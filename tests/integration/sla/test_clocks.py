"""SLA clocks driven by the ticket commands, on a real PostgreSQL, by moving an injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpdesk import errors
from helpdesk.tickets.models import Actor
from tests.factories import FACTORY

UTC = timezone.utc
H = 3600
CUSTOMER = Actor(type="customer")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def work_on(cmds, ticket_id, agent, actor):
    cmds.assign(ticket_id, actor, agent_id=agent)
    cmds.transition(ticket_id, "in_progress", actor)


def customer_says(cmds, ticket_id, text="any news?"):
    return cmds.receive_customer_message(ticket_id, {"body": text, "author_type": "customer",
                                                     "author_email": "kim@example.com"})


def test_deadlines_are_set_at_creation_in_one_statement_plus_the_follow_up(db, standard_policy, open_ticket, clocks):
    db.stats.calls = 0
    ticket = open_ticket()
    assert db.stats.calls == 2  # the atomic statement + the follow-up that writes the business-time deadlines
    c = clocks(ticket.id)
    # Friday 17:00 EST + 1 business hour = Monday 10:00 EDT (daylight time began on Sunday)
    assert c["first_response"]["due_at"] == utc(2026, 3, 9, 14, 0)
    assert c["first_response"]["warn_at"] == utc(2026, 3, 9, 13, 30)
    assert c["resolution"]["due_at"] == utc(2026, 3, 9, 21, 0)  # Monday 17:00 EDT
    assert all(x["recompute_from"] is None and x["state"] == "running" for x in c.values())
    assert c["first_response"]["policy_id"] == str(standard_policy["id"])


def test_no_policy_no_clocks_and_one_call(db, open_ticket, clocks):
    db.stats.calls = 0
    ticket = open_ticket()
    assert db.stats.calls == 1
    assert clocks(ticket.id) == {}


def test_ordered_first_match_and_contract_override(db, policies, team, standard_policy, open_ticket, clocks, now):
    policies.create({"name": "urgent", "position": 10, "priority": "urgent",
                     "targets": {"first_response": {"seconds": 900}}}, by=FACTORY)
    policies.create({"name": "chat", "position": 20, "channel": "chat",
                     "targets": {"first_response": {"seconds": 120, "business": False}}}, by=FACTORY)
    enterprise = policies.create({"name": "enterprise 24/7", "position": 500,
                                  "targets": {"first_response": {"seconds": H, "business": False},
                                              "resolution": {"seconds": 4 * H, "business": False}}}, by=FACTORY)
    assert clocks(open_ticket(priority="urgent").id)["first_response"]["target_seconds"] == 900
    assert clocks(open_ticket(channel="chat").id)["first_response"]["due_at"] == utc(2026, 3, 6, 22, 2)
    assert clocks(open_ticket().id)["first_response"]["policy_id"] == str(standard_policy["id"])
    # The contract on the customer beats the order (even an urgent-priority match) and runs 24/7.
    customer = db.query_one("SELECT id FROM customers WHERE email = 'kim@example.com'")["id"]
    policies.set_customer_contract(customer, enterprise["id"])
    c = clocks(open_ticket(priority="urgent").id)
    assert c["first_response"]["policy_id"] == str(enterprise["id"])
    assert c["first_response"]["due_at"] == utc(2026, 3, 6, 23, 0)  # Friday 18:00 EST: calendar time
    assert c["resolution"]["due_at"] == utc(2026, 3, 7, 2, 0)
    assert policies.match(priority="urgent", channel="email", customer_email="kim@example.com")["contract"] is True
    assert policies.match(priority="urgent", channel="email")["name"] == "urgent"


def test_pause_keeps_reason_and_resume_recomputes_remaining_business_time(db, cmds, now, standard_policy, open_ticket,
                                                                          clocks, agent, agent_actor):
    now.set(utc(2026, 3, 9, 13, 0))  # Monday 09:00 EDT
    ticket = open_ticket()
    assert clocks(ticket.id)["resolution"]["due_at"] == utc(2026, 3, 9, 21, 0)
    work_on(cmds, ticket.id, agent, agent_actor)
    now.set(utc(2026, 3, 9, 13, 30))  # 09:30: waiting on the customer
    cmds.transition(ticket.id, "waiting_on_customer", agent_actor)
    paused = clocks(ticket.id)["resolution"]
    assert (paused["state"], paused["pause_reason"], paused["paused_at"]) == ("paused", "waiting_on_customer", now.now())
    now.set(utc(2026, 3, 9, 18, 0))  # 14:00: the customer answers
    db.stats.calls = 0
    customer_says(cmds, ticket.id)
    assert db.stats.calls == 2
    resumed = clocks(ticket.id)["resolution"]
    # 7.5 business hours were left: 14:00-17:00 Monday (3h) + 4.5h Tuesday -> Tuesday 13:30 EDT
    assert resumed["state"] == "running" and resumed["paused_at"] is None and resumed["recompute_from"] is None
    assert resumed["due_at"] == utc(2026, 3, 10, 17, 30)
    assert resumed["pause_reason"] == "waiting_on_customer"  # kept: the last reason the clock stopped


def test_customer_replying_on_saturday_resumes_into_monday_hours(db, cmds, now, standard_policy, open_ticket, clocks,
                                                                  agent, agent_actor):
    now.set(utc(2026, 3, 6, 19, 0))  # Friday 14:00 EST
    ticket = open_ticket()
    work_on(cmds, ticket.id, agent, agent_actor)
    now.set(utc(2026, 3, 6, 20, 0))  # Friday 15:00: 1 business hour used
    cmds.transition(ticket.id, "waiting_on_customer", agent_actor)
    now.set(utc(2026, 3, 7, 15, 0))  # Saturday 10:00
    customer_says(cmds, ticket.id)
    c = clocks(ticket.id)["resolution"]
    assert c["due_at"] == utc(2026, 3, 9, 20, 0)  # 7h left from Monday 09:00 EDT -> 16:00 EDT
    assert c["warn_at"] > utc(2026, 3, 9, 13, 0)  # nothing fires on the weekend


def test_first_response_is_met_by_the_first_public_agent_message_only(db, cmds, now, standard_policy, open_ticket, clocks,
                                                                       agent, agent_actor):
    ticket = open_ticket()
    now.advance(minutes=5)
    cmds.add_message(ticket.id, {"body": "internal note", "visibility": "internal", "author_type": "agent",
                                 "author_agent_id": str(agent)}, agent_actor)
    customer_says(cmds, ticket.id, "hello?")
    assert clocks(ticket.id)["first_response"]["state"] == "running"
    now.advance(minutes=5)
    cmds.add_message(ticket.id, {"body": "on it", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
    fr = clocks(ticket.id)["first_response"]
    assert (fr["state"], fr["met_at"]) == ("met", now.now())
    now.advance(minutes=5)
    cmds.add_message(ticket.id, {"body": "again", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
    assert clocks(ticket.id)["first_response"]["met_at"] == now.now() - timedelta(minutes=5)


def test_resolution_met_on_resolve_and_reopen_gets_the_reopen_target(db, cmds, now, standard_policy, open_ticket, clocks,
                                                                      agent, agent_actor):
    now.set(utc(2026, 3, 9, 13, 0))  # Monday 09:00 EDT
    ticket = open_ticket()
    work_on(cmds, ticket.id, agent, agent_actor)
    now.set(utc(2026, 3, 9, 15, 0))
    cmds.transition(ticket.id, "resolved", agent_actor)
    c = clocks(ticket.id)
    assert (c["resolution"]["state"], c["resolution"]["met_at"]) == ("met", now.now())
    assert c["first_response"]["state"] == "cancelled"  # resolved without a public reply: nothing left to breach
    now.set(utc(2026, 3, 10, 15, 0))
    cmds.transition(ticket.id, "closed", agent_actor)
    closed = clocks(ticket.id)["resolution"]  # closing leaves the met clock alone (no restart, no recompute)
    assert (closed["state"], closed["recompute_from"], closed["met_at"]) == ("met", None, utc(2026, 3, 9, 15, 0))
    now.set(utc(2026, 3, 12, 20, 0))  # Thursday 16:00 EDT, within the 7-day reopen window
    customer_says(cmds, ticket.id, "it is broken again")
    r = clocks(ticket.id)["resolution"]
    assert (r["state"], r["target_seconds"], r["started_at"]) == ("running", 2 * H, now.now())
    assert r["due_at"] == utc(2026, 3, 13, 14, 0)  # 1h Thursday + 1h Friday from 09:00 -> Friday 10:00 EDT
    assert r["breached_at"] is None and r["met_at"] is None


def test_priority_change_recomputes_keeping_used_business_time(db, cmds, now, policies, standard_policy, open_ticket,
                                                                clocks, agent_actor):
    policies.create({"name": "urgent", "position": 10, "priority": "urgent",
                     "targets": {"first_response": {"seconds": 900}, "resolution": {"seconds": 4 * H}}}, by=FACTORY)
    now.set(utc(2026, 3, 9, 13, 0))  # Monday 09:00 EDT
    ticket = open_ticket()
    now.set(utc(2026, 3, 9, 13, 10))
    db.stats.calls = 0
    result = cmds.change_priority(ticket.id, "urgent", agent_actor, reason="VIP")
    assert db.stats.calls == 2
    assert result.ticket.priority == "urgent"
    assert [e["event_type"] for e in result.events] == ["ticket.priority_changed"]
    c = clocks(ticket.id)
    assert c["first_response"]["due_at"] == utc(2026, 3, 9, 13, 15)  # 10 of 15 minutes used
    assert c["resolution"]["due_at"] == utc(2026, 3, 9, 17, 0)  # 4h from 09:00
    assert c["resolution"]["adjust_seconds"] == 0 and c["resolution"]["paused_at"] is None
    # Back to normal while waiting on the customer: applied when the clock resumes.
    cmds.assign(ticket.id, agent_actor, agent_id=agent_actor.id)
    cmds.transition(ticket.id, "in_progress", agent_actor)
    now.set(utc(2026, 3, 9, 14, 0))  # 10:00: 1h of resolution used
    cmds.transition(ticket.id, "waiting_on_customer", agent_actor)
    cmds.change_priority(ticket.id, "normal", agent_actor)
    assert clocks(ticket.id)["resolution"]["adjust_seconds"] == 4 * H
    now.set(utc(2026, 3, 9, 15, 0))  # 11:00 the customer answers: 8h - 1h = 7h left: 6h Monday + 1h Tuesday
    customer_says(cmds, ticket.id)
    assert clocks(ticket.id)["resolution"]["due_at"] == utc(2026, 3, 10, 14, 0)
    # Same priority again: no change, no event.
    assert cmds.change_priority(ticket.id, "normal", agent_actor).events == []
    with pytest.raises(errors.ValidationFailed, match="allowed: low, normal, high, urgent"):
        cmds.change_priority(ticket.id, "critical", agent_actor)


def test_spam_cancels_clocks_and_not_spam_starts_them_again(db, cmds, now, standard_policy, open_ticket, clocks,
                                                            agent_actor):
    ticket = open_ticket()
    cmds.transition(ticket.id, "spam", agent_actor)
    assert {c["state"] for c in clocks(ticket.id).values()} == {"cancelled"}
    now.set(utc(2026, 3, 9, 14, 0))  # Monday 10:00 EDT: "not spam"
    cmds.transition(ticket.id, "new", agent_actor)
    c = clocks(ticket.id)
    assert {x["state"] for x in c.values()} == {"running"}
    assert c["first_response"]["due_at"] == utc(2026, 3, 9, 15, 0) and c["first_response"]["target_seconds"] == H
    assert c["resolution"]["started_at"] == now.now() and c["resolution"]["target_seconds"] == 8 * H


def test_next_reply_clock_starts_on_customer_message_after_first_response(db, cmds, now, policies, team, open_ticket,
                                                                          clocks, agent, agent_actor):
    policies.create({"name": "with next reply", "targets": {"first_response": {"seconds": H},
                                                            "next_reply": {"seconds": 2 * H}}}, by=FACTORY)

    def agent_says(visibility="public"):
        cmds.add_message(ticket.id, {"body": "x", "visibility": visibility, "author_type": "agent",
                                     "author_agent_id": str(agent)}, agent_actor)

    now.set(utc(2026, 3, 9, 13, 0))  # Monday 09:00 EDT
    ticket = open_ticket()
    customer_says(cmds, ticket.id, "before any answer")  # no first response yet: no next-reply clock
    assert "next_reply" not in clocks(ticket.id)
    now.set(utc(2026, 3, 9, 13, 30)); agent_says()
    now.set(utc(2026, 3, 9, 14, 0))
    db.stats.calls = 0
    customer_says(cmds, ticket.id)
    assert db.stats.calls == 1  # deadlines predicted from the process's SLA copy (helpdesk.sla.cache)
    nr = clocks(ticket.id)["next_reply"]
    assert (nr["state"], nr["due_at"], nr["started_at"]) == ("running", utc(2026, 3, 9, 16, 0), now.now())
    now.set(utc(2026, 3, 9, 14, 30)); customer_says(cmds, ticket.id, "and another thing")
    assert clocks(ticket.id)["next_reply"]["due_at"] == utc(2026, 3, 9, 16, 0)  # the first unanswered message counts
    now.set(utc(2026, 3, 9, 15, 0)); agent_says("internal")
    assert clocks(ticket.id)["next_reply"]["state"] == "running"
    agent_says()
    nr = clocks(ticket.id)["next_reply"]
    assert (nr["state"], nr["met_at"]) == ("met", now.now())
    now.set(utc(2026, 3, 9, 20, 0)); customer_says(cmds, ticket.id, "16:00 EDT")
    nr = clocks(ticket.id)["next_reply"]
    # restarted: 1h Monday + 1h Tuesday from 09:00 EDT
    assert (nr["state"], nr["met_at"], nr["due_at"]) == ("running", None, utc(2026, 3, 10, 14, 0))


def test_warning_lead_time_is_configurable(db, monkeypatch, standard_policy, open_ticket, clocks):
    monkeypatch.setenv("SLA_WARN_BEFORE_SECONDS", "600")
    c = clocks(open_ticket().id)
    assert c["first_response"]["warn_at"] == utc(2026, 3, 9, 13, 50)  # 10 minutes before Monday 10:00 EDT
    assert c["resolution"]["warn_at"] == utc(2026, 3, 9, 20, 50)


def test_tokyo_customer_san_francisco_team(db, cmds, now, policies):
    from helpdesk.sla.schedule_store import Schedules

    sf = Schedules(db, now).create({"name": "san francisco", "document": {
        "timezone": "America/Los_Angeles", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}}, by=FACTORY)
    team = db.query_one("INSERT INTO teams (name, schedule_id) VALUES ('sf', :s::uuid) RETURNING id", {"s": sf["id"]})["id"]
    policies.create({"name": "4h", "targets": {"first_response": {"seconds": 4 * H}}}, by=FACTORY)
    tokyo = timezone(timedelta(hours=9))
    now.set(datetime(2026, 3, 3, 9, 0, tzinfo=tokyo))  # Tuesday 09:00 in Tokyo = Monday 16:00 in San Francisco
    ticket = cmds.create_ticket({"channel": "web", "subject": "配送", "body": "help", "requester_email": "aiko@example.jp",
                                 "team_id": team}).ticket
    due = db.query_one("SELECT due_at FROM sla_targets WHERE ticket_id = :t::uuid", {"t": ticket.id})["due_at"]
    # 1h on Monday afternoon in SF, 3h on Tuesday morning: Tuesday 12:00 PST = Wednesday 05:00 in Tokyo
    assert due == datetime(2026, 3, 4, 5, 0, tzinfo=tokyo)

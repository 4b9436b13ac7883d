"""The trigger engine on a real PostgreSQL: each action through the ticket commands with the trigger as
actor, once per event (redelivery fires nothing again), loops stopped by the chain rules, the depth
limit's audit row, retryable failures resumed, and the Data API calls one evaluation costs."""
from __future__ import annotations

import email
import uuid
from datetime import timedelta
from email.utils import parseaddr

import pytest

from helpdesk.events.schemas import Event
from helpdesk.triggers.engine import MAX_CHAIN_DEPTH, RetryLater

from .conftest import AGENT, sent_mail


def on_created(**doc):
    return {"events": ["ticket_created"], **doc}


def test_a_matching_trigger_sets_priority_and_tags_as_the_trigger(world):
    trigger_id = world.trigger(**on_created(
        conditions={"all": [{"field": "subject_or_body", "op": "contains_any", "value": ["fire", "smoke"]}]},
        actions=[{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["Hazard"]}]))
    world.trigger(**on_created(conditions={"all": [{"field": "subject", "op": "contains_any", "value": ["invoice"]}]},
                               actions=[{"type": "add_tags", "value": ["billing"]}]))
    ticket = world.ticket()
    outcomes = world.run()
    assert outcomes[0].fired == 1 and outcomes[0].evaluated == 2
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["priority"] == "urgent" and after["tags"] == ["hazard"]
    changes = [r for r in world.audit(ticket.id) if r["event_type"] in ("ticket.priority_changed", "ticket.tags_changed")]
    assert [(r["actor_type"], r["actor_id"]) for r in changes] == [("trigger", str(trigger_id))] * 2
    fired = world.audit(ticket.id, "trigger.fired")
    assert len(fired) == 1 and fired[0]["actor_id"] == str(trigger_id)
    assert [o["result"] for o in fired[0]["data"]["outcomes"]] == ["done", "done"]


def test_redelivery_fires_nothing_again(world):
    world.trigger(**on_created(actions=[{"type": "add_tags", "value": ["seen"]},
                                        {"type": "post_slack", "channel": "C0ALERTS", "text": "{{ticket.ref}}"}]))
    ticket = world.ticket()
    created = Event.from_outbox_row(world.published.published[0])
    world.run()
    again = world.engine.handle(created)
    assert again.fired == 0 and again.skipped == 1
    assert world.published.published == []  # nothing written, nothing published
    assert len(world.audit(ticket.id, "trigger.fired")) == 1


def test_each_state_action_goes_through_the_ticket_commands(world, factories):
    team = factories.team("Escalations", mode="pull")
    agent = factories.agent("dora", teams=[team])
    world.trigger(position=1, **on_created(actions=[{"type": "set_team", "team_id": str(team)}]))
    world.trigger(position=2, **on_created(actions=[{"type": "set_assignee", "agent_id": str(agent.id)}]))
    world.trigger(position=3, events=["ticket_updated"],
                  conditions={"all": [{"field": "status", "op": "is", "value": "assigned"}]},
                  actions=[{"type": "remove_tags", "value": ["vip"]}, {"type": "set_priority", "value": "high"}])
    ticket = world.ticket(tags=["vip", "printer"])
    world.run()
    after = world.commands.get_ticket(ticket.id).ticket
    assert (after["team_id"], after["assignee_id"], after["status"]) == (str(team), str(agent.id), "assigned")
    assert after["tags"] == ["printer"] and after["priority"] == "high"


def test_set_status_uses_the_state_machine_and_a_refusal_is_recorded(world):
    world.trigger(name="resolve new", **on_created(actions=[{"type": "set_status", "value": "resolved"},
                                                            {"type": "add_tags", "value": ["tried"]}]))
    ticket = world.ticket()
    world.run()
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["status"] == "new" and after["tags"] == ["tried"]  # the next action still ran
    outcomes = world.audit(ticket.id, "trigger.fired")[0]["data"]["outcomes"]
    assert outcomes[0]["result"] == "refused" and "allowed from new" in outcomes[0]["detail"]


def test_spam_status_and_its_sla_effects(world):
    world.trigger(**on_created(conditions={"all": [{"field": "body", "op": "contains_any", "value": ["casino"]}]},
                               actions=[{"type": "set_status", "value": "spam"}]))
    ticket = world.ticket(body="Win big at the casino today")
    world.run()
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["status"] == "spam"
    audit = world.audit(ticket.id, "ticket.status_changed")
    assert audit[-1]["actor_type"] == "trigger" and audit[-1]["data"]["reason"].startswith("trigger: ")


def test_mail_to_the_requester_threads_back_into_the_ticket(world):
    world.trigger(name="Ack urgent", **on_created(actions=[{
        "type": "send_mail", "to": "requester", "subject": "We are on it: {{ticket.subject}}",
        "body": "Hello {{requester.email}}, {{ticket.ref}} is {{ticket.priority}}."}]))
    ticket = world.ticket()
    world.run()
    [mail] = sent_mail()
    message = email.message_from_string(mail.raw_data)
    assert message["To"] == "carol@customer.test"
    assert message["Subject"].endswith(f"[TKT-{ticket.number}] We are on it: Printer on fire")
    assert message["Reply-To"].startswith("support+") and message["Auto-Submitted"] == "auto-replied"
    text = message.get_payload(0).get_payload(decode=True).decode()
    assert f"Hello carol@customer.test, TKT-{ticket.number} is normal." in text and "portal.html#" in text


def test_mail_to_a_team_and_to_listed_agents(world, factories):
    team = factories.team("Night shift")
    members = [factories.agent(n, teams=[team]) for n in ("ann", "ben")]
    factories.agent("outsider")
    listed = factories.agent("cid")
    world.trigger(**on_created(actions=[
        {"type": "send_mail", "to": "team", "team_id": str(team), "subject": "New: {{ticket.ref}}", "body": "{{ticket.url}}"},
        {"type": "send_mail", "to": "agents", "agent_ids": [str(listed.id)], "subject": "FYI", "body": "{{trigger.name}}"}]))
    world.ticket()
    world.run()
    sent = sorted(parseaddr(email.message_from_string(m.raw_data)["To"])[1] for m in sent_mail())
    assert sent == sorted([members[0].email, members[1].email, listed.email])


def test_post_to_slack(world, slack_stub):
    world.trigger(**on_created(actions=[{"type": "post_slack", "channel": "C0ALERTS",
                                          "text": "{{ticket.ref}} ({{ticket.priority}}): {{ticket.subject}}"}]))
    ticket = world.ticket()
    world.run()
    assert [(p["channel"], p["text"]) for p in slack_stub.posts] == [
        ("C0ALERTS", f"TKT-{ticket.number} (normal): Printer on fire")]


def test_slack_down_retries_and_resumes_after_the_actions_done(world, slack_stub, clock):
    # its first action makes its own condition false: the retry resumes it all the same
    world.trigger(**on_created(conditions={"all": [{"field": "tags", "op": "includes_none", "value": ["first"]}]},
                               actions=[{"type": "add_tags", "value": ["first"]},
                                        {"type": "post_slack", "channel": "C0ALERTS", "text": "hi"},
                                        {"type": "set_priority", "value": "high"}]))
    ticket = world.ticket()
    created = Event.from_outbox_row(world.published.published.pop(0))
    slack_stub.fail["C0ALERTS"] = (503, "service_unavailable")
    with pytest.raises(RetryLater):
        world.engine.handle(created)
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["tags"] == ["first"] and after["priority"] == "normal"
    slack_stub.fail.clear()
    clock.advance(timedelta(seconds=5))
    outcome = world.engine.handle(created)  # the redelivery
    assert outcome.fired == 1 and len(slack_stub.posts) == 1
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["priority"] == "high"
    tag_events = world.audit(ticket.id, "ticket.tags_changed")
    assert len(tag_events) == 1  # the tag action was not carried out twice


def test_a_firing_held_by_a_live_worker_is_not_taken_over(world, db, clock):
    trigger_id = world.trigger(**on_created(actions=[{"type": "add_tags", "value": ["x"]}]))
    ticket = world.ticket()
    created = Event.from_outbox_row(world.published.published.pop(0))
    db.execute("INSERT INTO trigger_firings (trigger_id, event_id, ticket_id, event_at, chain_id, depth, state, lease_until, "
               "fired_at) VALUES (:t::uuid, :e::uuid, :k::uuid, :now::timestamptz, :e::uuid, 0, 'acting', "
               ":until::timestamptz, :now::timestamptz)",
               {"t": trigger_id, "e": created.id, "k": ticket.id, "until": clock.now() + timedelta(seconds=30), "now": clock.now()})
    with pytest.raises(RetryLater, match="held by another worker"):
        world.engine.handle(created)
    clock.advance(timedelta(seconds=31))  # that worker died: its lease ran out
    assert world.engine.handle(created).fired == 1
    assert world.commands.get_ticket(ticket.id).ticket["tags"] == ["x"]


def test_later_triggers_see_what_earlier_ones_did_in_the_same_evaluation(world):
    world.trigger(name="a", position=1, **on_created(actions=[{"type": "set_priority", "value": "urgent"}]))
    world.trigger(name="b", position=2, **on_created(
        conditions={"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
        actions=[{"type": "add_tags", "value": ["paged"]}]))
    ticket = world.ticket()
    world.run()
    after = world.commands.get_ticket(ticket.id).ticket
    assert after["priority"] == "urgent" and after["tags"] == ["paged"]
    assert [r["data"]["depth"] for r in world.audit(ticket.id, "trigger.fired")] == [0, 0]


def test_two_triggers_that_undo_each_other_fire_once_each_per_chain(world):
    down = world.trigger(name="urgent to low", events=["ticket_updated"],
                         conditions={"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
                         actions=[{"type": "set_priority", "value": "low"}])
    up = world.trigger(name="low to urgent", events=["ticket_updated"],
                       conditions={"all": [{"field": "priority", "op": "is", "value": "low"}]},
                       actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = world.ticket()
    world.run()
    world.commands.change_priority(ticket.id, "urgent", AGENT)  # an agent's change starts a chain
    world.run()
    fired = world.audit(ticket.id, "trigger.fired")
    assert sorted(r["actor_id"] for r in fired) == sorted([str(down), str(up)])
    assert [r["data"]["depth"] for r in fired] == [0, 1]
    assert world.commands.get_ticket(ticket.id).ticket["priority"] == "urgent"
    # A new outside change is a new chain: each may fire once more.
    world.clock.advance(timedelta(minutes=1))
    world.commands.change_priority(ticket.id, "low", AGENT)
    world.run()
    assert len(world.audit(ticket.id, "trigger.fired")) == 4


def test_a_trigger_fires_once_for_the_events_of_one_change(world, factories, clock):
    agent = factories.agent("eve")
    on_update = world.trigger(name="on update", events=["ticket_updated"],
                              actions=[{"type": "post_slack", "channel": "C0FEED", "text": "{{ticket.ref}} changed"}])
    on_both = world.trigger(name="on reply or update", events=["customer_replied", "ticket_updated"],
                            conditions={"all": [{"field": "status", "op": "is", "value": "in_progress"}]},
                            actions=[{"type": "add_tags", "value": ["active"]}])
    ticket = world.ticket()
    world.run()
    clock.advance(timedelta(minutes=1))
    world.commands.assign(ticket.id, AGENT, agent_id=agent.id)  # ticket.assigned + ticket.status_changed
    assert [r["event_type"] for r in world.published.published] == ["ticket.assigned", "ticket.status_changed"]
    world.run()
    fired = world.audit(ticket.id, "trigger.fired")
    assert [r["actor_id"] for r in fired] == [str(on_update)]
    world.commands.transition(ticket.id, "in_progress", AGENT)
    world.commands.transition(ticket.id, "waiting_on_customer", AGENT)
    world.run()
    clock.advance(timedelta(minutes=1))
    world.commands.receive_customer_message(ticket.id, {"author_type": "customer", "author_email": "carol@customer.test",
                                                        "body": "Here it is", "channel": "email"})
    assert {r["event_type"] for r in world.published.published} == {"ticket.replied", "ticket.status_changed"}
    world.run()
    assert [r["actor_id"] for r in world.audit(ticket.id, "trigger.fired")].count(str(on_both)) == 1


def test_a_self_feeding_trigger_fires_once_per_chain(world):
    world.trigger(name="tag on every update", events=["ticket_updated"],
                  actions=[{"type": "add_tags", "value": ["touched"]}, {"type": "remove_tags", "value": ["touched"]}])
    ticket = world.ticket()
    world.commands.change_priority(ticket.id, "high", AGENT)
    world.run()
    assert len(world.audit(ticket.id, "trigger.fired")) == 1


def test_a_chain_longer_than_the_limit_stops_with_an_audit_row(world):
    # step i sees tag s<i> and adds s<i+1>: each hop is another trigger, so only the depth limit stops it
    # (in reverse order, so no step sees the previous one's tag within the same evaluation)
    steps = MAX_CHAIN_DEPTH + 3
    for i in range(steps):
        world.trigger(name=f"step {i:02d}", position=steps - i, events=["ticket_updated"],
                      conditions={"all": [{"field": "tags", "op": "includes_all", "value": [f"s{i}"]},
                                          {"field": "tags", "op": "includes_none", "value": [f"s{i + 1}"]}]},
                      actions=[{"type": "add_tags", "value": [f"s{i + 1}"]}])
    ticket = world.ticket()
    world.commands.change_tags(ticket.id, AGENT, add=["s0"])
    world.run()
    fired = world.audit(ticket.id, "trigger.fired")
    assert [r["data"]["depth"] for r in fired] == list(range(MAX_CHAIN_DEPTH))
    [stopped] = world.audit(ticket.id, "trigger.chain_stopped")
    assert stopped["data"]["depth"] == MAX_CHAIN_DEPTH and stopped["data"]["limit"] == MAX_CHAIN_DEPTH
    assert [t["name"] for t in stopped["data"]["triggers"]] == [f"step {MAX_CHAIN_DEPTH:02d}"]
    assert f"s{MAX_CHAIN_DEPTH + 1}" not in world.commands.get_ticket(ticket.id).ticket["tags"]


def test_an_action_event_published_without_its_chain_link_still_continues_the_chain(world, db):
    """A worker that stopped between an action and the settle: the relay publishes the action's event
    later; the audit row names the trigger, whose firing gives the chain."""
    loop = world.trigger(name="loop", events=["ticket_updated"], actions=[{"type": "add_tags", "value": ["again"]},
                                                                         {"type": "remove_tags", "value": ["again"]}])
    ticket = world.ticket()
    world.run()
    world.commands.change_priority(ticket.id, "high", AGENT)
    world.run()
    db.execute("DELETE FROM trigger_chain_events")  # as if the settle never recorded them
    for row in world.handled[-2:]:
        if row["event_type"] == "ticket.tags_changed":
            assert world.engine.handle(Event.from_outbox_row(row)).skipped == 1
    assert [r["actor_id"] for r in world.audit(ticket.id, "trigger.fired")] == [str(loop)]


def test_conditions_see_tier_team_body_of_the_reply_and_time_since(world, db, factories, clock):
    team = factories.team("Premium desk")
    db.execute("INSERT INTO customers (email, tier) VALUES ('vip@customer.test', 'enterprise')")
    world.trigger(name="enterprise reply", events=["customer_replied"], conditions={"all": [
        {"field": "tier", "op": "is", "value": "enterprise"},
        {"field": "team_id", "op": "is", "value": str(team)},
        {"field": "body", "op": "contains_all", "value": ["still broken"]},
        {"field": "hours_since_created", "op": "greater_than", "value": 2},
        {"field": "hours_since_customer_message", "op": "less_than", "value": 0.1},
    ]}, actions=[{"type": "add_tags", "value": ["escalate"]}])
    ticket = world.ticket(requester_email="vip@customer.test", team_id=str(team))
    world.run()
    clock.advance(timedelta(hours=3))
    world.commands.receive_customer_message(ticket.id, {"author_type": "customer", "author_email": "vip@customer.test",
                                                        "body": "It is STILL broken!", "channel": "email"})
    world.run()
    assert world.commands.get_ticket(ticket.id).ticket["tags"] == ["escalate"]


def test_sla_warning_events_run_sla_warning_triggers(world, db, clock):
    world.trigger(name="warn", events=["sla_warning"], actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = world.ticket()
    world.run()
    event = Event.model_validate({"id": uuid.uuid4(), "type": "sla.warning", "ticket_id": ticket.id,
                                  "occurred_at": clock.now(), "payload": {"kind": "first_response",
                                                                         "due_at": clock.now(), "number": ticket.number}})
    assert world.engine.handle(event).fired == 1
    assert world.commands.get_ticket(ticket.id).ticket["priority"] == "urgent"


def test_data_api_calls_per_evaluation(world, db):
    for i in range(20):
        world.trigger(name=f"never {i:02d}", **on_created(
            conditions={"all": [{"field": "subject", "op": "contains_any", "value": [f"nothing-{i}"]}]},
            actions=[{"type": "add_tags", "value": ["x"]}]))
    world.trigger(name="fires", **on_created(actions=[{"type": "set_priority", "value": "high"}]))
    first, second = world.ticket(), world.ticket(subject="Another")
    created = [Event.from_outbox_row(r) for r in world.published.published if r["event_type"] == "ticket.created"]
    world.published.published.clear()

    db.stats.calls = 0
    world.engine.handle(created[0])
    # the triggers (once per TTL), the context, the claim, the priority command, the settle, the publish
    assert db.stats.calls == 6
    db.stats.calls = 0
    world.engine.handle(created[1])
    assert db.stats.calls == 5  # the process's copy of the triggers is used

    db.stats.calls = 0
    assignment = Event.model_validate({"id": uuid.uuid4(), "type": "ticket.assigned", "ticket_id": second.id,
                                       "occurred_at": world.clock.now(), "payload": {"reason": "manual", "number": second.number}})
    world.engine.handle(assignment)
    assert db.stats.calls == 0  # no trigger runs on updates: not even the ticket is read
    world.trigger(name="on updates", events=["ticket_updated"],
                  conditions={"all": [{"field": "priority", "op": "is", "value": "low"}]},
                  actions=[{"type": "set_priority", "value": "normal"}])
    db.stats.calls = 0
    world.engine.handle(assignment)
    assert db.stats.calls == 2  # the triggers (changed here: reloaded) and the context; nothing fires

"""The trigger evaluator (pure): every condition field and operator, all/any, order and the working
copy, skips, events mapped from the outbox, templates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.triggers import evaluate as ev
from helpdesk.triggers import models as m

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
TEAM = "6f1b2f5e-1111-4c5e-9a43-5d2d7e6a0001"
AGENT = "6f1b2f5e-2222-4c5e-9a43-5d2d7e6a0002"


def facts(**over) -> ev.TicketFacts:
    doc = {"id": "6f1b2f5e-0000-4c5e-9a43-5d2d7e6a0000", "number": 42, "subject": "Invoice 1234 is wrong",
           "status": "in_progress", "priority": "normal", "channel": "email", "tags": ["billing", "vip"],
           "team_id": TEAM, "assignee_id": None, "tier": "premium", "requester_email": "ann@customer.test",
           "requester_name": "Ann", "team_name": "Billing",
           "created_at": NOW - timedelta(hours=30), "updated_at": NOW - timedelta(hours=2),
           "last_customer_message_at": NOW - timedelta(minutes=30),
           "body": "Hello,\nthe amount on my invoice is wrong. Could you issue a credit note?"}
    doc.update(over)
    return ev.TicketFacts.from_doc(doc)


def cond(field, op, value) -> m.Condition:
    return m.Condition.model_validate({"field": field, "op": op, "value": value})


@pytest.mark.parametrize("field, op, value, expected", [
    ("channel", "is", "email", True), ("channel", "is_not", "email", False),
    ("channel", "in", ["web", "chat"], False), ("channel", "not_in", ["web", "chat"], True),
    ("status", "is", "in_progress", True), ("status", "in", ["new", "reopened"], False),
    ("priority", "is", "normal", True), ("priority", "at_least", "high", False), ("priority", "at_least", "low", True),
    ("priority", "at_most", "normal", True), ("priority", "at_most", "low", False),
    ("tier", "is", "premium", True), ("tier", "not_in", ["premium", "enterprise"], False),
    ("team_id", "is", TEAM, True), ("team_id", "is", None, False), ("team_id", "in", [None, TEAM], True),
    ("assignee_id", "is", None, True), ("assignee_id", "is_not", None, False), ("assignee_id", "is", AGENT, False),
    ("tags", "includes_any", ["vip", "x"], True), ("tags", "includes_all", ["vip", "x"], False),
    ("tags", "includes_all", ["VIP", "billing"], True), ("tags", "includes_none", ["spam"], True),
    ("subject", "contains_any", ["invoice"], True), ("subject", "contains_any", ["voice"], False),
    ("subject", "contains_all", ["invoice", "wrong"], True), ("subject", "contains_none", ["refund"], True),
    ("body", "contains_any", ["credit note"], True), ("body", "contains_any", ["note credit"], False),
    ("body", "contains_any", ["CREDIT   Note"], True), ("body", "contains_any", ["1234"], False),
    ("subject_or_body", "contains_all", ["1234", "credit note"], True),
    ("hours_since_created", "greater_than", 24, True), ("hours_since_created", "less_than", 24, False),
    ("hours_since_updated", "greater_than", 1.5, True), ("hours_since_updated", "less_than", 1.5, False),
    ("hours_since_customer_message", "less_than", 1, True), ("hours_since_customer_message", "greater_than", 1, False),
])
def test_each_condition(field, op, value, expected):
    assert ev.holds(cond(field, op, value), facts(), NOW) is expected


def test_a_customer_who_never_wrote_matches_no_time_since_their_message():
    for op in ("greater_than", "less_than"):
        assert not ev.holds(cond("hours_since_customer_message", op, 1), facts(last_customer_message_at=None), NOW)


@pytest.mark.parametrize("text, word, expected", [
    ("Der Drucker brennt: STRASSE gesperrt", "straße", True),  # Unicode case folding
    ("Ｅｒｒｏｒ ５００ again", "error 500", True),  # NFKC: full-width letters and digits
    ("システム障害が発生しました", "障害", True),  # Japanese: no spaces between words
    ("服务器宕机了", "宕机", True),
    ("ระบบล่ม", "ล่ม", True),  # Thai
    ("l'ordinateur est en panne", "panne", True),
    ("Please cancel my subscription.", "cancel", True),
    ("Please cancellation", "cancel", False),  # whole words only
    ("e-mail bounced", "mail", True),  # a hyphen separates words
    ("", "anything", False),
])
def test_words_in_many_languages(text, word, expected):
    assert ev.holds(cond("body", "contains_any", [word]), facts(body=text), NOW) is expected


def test_all_and_any():
    conditions = m.Conditions.model_validate({
        "all": [{"field": "channel", "op": "is", "value": "email"}],
        "any": [{"field": "priority", "op": "is", "value": "urgent"}, {"field": "tags", "op": "includes_any", "value": ["vip"]}]})
    assert ev.unmet(conditions, facts(), NOW) == []
    assert ev.unmet(conditions, facts(tags=[]), NOW) == ["none of: priority is urgent; tags includes_any vip"]
    assert ev.unmet(conditions, facts(channel="web", tags=[]), NOW) == [
        "channel is email", "none of: priority is urgent; tags includes_any vip"]
    assert ev.unmet(m.Conditions(), facts(), NOW) == []  # no conditions: always
    assert ev.unmet(conditions, facts(channel="web", tags=[]), NOW, explain=False) == ["unmet"]


def trigger(name, position=0, events=("ticket_updated",), conditions=None, actions=(), **kw) -> m.TriggerIn:
    return m.TriggerIn.parse({"name": name, "position": position, "events": list(events),
                              "conditions": conditions or {}, "actions": list(actions), **kw})


def test_order_and_the_working_copy():
    first = trigger("b first", 1, actions=[{"type": "set_priority", "value": "urgent"}])
    second = trigger("a second", 2, conditions={"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
                     actions=[{"type": "add_tags", "value": ["paged"]}])
    same_position = trigger("a at one", 1, conditions={"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
                            actions=[{"type": "add_tags", "value": ["early"]}])
    plan = ev.plan([second, first, same_position], facts(), "ticket_updated", NOW)
    assert [(d.trigger.name, d.fires) for d in plan.decisions] == [("a at one", False), ("b first", True),
                                                                   ("a second", True)]
    assert plan.facts.priority == "urgent" and plan.facts.tags == ("billing", "vip", "paged")


def test_only_active_triggers_on_the_event_are_evaluated_and_skips_are_honoured():
    on_created = trigger("created", events=["ticket_created"], actions=[{"type": "add_tags", "value": ["a"]}])
    inactive = trigger("inactive", is_active=False, actions=[{"type": "add_tags", "value": ["b"]}])
    done = m.Trigger.model_validate({**trigger("done", actions=[{"type": "add_tags", "value": ["c"]}]).model_dump(),
                                     "id": "6f1b2f5e-3333-4c5e-9a43-5d2d7e6a0003", "created_at": NOW, "updated_at": NOW})
    plan = ev.plan([on_created, inactive, done], facts(), "ticket_updated", NOW,
                   skip={"6f1b2f5e-3333-4c5e-9a43-5d2d7e6a0003": "fired for this event already"})
    assert [(d.trigger.name, d.fires, d.skipped) for d in plan.decisions] == [("done", False, "fired for this event already")]


def test_planned_actions_say_what_they_do_and_what_the_ticket_would_refuse():
    t = trigger("t", actions=[{"type": "set_status", "value": "closed"}, {"type": "set_status", "value": "resolved"},
                              {"type": "set_status", "value": "resolved"}, {"type": "remove_tags", "value": ["vip"]},
                              {"type": "set_team", "team_id": TEAM}, {"type": "set_assignee", "agent_id": AGENT},
                              {"type": "send_mail", "to": "requester", "subject": "s", "body": "b"},
                              {"type": "post_slack", "channel": "C0ABC", "text": "t"}])
    [decision] = ev.plan([t], facts(), "ticket_updated", NOW).decisions
    assert [(a.effect, a.refused) for a in decision.actions] == [
        ("status in_progress -> closed", "not a transition; allowed from in_progress: assigned, duplicate, merged, "
                                         "resolved, spam, waiting_on_customer"),
        ("status in_progress -> resolved", None),
        ("status resolved", "the ticket is already resolved"),
        ("remove tags vip", None),
        (f"team -> {TEAM}", None),
        (f"assignee -> {AGENT}", None),
        ("mail to the requester (ann@customer.test)", None),
        ("post to Slack channel C0ABC", None),
    ]


@pytest.mark.parametrize("event_type, payload, expected", [
    ("ticket.created", {}, "ticket_created"),
    ("ticket.replied", {"author_type": "customer"}, "customer_replied"),
    ("ticket.replied", {"author_type": "agent"}, "ticket_updated"),
    ("ticket.status_changed", {}, "ticket_updated"), ("ticket.assigned", {}, "ticket_updated"),
    ("ticket.priority_changed", {}, "ticket_updated"), ("ticket.tags_changed", {}, "ticket_updated"),
    ("ticket.merged", {}, "ticket_updated"), ("sla.warning", {}, "sla_warning"), ("sla.breached", {}, "sla_breached"),
    ("outbound.requested", {}, None), ("agent.out_of_office_started", {}, None),
])
def test_outbox_events_map_to_trigger_events(event_type, payload, expected):
    assert m.trigger_event(event_type, payload) == expected


def test_every_mapped_outbox_event_is_a_known_event_type():
    from helpdesk.events.schemas import EVENT_TYPES

    assert m.WATCHED_EVENT_TYPES <= set(EVENT_TYPES)


def test_templates():
    text = ev.render("{{ticket.ref}} [{{ ticket.priority }}] {{ticket.subject}} for {{requester.name}} "
                     "<{{requester.email}}> in {{team.name}} by {{trigger.name}}: {{ticket.url}} {{ticket.tags}}",
                     facts(), trigger_name="Escalate", ticket_url="https://x/#/ticket/1")
    assert text == ("TKT-42 [normal] Invoice 1234 is wrong for Ann <ann@customer.test> in Billing by Escalate: "
                    "https://x/#/ticket/1 billing, vip")

"""Trigger definitions as validated JSON: what is accepted (normalised) and errors that name the field."""
from __future__ import annotations

import pytest

from helpdesk import errors
from helpdesk.triggers import models as m

BASE = {"name": "t", "events": ["ticket_created"], "actions": [{"type": "set_priority", "value": "high"}]}


def refused(**over) -> str:
    with pytest.raises(errors.ValidationFailed) as caught:
        m.TriggerIn.parse({**BASE, **over})
    return caught.value.detail


def test_a_full_definition_is_normalised():
    t = m.TriggerIn.parse({**BASE, "events": ["ticket_created", "ticket_created", "sla_warning"],
                           "conditions": {"all": [{"field": "tags", "op": "includes_any", "value": [" VIP ", "vip"]},
                                                  {"field": "body", "op": "contains_all", "value": ["credit   note"]},
                                                  {"field": "team_id", "op": "in", "value": [None]}]},
                           "actions": [{"type": "add_tags", "value": ["Escalated"]}]})
    assert t.events == ("ticket_created", "sla_warning")
    assert [c.value for c in t.conditions.all] == [("vip",), ("credit note",), (None,)]
    assert t.actions[0].value == ("escalated",)
    assert set(m.dump_definition(t)) == {"events", "conditions", "actions"}


@pytest.mark.parametrize("over, message", [
    ({"events": []}, "events: must have at least one entry"),
    ({"events": ["ticket_closed"]}, "events.0: Input should be 'ticket_created'"),
    ({"actions": []}, "actions: must have at least one entry"),
    ({"conditions": {"all": [{"field": "mood", "op": "is", "value": "x"}]}},
     "conditions.all.0.field: Input should be 'channel', 'status', 'priority'"),
    ({"conditions": {"any": [{"field": "status", "op": "at_least", "value": "new"}]}},
     "conditions.any.0.op: op 'at_least' does not apply to field status; allowed: is, is_not, in, not_in"),
    ({"conditions": {"all": [{"field": "status", "op": "in", "value": "new"}]}}, "conditions.all.0.value: value of status in must be a non-empty list"),
    ({"conditions": {"all": [{"field": "tier", "op": "is", "value": "gold"}]}}, "allowed: standard, premium, enterprise"),
    ({"conditions": {"all": [{"field": "team_id", "op": "is", "value": "sales"}]}}, "value 'sales' of team_id is not an id"),
    ({"conditions": {"all": [{"field": "subject", "op": "contains_any", "value": []}]}}, "must be a non-empty list of words"),
    ({"conditions": {"all": [{"field": "hours_since_created", "op": "greater_than", "value": True}]}}, "a number of hours"),
    ({"conditions": {"all": [{"field": "hours_since_created", "op": "greater_than", "value": 10 ** 6}]}}, "from 0 to 8784"),
    ({"conditions": {"all": [{"field": "channel", "op": "is", "value": "fax"}]}}, "allowed: email, web, chat, slack, api"),
    ({"conditions": {"none": []}}, "conditions.none: Extra inputs are not permitted"),
    ({"actions": [{"type": "set_status", "value": "assigned"}]}, "actions.0.value: a trigger cannot set status 'assigned'"),
    ({"actions": [{"type": "set_status", "value": "duplicate"}]}, "cannot set status 'duplicate'"),
    ({"actions": [{"type": "add_tags", "value": ["x" * 51]}]}, "actions.0.value: value: each tag must be text of 1 to 50"),
    ({"actions": [{"type": "send_mail", "to": "agents", "subject": "s", "body": "b"}]}, "agent_ids (at least one) is required"),
    ({"actions": [{"type": "send_mail", "to": "requester", "team_id": "6f1b2f5e-1111-4c5e-9a43-5d2d7e6a0001",
                   "subject": "s", "body": "b"}]}, "team_id is required when to is team, and allowed only then"),
    ({"actions": [{"type": "send_mail", "to": "requester", "subject": "s", "body": "{{ticket.password}}"}]},
     "body uses unknown placeholder(s) {{ticket.password}}"),
    ({"actions": [{"type": "post_slack", "channel": "general", "text": "t"}]}, "is not a Slack channel id"),
    ({"actions": [{"type": "set_priority", "value": "high", "why": "x"}]}, "actions.0.why: Extra inputs are not permitted"),
    ({"actions": [{"type": "teleport"}]}, "does not match any of the expected tags"),
    ({"name": ""}, "name: String should have at least 1 character"),
])
def test_errors_name_the_field(over, message):
    assert message in refused(**over)


def test_the_schema_lists_exactly_the_fields_and_operators_the_evaluator_knows():
    from typing import get_args

    assert set(get_args(m.ConditionField)) == set(m.FIELDS)
    assert set(get_args(m.ConditionOp)) == {op for spec in m.FIELDS.values() for op in spec.ops}
    assert all(f"- {name} (" in m.Condition.__doc__ for name in m.FIELDS)


def test_a_definition_too_big_for_one_row_is_refused():
    words = [f"word{i:03d}-" + "x" * 80 for i in range(50)]
    conditions = {"all": [{"field": "body", "op": "contains_any", "value": words} for _ in range(4)]}
    assert "at most 16000 (split it into several triggers)" in refused(conditions=conditions)


def test_an_update_names_only_what_changes():
    change = m.TriggerUpdate.parse({"is_active": False})
    assert change.model_dump(exclude_unset=True) == {"is_active": False}
    with pytest.raises(errors.ValidationFailed, match="actions.0.value"):
        m.TriggerUpdate.parse({"actions": [{"type": "set_priority", "value": "asap"}]})
    with pytest.raises(errors.ValidationFailed, match="events: must have at least one entry"):
        m.TriggerUpdate.parse({"events": []})

"""Which channels hear a committed event, and what they hear (helpdesk.push.channels)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.events.schemas import Event
from helpdesk.push.channels import Recipients, deliveries, parse_channel

TICKET = uuid.uuid4()
TEAM = uuid.uuid4()
AGENT = uuid.uuid4()
BEFORE = uuid.uuid4()
AT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def event(type_: str, payload: dict, ticket_id=TICKET) -> Event:
    return Event.model_validate({"id": uuid.uuid4(), "type": type_, "ticket_id": ticket_id, "occurred_at": AT, "payload": payload})


def paths(found) -> list[str]:
    return [c.path for c, _ in found]


def test_an_assignment_reaches_the_ticket_the_team_and_both_agents_own_channels():
    assigned = event("ticket.assigned", {"agent_id": AGENT, "previous_agent_id": BEFORE, "team_id": TEAM,
                                         "reason": "manual", "number": 7})
    found = deliveries([assigned], Recipients({str(AGENT): "sub-new", str(BEFORE): "sub-old"}, {}))
    assert sorted(paths(found)) == sorted([f"/tickets/{TICKET}", f"/teams/{TEAM}", "/agents/sub-new", "/agents/sub-old"])
    signal = found[0][1]
    assert signal == {"kind": "change", "type": "ticket.assigned", "event_id": str(assigned.id), "ticket_id": str(TICKET),
                      "occurred_at": AT.isoformat(), "number": 7, "agent_id": str(AGENT),
                      "previous_agent_id": str(BEFORE), "team_id": str(TEAM)}


def test_an_agent_who_never_signed_in_has_no_channel_to_reach():
    assigned = event("ticket.assigned", {"agent_id": AGENT, "team_id": TEAM, "reason": "push", "number": 7})
    assert not any(p.startswith("/agents/") for p in paths(deliveries([assigned], Recipients({}, {}))))


def test_an_internal_note_never_reaches_customers_and_a_public_reply_does():
    note = event("ticket.replied", {"message_id": uuid.uuid4(), "author_type": "agent", "visibility": "internal",
                                    "channel": "chat", "number": 7, "assignee_id": AGENT})
    reply = event("ticket.replied", {"message_id": uuid.uuid4(), "author_type": "agent", "visibility": "public",
                                     "channel": "chat", "number": 7})
    recipients = Recipients({}, {str(TICKET): str(uuid.uuid4())})
    assert not any(p.startswith(("/chat/", "/portal/")) for p in paths(deliveries([note], recipients)))
    public = deliveries([reply], recipients)
    customer = [m for c, m in public if c.namespace in ("chat", "portal")]
    assert len(customer) == 2
    # Customers hear that something changed, never ids of agents or messages.
    assert customer[0] == {"kind": "change", "type": "ticket.replied", "event_id": str(reply.id), "occurred_at": AT.isoformat()}


def test_signals_carry_no_text():
    created = event("ticket.created", {"number": 7, "channel": "email", "subject": "Secret plans", "priority": "normal",
                                       "team_id": TEAM, "requester_email": "a@b.example", "message_id": uuid.uuid4()})
    for _, message in deliveries([created], Recipients({}, {})):
        assert "Secret plans" not in str(message) and "a@b.example" not in str(message)


def test_the_send_request_of_a_reply_is_not_pushed_again():
    requested = event("outbound.requested", {"message_id": uuid.uuid4(), "channel": "email", "number": 7})
    assert deliveries([requested], Recipients({}, {})) == []


def test_an_event_without_a_ticket_reaches_only_agents():
    ooo = event("agent.out_of_office_started", {"agent_id": AGENT, "tickets_handed_over": 3}, ticket_id=None)
    assert paths(deliveries([ooo], Recipients({str(AGENT): "sub-a"}, {}))) == ["/agents/sub-a"]


@pytest.mark.parametrize("path", ["/tickets", "/nope/x", "/tickets/a/b", "/tickets/has space", "/tickets/" + "x" * 51, "", None])
def test_a_malformed_channel_is_refused_naming_the_allowed_shapes(path):
    with pytest.raises(errors.ValidationFailed) as refused:
        parse_channel(path)
    assert "/tickets/<ticket id>" in refused.value.detail

"""Event envelope and payload validation."""
from __future__ import annotations

import json
import uuid

import pytest

from helpdesk import errors
from helpdesk.events.schemas import EVENT_TYPES, Event, TicketAssigned, UnknownEventType, parse_event
from helpdesk.events.sns import SnsPublisher, _batches

AT = "2026-03-02T15:00:00+00:00"


def doc(type_: str, payload: dict, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "version": 1, "ticket_id": str(uuid.uuid4()),
            "occurred_at": AT, "payload": payload, **extra}


def test_every_type_the_core_writes_is_known():
    assert set(EVENT_TYPES) >= {"ticket.created", "ticket.replied", "ticket.assigned", "ticket.status_changed",
                                "ticket.merged", "outbound.requested", "sla.warning", "sla.breached",
                                "ticket.priority_changed", "agent.out_of_office_started"}


def test_typed_payload_and_round_trip():
    d = doc("ticket.assigned", {"agent_id": str(uuid.uuid4()), "reason": "manual", "number": 7, "extra_field": 1})
    event = parse_event(json.dumps(d))
    assert isinstance(event.payload, TicketAssigned) and event.payload.number == 7
    again = parse_event(event.to_json())
    assert again == event
    assert json.loads(event.to_json())["payload"]["extra_field"] == 1  # additive fields survive


def test_status_changed_keeps_wire_names():
    event = parse_event(doc("ticket.status_changed", {"from": "new", "to": "spam", "number": 1}))
    assert event.payload.from_status == "new"
    assert json.loads(event.to_json())["payload"]["from"] == "new"


def test_sns_envelope_is_unwrapped():
    d = doc("sla.breached", {"kind": "first_response", "number": 3,
                             "clocks": [{"kind": "first_response", "due_at": AT, "target_seconds": 60}]})
    envelope = {"Type": "Notification", "MessageId": "x", "Message": json.dumps(d)}
    assert parse_event(json.dumps(envelope)).type == "sla.breached"


def test_unknown_type_and_version_rejected_clearly():
    with pytest.raises(UnknownEventType, match="unknown event type 'ticket.exploded'; known types: .*ticket.created"):
        parse_event(doc("ticket.exploded", {}))
    with pytest.raises(UnknownEventType, match="unknown version 9 of event type 'ticket.created'"):
        parse_event(doc("ticket.created", {}, version=9))


@pytest.mark.parametrize("body, message", [
    ("not json", "not JSON"),
    ("[1]", "must be a JSON object"),
    (json.dumps({"id": "x", "type": "ticket.merged", "occurred_at": AT, "payload": {}}), "id: "),
    (json.dumps(doc("ticket.replied", {"message_id": str(uuid.uuid4()), "author_type": "robot", "visibility": "public",
                                       "channel": "email", "number": 1})), "payload.author_type"),
    (json.dumps({**doc("ticket.merged", {}), "occurred_at": "2026-03-02T15:00:00"}), "occurred_at"),
])
def test_bad_events_name_the_problem(body, message):
    with pytest.raises(errors.ValidationFailed, match=message):
        parse_event(body)


def test_from_outbox_row():
    row = {"id": str(uuid.uuid4()), "event_type": "outbound.requested", "schema_version": 1, "ticket_id": None,
           "occurred_at": AT, "payload": {"message_id": str(uuid.uuid4()), "channel": "email", "number": 4}, "seq": 1}
    assert Event.from_outbox_row(row).payload.channel == "email"


def test_sns_entries_have_event_type_attribute_and_batches_respect_limits():
    event = parse_event(doc("ticket.merged", {"merged_from": str(uuid.uuid4()), "merged_from_number": 1, "number": 2,
                                               "messages_moved": 3}))
    entry = SnsPublisher.entry(event)
    assert entry["Id"] == str(event.id)
    assert entry["MessageAttributes"]["event_type"] == {"DataType": "String", "StringValue": "ticket.merged"}
    small = [entry] * 23
    assert [len(b) for b in _batches(small)] == [10, 10, 3]
    big = [{**entry, "Message": "x" * 100_000}] * 5
    assert [len(b) for b in _batches(big)] == [2, 2, 1]  # 256 KiB per PublishBatch call


def test_sns_publisher_needs_a_topic():
    with pytest.raises(errors.ValidationFailed, match="topic ARN"):
        SnsPublisher(object(), "")

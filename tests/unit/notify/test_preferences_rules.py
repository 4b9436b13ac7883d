"""Quiet hours, channel defaults and the notification rules (pure)."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timezone

import pytest

from helpdesk import errors
from helpdesk.events.schemas import Event
from helpdesk.notify.preferences import Preferences
from helpdesk.notify.rules import audience, render


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_quiet_hours_wrapping_midnight_in_agent_timezone():
    p = Preferences(timezone="Europe/Berlin", quiet_start=time(22), quiet_end=time(7))
    assert p.quiet_until(utc(2026, 3, 2, 12)) is None  # 13:00 Berlin
    assert p.quiet_until(utc(2026, 3, 2, 21, 30)) == utc(2026, 3, 3, 6)  # 22:30 Berlin -> 07:00 next day
    assert p.quiet_until(utc(2026, 3, 3, 5)) == utc(2026, 3, 3, 6)  # 06:00 Berlin, same morning
    assert p.quiet_until(utc(2026, 3, 3, 6)) is None  # 07:00 exactly: over


def test_quiet_hours_across_dst_change():
    # US DST starts Sun 2026-03-08: 07:00 local is 11:00Z that day (EDT), 12:00Z the day before (EST).
    p = Preferences(timezone="America/New_York", quiet_start=time(22), quiet_end=time(7))
    assert p.quiet_until(utc(2026, 3, 8, 4)) == utc(2026, 3, 8, 11)


def test_channel_defaults_and_overrides():
    p = Preferences.parse({"channels": {"sla.warning": ["slack", "slack"], "ticket.replied": []}})
    assert p.channels_for("ticket.assigned") == ("email", "slack")
    assert p.channels_for("sla.warning") == ("slack",)
    assert p.channels_for("ticket.replied") == ()


@pytest.mark.parametrize("data, message", [
    ({"timezone": "Nowhere/City"}, "unknown IANA timezone"),
    ({"quiet_start": "01:00", "quiet_end": "01:00"}, "must differ"),
    ({"quiet_mode": "later"}, "quiet_mode"),
    ({"colour": "red"}, "colour"),
])
def test_bad_preferences(data, message):
    with pytest.raises(errors.ValidationFailed, match=message):
        Preferences.parse(data)


def ev(type_: str, payload: dict) -> Event:
    return Event.model_validate({"id": uuid.uuid4(), "type": type_, "ticket_id": uuid.uuid4(),
                                 "occurred_at": "2026-03-02T15:00:00Z", "payload": payload})


def test_audience_rules():
    a, t, t2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert audience(ev("ticket.assigned", {"agent_id": str(a), "reason": "pushed", "number": 1})).agent_ids == (a,)
    assert audience(ev("ticket.assigned", {"agent_id": None, "team_id": str(t), "reason": "manual", "number": 1})).empty
    breach = audience(ev("sla.breached", {"kind": "resolution", "number": 1, "team_id": str(t),
                                          "escalated_to_team_id": str(t2), "assignee_id": None}))
    assert breach.agent_ids == () and breach.lead_team_ids == (t, t2)
    only_assignee = audience(ev("sla.breached", {"kind": "resolution", "number": 1, "team_id": str(t),
                                                 "assignee_id": str(a), "notify": ["assignee"]}))
    assert only_assignee.agent_ids == (a,) and only_assignee.lead_team_ids == ()
    assert audience(ev("ticket.merged", {"merged_from": str(t), "merged_from_number": 1, "number": 2,
                                         "messages_moved": 0})).empty


def test_render_uses_recipient_timezone():
    e = ev("sla.warning", {"kind": "first_response", "due_at": "2026-03-02T16:00:00Z", "number": 42})
    out = render(e, {"subject": "Broken"}, timezone="Asia/Tokyo", web_base_url="https://help.example.com/")
    assert out["subject"] == "[TKT-42] SLA warning: first response due Tue 03 Mar 01:00 (Asia/Tokyo)"
    assert f"https://help.example.com/#/ticket/{e.ticket_id}" in out["text"]

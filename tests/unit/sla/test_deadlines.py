"""deadline_for: the business-time walk behind every clock the commands start, resume or re-time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from helpdesk.sla.deadlines import deadline_for

UTC = timezone.utc
NY = {"timezone": "America/New_York", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clock(**kw):
    base = {"ticket_id": "t", "kind": "resolution", "target_seconds": 8 * 3600, "business": True, "schedule": NY,
            "recompute_from": at(2026, 3, 9, 13, 0), "paused_at": None, "due_at": None}
    return {**base, **kw}


def test_new_clock_walks_business_hours():
    d = deadline_for(clock(), timedelta(minutes=30))
    assert d["due_at"] == at(2026, 3, 9, 21, 0).isoformat()
    assert d["warn_at"] == at(2026, 3, 9, 20, 30).isoformat()


def test_calendar_clock_needs_no_schedule():
    d = deadline_for(clock(business=False, schedule=None, target_seconds=3600), timedelta(minutes=30))
    assert d["due_at"] == at(2026, 3, 9, 14, 0).isoformat()


def test_warning_lead_is_capped_at_half_the_target():
    d = deadline_for(clock(target_seconds=600), timedelta(minutes=30))
    assert d["warn_at"] == at(2026, 3, 9, 13, 5).isoformat()


def test_resume_counts_the_remaining_business_time_from_the_resume_instant():
    # paused Friday 16:00 EST with the deadline Monday 11:00 EDT: 3 business hours left
    d = deadline_for(clock(paused_at=at(2026, 3, 6, 21, 0), due_at=at(2026, 3, 9, 15, 0),
                           recompute_from=at(2026, 3, 7, 15, 0)), timedelta(minutes=30))  # resumed Saturday
    assert d["due_at"] == at(2026, 3, 9, 16, 0).isoformat()  # Monday 12:00 EDT


def test_adjustment_and_overdue_clocks():
    base = dict(paused_at=at(2026, 3, 9, 14, 0), due_at=at(2026, 3, 9, 15, 0), recompute_from=at(2026, 3, 9, 14, 0))
    assert deadline_for(clock(**base, adjust_seconds=-1800))["due_at"] == at(2026, 3, 9, 14, 30).isoformat()
    assert deadline_for(clock(**base, adjust_seconds=-7200))["due_at"] == at(2026, 3, 9, 14, 0).isoformat()  # due now
    overdue = dict(paused_at=at(2026, 3, 9, 16, 0), due_at=at(2026, 3, 9, 15, 0), recompute_from=at(2026, 3, 9, 16, 0))
    # an hour overdue, then the target grows by two hours: one hour left
    assert deadline_for(clock(**overdue, adjust_seconds=7200))["due_at"] == at(2026, 3, 9, 17, 0).isoformat()
    assert deadline_for(clock(**overdue))["due_at"] == at(2026, 3, 9, 16, 0).isoformat()

"""Deadlines for SLA clocks that a command started, resumed or restarted.

Commands mark such clocks with `recompute_from` inside their atomic statement; the business-time
walk happens here, in Python, and is written back by the command's follow-up statement (or by
the sweep when a process died in between). A new ticket's clocks are usually computed here BEFORE
the create statement instead (helpdesk.sla.cache calls deadline_for on the row the statement would
return) and written by the statement itself.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

DEFAULT_WARN_BEFORE = timedelta(minutes=30)


def configured_warn_before() -> timedelta:
    """The at-risk warning lead time: SLA_WARN_BEFORE_SECONDS (Settings), default 30 minutes."""
    from helpdesk.config import get_settings

    seconds = get_settings().sla_warn_before_seconds
    return timedelta(seconds=seconds) if seconds >= 0 else DEFAULT_WARN_BEFORE


def _to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def deadline_for(clock: dict[str, Any], warn_before: timedelta | None = None) -> dict[str, Any]:
    """Compute due_at and warn_at for one pending clock row (as returned by the commands)."""
    if warn_before is None:
        warn_before = configured_warn_before()
    start = _to_datetime(clock["recompute_from"])
    assert start is not None
    paused_at = _to_datetime(clock.get("paused_at"))
    old_due = _to_datetime(clock.get("due_at"))
    schedule = None
    if clock.get("business") and clock.get("schedule"):
        # Imported here: 24/7 clocks (no schedule) need none of the business-time machinery.
        from helpdesk.sla import Schedule, add_business_time, business_time_between

        schedule = Schedule.parse(clock["schedule"])

    def between(a: datetime, b: datetime) -> timedelta:
        return business_time_between(a, b, schedule) if schedule else b - a

    def add(a: datetime, d: timedelta) -> datetime:
        return add_business_time(a, d, schedule) if schedule else a + d

    target = timedelta(seconds=int(clock["target_seconds"]))
    if paused_at is not None and old_due is not None:
        # Resume: the business time that was left when the clock paused, counted again from now (not
        # the wall-clock pause length: a customer replying on Saturday resumes into Monday's hours).
        # A priority change since then moved the target by adjust_seconds (negative when tighter).
        left = between(paused_at, old_due) if old_due > paused_at else -between(old_due, paused_at)
        remaining = max(left + timedelta(seconds=int(clock.get("adjust_seconds") or 0)), timedelta(0))
    else:
        remaining = target
    due = add(start, remaining)
    lead = min(warn_before, target / 2)
    return {
        "ticket_id": str(clock["ticket_id"]),
        "kind": clock["kind"],
        "due_at": due.isoformat(),
        "warn_at": max(due - lead, start).isoformat(),
        "recompute_from": start.isoformat(),
    }

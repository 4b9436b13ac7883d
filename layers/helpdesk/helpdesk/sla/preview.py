"""What the SLA settings do now, for the admin console to check them against: a schedule's open
hours over the next days, and the policy and deadlines a new ticket would get at this instant.
Both are computed by the code the tickets use (business_hours, sla_policy_match, deadline_for);
the console only shows them."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db.client import DataApi
from helpdesk.sla.business_hours import Schedule
from helpdesk.sla.deadlines import configured_warn_before, deadline_for

MAX_DAYS = 31
TARGET_KINDS = ("first_response", "resolution")  # the clocks a new ticket starts (next_reply starts on a reply)


def open_hours(document: Any, start: datetime, days: int = 7) -> dict[str, Any]:
    """Each local date from `start`'s on: its open intervals (local wall clock and UTC) and why it
    differs from the weekly hours (a holiday, special hours). ValidationFailed names a bad field."""
    if not 1 <= days <= MAX_DAYS:
        raise errors.ValidationFailed(f"days must be 1..{MAX_DAYS}", errors=[{"loc": ["days"], "msg": f"1..{MAX_DAYS}"}])
    schedule = Schedule.parse(document)
    first = schedule.local_date(start)
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        intervals = ([(datetime.combine(day, datetime.min.time(), schedule.tz),
                       datetime.combine(day + timedelta(days=1), datetime.min.time(), schedule.tz))]
                     if schedule.always_open else list(schedule.intervals(day)))
        out.append({
            "date": day.isoformat(), "weekday": day.strftime("%A"),
            "holiday": schedule.is_holiday(day) and not schedule.always_open,
            "special": day in schedule.special_hours,
            "open_seconds": int(sum((b - a).total_seconds() for a, b in intervals)),
            "intervals": [{"start": a.isoformat(), "end": b.isoformat(), "local_start": _local(a, schedule, day),
                           "local_end": _local(b, schedule, day)} for a, b in intervals],
        })
    return {"timezone": schedule.timezone, "from": start.isoformat(), "days": out}


def _local(at: datetime, schedule: Schedule, day: Any) -> str:
    local = at.astimezone(schedule.tz)
    return "24:00" if local.date() > day and local.hour == 0 and local.minute == 0 else local.strftime("%H:%M")


def deadline_preview(db: DataApi, clock: Clock, *, priority: str, channel: str, tier: str,
                     team_id: uuid.UUID | None, customer_email: str | None) -> dict[str, Any]:
    """The policy a ticket created now would get (the SQL match: contract first, then the ordered
    conditions) and its deadlines. Two calls: the match, and the policies' schedules (fresh)."""
    from helpdesk.sla import cache
    from helpdesk.sla.policies import SlaPolicies

    now = clock.now()
    policy = SlaPolicies(db, clock).match(priority=priority, channel=channel, tier=tier, team_id=team_id,
                                          customer_email=customer_email)
    if policy is None:
        return {"at": now.isoformat(), "policy": None, "schedule_id": None, "deadlines": {}}
    config = cache.load(db)  # fresh: the admin may have just changed a schedule
    schedule_id = policy.get("schedule_id") or (config.team_schedules.get(str(team_id)) if team_id else None)
    schedule = config.schedules.get(str(schedule_id)) if schedule_id else None
    deadlines: dict[str, Any] = {}
    for kind in TARGET_KINDS:
        target = (policy.get("targets") or {}).get(kind)
        if not target:
            continue
        business = bool(target.get("business", True)) and schedule is not None
        d = deadline_for({"ticket_id": "", "kind": kind, "recompute_from": now, "paused_at": None, "due_at": None,
                          "target_seconds": target["seconds"], "business": business, "schedule": schedule},
                         configured_warn_before())
        deadlines[kind] = {"seconds": target["seconds"], "business": business, "due_at": _iso(d["due_at"]),
                           "warn_at": _iso(d["warn_at"])}
    return {"at": now.isoformat(), "policy": policy, "schedule_id": str(schedule_id) if schedule_id else None,
            "deadlines": deadlines}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value

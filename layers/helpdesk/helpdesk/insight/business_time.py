"""Running a report statement that measures business time in SQL (insight_measured_times, migration
1240): the public holidays of the schedules' `holiday_country` codes come from Python
(helpdesk.sla.business_hours.public_holidays, the rule's home), since the database has no calendar.

The codes a process has met are remembered, so a statement is one Data API call; the first statement
to meet a new code answers which codes it missed (`missing_countries` on its first row) and is asked
once more with their holidays (two calls, once per code and process)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from helpdesk.db.client import DataApi

_COUNTRIES: set[str] = set()


def country_holidays(first: datetime, last: datetime) -> dict[str, list[str]]:
    """{code: ["YYYY-MM-DD", ...]} for every code met so far, from the day before `first` to the day after `last`."""
    from helpdesk.sla.business_hours import public_holidays

    first_day, last_day = first.date() - timedelta(days=1), last.date() + timedelta(days=1)
    return {code: [d.isoformat() for d in public_holidays(code, first_day, last_day)] for code in sorted(_COUNTRIES)}


def query_measured(db: DataApi, statement: str, params: dict[str, Any], *, first: datetime,
                   last: datetime) -> list[dict[str, Any]]:
    """`statement`'s rows, with :holidays covering every holiday_country its schedules name between
    `first` and `last` (the measured spans: tickets created from `first`, answered by `last`)."""
    rows = db.query(statement, {**params, "holidays": country_holidays(first, last)})
    missing = {code for row in rows[:1] for code in (row.get("missing_countries") or [])}
    if not missing:
        return rows
    _COUNTRIES.update(missing)
    return db.query(statement, {**params, "holidays": country_holidays(first, last)})

"""Business-hour schedules and the business-time math SLA clocks run on.

A schedule is one JSON document (docs/architecture.md, "SLA")::

    {"timezone": "America/Los_Angeles",
     "hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "18:00"]]},
     "special_hours": {"2026-12-24": [["09:00", "12:00"]]},
     "holidays": ["2026-12-25"],
     "holiday_country": "US"}

Conventions (chosen, tested, and compared with the working_hours gem in tests/unit/sla):
- All math is on UTC instants. A local date's intervals are turned into UTC instants with
  zoneinfo, so a business hour is a real elapsed hour: the 25-hour fall-back day open
  "00:00"-"24:00" holds 25 business hours, the 23-hour spring-forward day 23.
- A wall-clock time that does not exist (inside a spring-forward gap) means the first instant
  the clock shows a later time, i.e. the transition instant. An ambiguous time (fall-back)
  means its first occurrence.
- "24:00" closes at the next local midnight. A missing weekday is closed.
- Precedence for a date: an explicit `holidays` entry closes it; else `special_hours` replace
  the weekly hours (an empty list closes it; a company may open on a public holiday); else a
  `holiday_country` public holiday closes it; else the weekly hours apply.
- add_business_time returns the EARLIEST instant at which the duration has elapsed, so a
  deadline that uses up an interval exactly is that interval's closing instant (not the next
  opening: the same instant in business time).
- The walk jumps whole intervals, a day at a time (cached per date); it never steps minutes.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.errors import ValidationFailed

UTC = timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIELDS = ("timezone", "hours", "special_hours", "holidays", "holiday_country")
DAY = 86400
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
# A schedule whose weekly hours are open but whose dates are all closed for this long is broken
# (e.g. special_hours closing years on end): fail loudly instead of walking forever.
_MAX_CLOSED_DAYS = 3 * 366
ZERO = timedelta(0)

Interval = tuple[int, int]  # seconds since local midnight, end may be 86400 ("24:00")


def _fail(field: str, problem: str, allowed: str) -> ValidationFailed:
    return ValidationFailed(f"schedule {field}: {problem}; allowed: {allowed}", field=field)


def _parse_time(value: Any, field: str) -> int:
    allowed = '"HH:MM" from "00:00" to "24:00"'
    if not isinstance(value, str) or not (m := _TIME_RE.match(value)):
        raise _fail(field, f"{value!r} is not a time", allowed)
    hh, mm = int(m.group(1)), int(m.group(2))
    if mm > 59 or hh > 24 or (hh == 24 and mm != 0):
        raise _fail(field, f"{value!r} is not a time of day", allowed)
    return hh * 3600 + mm * 60


def _parse_intervals(value: Any, field: str) -> tuple[Interval, ...]:
    allowed = 'a list of ["HH:MM", "HH:MM"] pairs, each start before its end, sorted and not overlapping'
    if not isinstance(value, list):
        raise _fail(field, f"expected a list of intervals, got {type(value).__name__}", allowed)
    out: list[Interval] = []
    for i, pair in enumerate(value):
        f = f"{field}[{i}]"
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _fail(f, f"{pair!r} is not a [start, end] pair", allowed)
        start, end = _parse_time(pair[0], f), _parse_time(pair[1], f)
        if start >= end:
            raise _fail(f, f"{pair[0]}-{pair[1]} does not end after it starts", allowed)
        if out and start < out[-1][1]:
            raise _fail(f, f"{pair[0]}-{pair[1]} overlaps or precedes the interval before it", allowed)
        out.append((start, end))
    return tuple(out)


def _parse_date(value: Any, field: str) -> date:
    try:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(field, f"{value!r} is not a date", 'an ISO date "YYYY-MM-DD"') from None


def _fmt(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


@lru_cache(maxsize=64)
def _country_calendar(code: str) -> Any:
    import holidays  # imported lazily: only schedules with holiday_country need it

    country, _, subdiv = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None)


def public_holidays(code: str, first: date, last: date) -> list[date]:
    """The public holidays of a `holiday_country` code from first to last (inclusive): what a schedule
    with that country closes, for callers that measure business time elsewhere (the reports' SQL)."""
    import holidays

    country, _, subdiv = code.partition("-")
    calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=range(first.year, last.year + 1))
    return sorted(d for d in calendar if first <= d <= last)


def _check_country(code: Any) -> str:
    import holidays

    allowed = 'an ISO 3166 country code supported by the "holidays" package, optionally "-SUBDIVISION" (e.g. "US", "US-CA", "DE-BY")'
    if not isinstance(code, str):
        raise _fail("holiday_country", f"{code!r} is not a country code", allowed)
    supported = holidays.list_supported_countries()
    country, _, subdiv = code.partition("-")
    if country not in supported:
        raise _fail("holiday_country", f"{code!r} is not a supported country", allowed)
    if subdiv and subdiv not in supported[country]:
        raise _fail("holiday_country", f"{subdiv!r} is not a subdivision of {country}",
                    f"one of {', '.join(supported[country]) or '(none)'}")
    return code


class Schedule:
    """An immutable business-hours calendar. Build with Schedule.parse(doc) or Schedule.always()."""

    __slots__ = ("timezone", "tz", "weekly", "special_hours", "holidays", "holiday_country", "always_open",
                 "_day_cache", "_lock")

    def __init__(self, timezone_name: str, weekly: tuple[tuple[Interval, ...], ...],
                 special_hours: Mapping[date, tuple[Interval, ...]] | None = None,
                 holidays: frozenset[date] = frozenset(), holiday_country: str | None = None,
                 always_open: bool = False) -> None:
        self.timezone = timezone_name
        self.tz = ZoneInfo(timezone_name)
        self.weekly = weekly
        self.special_hours = dict(special_hours or {})
        self.holidays = holidays
        self.holiday_country = holiday_country
        self.always_open = always_open
        self._day_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        self._lock = threading.Lock()

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def always(cls) -> "Schedule":
        """24/7: every second is business time (enterprise contracts, calendar-hour targets)."""
        return _ALWAYS

    @classmethod
    def parse(cls, doc: "Mapping[str, Any] | str | Schedule") -> "Schedule":
        """Validate the schedule JSON (a dict or its text). Raises ValidationFailed naming the field."""
        if isinstance(doc, Schedule):
            return doc
        if isinstance(doc, (str, bytes)):
            try:
                doc = json.loads(doc)
            except ValueError as exc:
                raise ValidationFailed(f"schedule: not valid JSON ({exc})") from None
        if not isinstance(doc, Mapping):
            raise ValidationFailed(f"schedule: expected a JSON object, got {type(doc).__name__}")
        # Parsed schedules are cached by their canonical text: the sweep recomputes many clocks that
        # share a handful of schedules, and the per-date interval cache then survives between calls.
        try:
            key = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            raise ValidationFailed("schedule: values must be JSON (strings, lists, objects)") from None
        return _parse_cached(key)

    @classmethod
    def _from_document(cls, doc: Mapping[str, Any]) -> "Schedule":
        unknown = sorted(set(doc) - set(FIELDS))
        if unknown:
            raise _fail(unknown[0], "unknown field", ", ".join(FIELDS))
        tz_name = doc.get("timezone")
        if not isinstance(tz_name, str) or not tz_name:
            raise _fail("timezone", f"{tz_name!r} is missing or not a string", 'an IANA time zone such as "America/Los_Angeles"')
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail("timezone", f"{tz_name!r} is not a known IANA time zone",
                        'an IANA time zone such as "America/Los_Angeles", "Asia/Tokyo", "UTC"') from None
        hours = doc.get("hours")
        if not isinstance(hours, Mapping):
            raise _fail("hours", "expected an object of weekday -> intervals", f"keys {', '.join(WEEKDAYS)}")
        for key in hours:
            if key not in WEEKDAYS:
                raise _fail(f"hours.{key}", "unknown weekday", ", ".join(WEEKDAYS))
        weekly = tuple(_parse_intervals(hours.get(day, []), f"hours.{day}") for day in WEEKDAYS)
        if not any(weekly):
            raise _fail("hours", "no business time in the week (every weekday closed)",
                        "at least one weekday with an interval, or Schedule.always() for 24/7")
        special_doc = doc.get("special_hours") or {}
        if not isinstance(special_doc, Mapping):
            raise _fail("special_hours", "expected an object of date -> intervals", '{"YYYY-MM-DD": [["HH:MM", "HH:MM"]]}')
        special = {_parse_date(k, f"special_hours.{k}"): _parse_intervals(v, f"special_hours.{k}")
                   for k, v in special_doc.items()}
        holiday_doc = doc.get("holidays") or []
        if not isinstance(holiday_doc, list):
            raise _fail("holidays", "expected a list of dates", '["YYYY-MM-DD", ...]')
        holidays = frozenset(_parse_date(v, f"holidays[{i}]") for i, v in enumerate(holiday_doc))
        country = doc.get("holiday_country")
        if country is not None:
            country = _check_country(country)
        return cls(tz_name, weekly, special, holidays, country)

    def to_document(self) -> dict[str, Any]:
        """The canonical JSON document (what the admin API and the database store)."""
        if self.always_open:
            return {"timezone": "UTC", "hours": {d: [["00:00", "24:00"]] for d in WEEKDAYS}}
        doc: dict[str, Any] = {
            "timezone": self.timezone,
            "hours": {WEEKDAYS[i]: [[_fmt(a), _fmt(b)] for a, b in iv] for i, iv in enumerate(self.weekly) if iv},
        }
        if self.special_hours:
            doc["special_hours"] = {d.isoformat(): [[_fmt(a), _fmt(b)] for a, b in iv]
                                    for d, iv in sorted(self.special_hours.items())}
        if self.holidays:
            doc["holidays"] = [d.isoformat() for d in sorted(self.holidays)]
        if self.holiday_country:
            doc["holiday_country"] = self.holiday_country
        return doc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.to_document() == other.to_document()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_document(), sort_keys=True))

    def __repr__(self) -> str:
        return "Schedule.always()" if self.always_open else f"Schedule({self.to_document()!r})"

    # -- the calendar ----------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        if day in self.special_hours or not self.holiday_country:
            return False
        return day in _country_calendar(self.holiday_country)

    def local_intervals(self, day: date) -> tuple[Interval, ...]:
        """The local wall-clock intervals of one date, after holidays and special hours."""
        if day in self.holidays:
            return ()
        if day in self.special_hours:
            return self.special_hours[day]
        if self.holiday_country and day in _country_calendar(self.holiday_country):
            return ()
        return self.weekly[day.weekday()]

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """One local date's open intervals as UTC instants (cached; empty intervals dropped)."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        out = []
        for a, b in self.local_intervals(day):
            start, end = self._wall_to_utc(day, a), self._wall_to_utc(day, b)
            if end > start:
                out.append((start, end))
        result = tuple(out)
        with self._lock:
            if len(self._day_cache) > 20000:  # bounded: a long-lived Lambda sees many dates
                self._day_cache.clear()
            self._day_cache[day] = result
        return result

    def _wall_to_utc(self, day: date, seconds: int) -> datetime:
        if seconds >= DAY:
            day, seconds = day + timedelta(days=1), seconds - DAY
        naive = datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60))
        first = naive.replace(tzinfo=self.tz)  # fold=0: the first occurrence of an ambiguous time
        instant = first.astimezone(UTC)
        if instant.astimezone(self.tz).replace(tzinfo=None) == naive:
            return instant
        # Inside a spring-forward gap: the wall clock first shows a later time at the transition.
        # Between the post-transition reading (earlier) and the pre-transition one lies the switch.
        lo = naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        hi = instant
        if lo > hi:
            lo, hi = hi, lo
        while (hi - lo) > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.astimezone(self.tz).replace(tzinfo=None) >= naive:
                hi = mid
            else:
                lo = mid
        return hi.replace(microsecond=0) if hi.microsecond else hi

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def _days_from(self, day: date, step: int = 1) -> Iterator[date]:
        one = timedelta(days=step)
        while True:
            yield day
            day += one

    def is_open(self, at: datetime) -> bool:
        """Business time at this instant (an interval includes its start, excludes its end)."""
        at = _aware(at, "at")
        if self.always_open:
            return True
        day = self.local_date(at)
        return any(a <= at < b for d in (day - timedelta(days=1), day) for a, b in self.intervals(d))

    def next_open(self, at: datetime) -> datetime:
        """`at` if it is business time, else the next opening instant."""
        at = _aware(at, "at").astimezone(UTC)
        if self.always_open:
            return at
        closed = 0
        for day in self._days_from(self.local_date(at) - timedelta(days=1)):
            ivs = self.intervals(day)
            for a, b in ivs:
                if b > at:
                    return max(a, at)
            closed = 0 if ivs else closed + 1
            if closed > _MAX_CLOSED_DAYS:
                raise ValidationFailed(f"schedule {self.timezone}: no business time within {_MAX_CLOSED_DAYS} days of {at.isoformat()}")
        raise AssertionError("unreachable")


@lru_cache(maxsize=256)
def _parse_cached(key: str) -> Schedule:
    return Schedule._from_document(json.loads(key))


_ALWAYS = Schedule("UTC", tuple(((0, DAY),) for _ in WEEKDAYS), always_open=True)


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{name}: {value.isoformat()} has no time zone; pass an aware datetime (UTC)")
    return value


def _duration(value: timedelta | int | float) -> timedelta:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta):
        raise ValidationFailed(f"duration: expected a timedelta or seconds, got {type(value).__name__}")
    if value < ZERO:
        raise ValidationFailed(f"duration: {value} is negative; allowed: zero or more")
    return value


def add_business_time(start: datetime, duration: timedelta | int | float, schedule: Schedule | None = None) -> datetime:
    """The earliest instant at which `duration` of business time has passed since `start` (UTC)."""
    start = _aware(start, "start").astimezone(UTC)
    remaining = _duration(duration)
    if schedule is None or schedule.always_open:
        return start + remaining
    if remaining == ZERO:
        return start
    closed = 0
    # Intervals of the previous local date end at or before this date's midnight, so the walk starts
    # at start's local date; each step consumes whole intervals.
    for day in schedule._days_from(schedule.local_date(start)):
        ivs = schedule.intervals(day)
        for a, b in ivs:
            if b <= start:
                continue
            begin = a if a > start else start
            available = b - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        closed = 0 if ivs else closed + 1
        if closed > _MAX_CLOSED_DAYS:
            raise ValidationFailed(f"schedule {schedule.timezone}: no business time within {_MAX_CLOSED_DAYS} days")
    raise AssertionError("unreachable")


def business_time_between(start: datetime, end: datetime, schedule: Schedule | None = None) -> timedelta:
    """Business time from start to end (negative when end is before start)."""
    start = _aware(start, "start").astimezone(UTC)
    end = _aware(end, "end").astimezone(UTC)
    if end < start:
        return -business_time_between(end, start, schedule)
    if schedule is None or schedule.always_open:
        return end - start
    total = ZERO
    last = schedule.local_date(end)
    day = schedule.local_date(start)
    one = timedelta(days=1)
    while day <= last:
        for a, b in schedule.intervals(day):
            if b <= start:
                continue
            if a >= end:
                break
            total += (b if b < end else end) - (a if a > start else start)
        day += one
    return total

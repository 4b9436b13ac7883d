"""Schedule parsing and the business-time math: tables (DST, lunch breaks, holidays, 24:00, year end),
scenarios (Friday 17:00 + 1h; Tokyo customer / San Francisco team) and hypothesis properties."""
from __future__ import annotations

import time as _time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.errors import ValidationFailed
from helpdesk.sla import Schedule, add_business_time, business_time_between

UTC = timezone.utc
H = timedelta(hours=1)
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")


def z(s: str) -> datetime:
    return datetime.fromisoformat(s)


def sched(tz: str = "UTC", hours=None, **extra) -> Schedule:
    hours = hours if hours is not None else {d: [["09:00", "17:00"]] for d in WORKWEEK}
    return Schedule.parse({"timezone": tz, "hours": hours, **extra})


NY = sched("America/New_York")
LA_LUNCH = sched("America/Los_Angeles", {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WORKWEEK})
PARIS_ALL_SUNDAY = sched("Europe/Paris", {"sun": [["00:00", "24:00"]]})
UTC_247_DAYS = sched("UTC", {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


# -- parsing -----------------------------------------------------------------------------------
def test_parse_round_trips_the_design_document():
    doc = {"timezone": "America/Los_Angeles",
           "hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "18:00"]]},
           "special_hours": {"2026-12-24": [["09:00", "12:00"]]},
           "holidays": ["2026-12-25"],
           "holiday_country": "US"}
    s = Schedule.parse(doc)
    assert s.to_document() == doc
    assert Schedule.parse(s.to_document()) == s
    import json
    assert Schedule.parse(json.dumps(doc)) == s


@pytest.mark.parametrize("doc, field, words", [
    ({"hours": {"mon": [["09:00", "17:00"]]}}, "timezone", "IANA"),
    ({"timezone": "Mars/Olympus", "hours": {"mon": [["09:00", "17:00"]]}}, "timezone", "IANA"),
    ({"timezone": "UTC"}, "hours", "weekday"),
    ({"timezone": "UTC", "hours": {"monday": [["09:00", "17:00"]]}}, "hours.monday", "mon, tue"),
    ({"timezone": "UTC", "hours": {"mon": [["9am", "17:00"]]}}, "hours.mon[0]", "HH:MM"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "24:30"]]}}, "hours.mon[0]", "24:00"),
    ({"timezone": "UTC", "hours": {"mon": [["17:00", "09:00"]]}}, "hours.mon[0]", "start before its end"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "hours.mon[1]", "not overlapping"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}}, "hours.mon", "list of"),
    ({"timezone": "UTC", "hours": {}}, "hours", "at least one weekday"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["25/12/2026"]}, "holidays[0]", "YYYY-MM-DD"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "special_hours": {"xmas": []}}, "special_hours.xmas", "YYYY-MM-DD"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holiday_country": "XX"}, "holiday_country", "ISO 3166"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "holiday_country": "US-ZZ"}, "holiday_country", "CA"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "tz": "x"}, "tz", "timezone, hours"),
])
def test_parse_errors_name_the_field_and_what_is_allowed(doc, field, words):
    with pytest.raises(ValidationFailed) as err:
        Schedule.parse(doc)
    assert f"schedule {field}:" in err.value.detail
    assert words in err.value.detail
    assert err.value.extra["field"] == field


def test_parse_rejects_non_json_and_non_objects():
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        Schedule.parse("{nope")
    with pytest.raises(ValidationFailed, match="JSON object"):
        Schedule.parse([1, 2])


def test_naive_datetimes_and_negative_durations_are_rejected():
    with pytest.raises(ValidationFailed, match="no time zone"):
        add_business_time(datetime(2026, 3, 2, 9), H, NY)
    with pytest.raises(ValidationFailed, match="negative"):
        add_business_time(z("2026-03-02T15:00:00+00:00"), -H, NY)


# -- tables ------------------------------------------------------------------------------------
ADD_TABLE = [
    # (schedule, start, duration, expected, why)
    (NY, "2026-03-02T15:00:00+00:00", H, "2026-03-02T16:00:00+00:00", "Monday 10:00 EST + 1h"),
    (NY, "2026-03-06T22:00:00+00:00", H, "2026-03-09T14:00:00+00:00", "Friday 17:00 EST + 1h = Monday 10:00 EDT (DST began Sunday)"),
    (NY, "2026-03-06T21:30:00+00:00", H, "2026-03-09T13:30:00+00:00", "half an hour Friday, the rest Monday after spring forward"),
    (NY, "2026-10-30T20:00:00+00:00", 2 * H, "2026-11-02T15:00:00+00:00", "Fri 16:00 EDT + 2h = Mon 10:00 EST (DST ended Sunday)"),
    (NY, "2026-03-07T15:00:00+00:00", timedelta(0), "2026-03-07T15:00:00+00:00", "zero duration returns the start even when closed"),
    (NY, "2026-03-02T21:00:00+00:00", H, "2026-03-02T22:00:00+00:00", "landing exactly on closing time stays at closing time"),
    (NY, "2026-03-02T15:00:00+00:00", 8 * H, "2026-03-03T15:00:00+00:00", "a full business day"),
    (NY, "2026-03-02T15:00:00+00:00", 40 * H, "2026-03-09T14:00:00+00:00", "a business week across the DST change"),
    (LA_LUNCH, "2026-03-02T19:30:00+00:00", H, "2026-03-02T21:30:00+00:00", "11:30 PST + 1h skips the lunch break -> 13:30"),
    (LA_LUNCH, "2026-03-02T20:15:00+00:00", H, "2026-03-02T22:00:00+00:00", "starting during lunch -> 13:00 + 1h"),
    (sched("UTC", holidays=["2026-12-25"]), "2026-12-24T16:00:00+00:00", 2 * H, "2026-12-28T10:00:00+00:00",
     "Thursday 16:00, Friday the 25th a holiday -> Monday"),
    (sched("UTC", special_hours={"2026-12-24": [["09:00", "12:00"]]}), "2026-12-24T11:00:00+00:00", 2 * H,
     "2026-12-25T10:00:00+00:00", "special hours close Christmas Eve at noon"),
    (sched("America/New_York", holiday_country="US"), "2026-12-24T21:00:00+00:00", 2 * H, "2026-12-28T15:00:00+00:00",
     "US public holiday on Friday the 25th (the deadline day) -> Monday"),
    (sched("America/New_York", holiday_country="US", special_hours={"2026-12-25": [["10:00", "12:00"]]}),
     "2026-12-24T22:00:00+00:00", H, "2026-12-25T16:00:00+00:00", "special hours open a public holiday"),
    (sched("UTC", holidays=["2027-01-01"]), "2026-12-31T16:00:00+00:00", 2 * H, "2027-01-04T10:00:00+00:00", "year end"),
    (UTC_247_DAYS, "2026-12-31T23:30:00+00:00", H, "2027-01-01T00:30:00+00:00", "24:00 then 00:00 across year end"),
    (sched("UTC", {"mon": [["00:00", "24:00"]]}), "2014-04-07T23:59:30+00:00", timedelta(seconds=60),
     "2014-04-14T00:00:30+00:00", "24:00 closes at midnight; next Monday"),
    (PARIS_ALL_SUNDAY, "2020-10-24T22:00:00+00:00", timedelta(hours=25), "2020-10-25T23:00:00+00:00",
     "the fall-back Sunday open 00:00-24:00 holds 25 real hours"),
    (PARIS_ALL_SUNDAY, "2020-03-28T23:00:00+00:00", timedelta(hours=23), "2020-03-29T22:00:00+00:00",
     "the spring-forward Sunday holds 23 hours"),
    (sched("Europe/Paris", {"sun": [["02:30", "04:00"]]}), "2020-03-29T00:00:00+00:00", timedelta(minutes=30),
     "2020-03-29T01:30:00+00:00", "opening at 02:30 that never exists opens at the 03:00 transition"),
    (sched("Asia/Tokyo"), "2026-03-02T00:00:00+00:00", H, "2026-03-02T01:00:00+00:00", "Tokyo 09:00 Monday"),
]


@pytest.mark.parametrize("schedule, start, duration, expected, why", ADD_TABLE, ids=[r[-1] for r in ADD_TABLE])
def test_add_business_time_table(schedule, start, duration, expected, why):
    got = add_business_time(z(start), duration, schedule)
    assert got == z(expected), why
    assert got.tzinfo == UTC
    assert business_time_between(z(start), got, schedule) == duration


BETWEEN_TABLE = [
    (NY, "2026-03-06T21:00:00+00:00", "2026-03-09T14:00:00+00:00", 2 * H, "Fri 16:00 EST -> Mon 10:00 EDT"),
    (LA_LUNCH, "2026-03-02T17:00:00+00:00", "2026-03-03T02:00:00+00:00", 8 * H, "a whole LA day minus lunch"),
    (LA_LUNCH, "2026-03-02T20:00:00+00:00", "2026-03-02T21:00:00+00:00", timedelta(0), "exactly the lunch hour"),
    (PARIS_ALL_SUNDAY, "2020-10-24T22:00:00+00:00", "2020-10-25T23:00:00+00:00", timedelta(hours=25), "25-hour day"),
    (sched("UTC", holiday_country="GB"), "2026-12-24T00:00:00+00:00", "2026-12-29T00:00:00+00:00", 8 * H,
     "GB: 25th and 28th (Boxing Day substitute) closed; only the 24th is business time"),
    (NY, "2026-03-09T14:00:00+00:00", "2026-03-06T21:00:00+00:00", -2 * H, "signed"),
    (Schedule.always(), "2026-03-06T21:00:00+00:00", "2026-03-09T14:00:00+00:00", timedelta(hours=65), "24/7"),
]


@pytest.mark.parametrize("schedule, start, end, expected, why", BETWEEN_TABLE, ids=[r[-1] for r in BETWEEN_TABLE])
def test_business_time_between_table(schedule, start, end, expected, why):
    assert business_time_between(z(start), z(end), schedule) == expected, why


def test_is_open_and_next_open():
    assert LA_LUNCH.is_open(z("2026-03-02T19:59:59+00:00"))
    assert not LA_LUNCH.is_open(z("2026-03-02T20:00:00+00:00"))
    assert LA_LUNCH.next_open(z("2026-03-02T20:30:00+00:00")) == z("2026-03-02T21:00:00+00:00")
    assert NY.next_open(z("2026-03-07T12:00:00+00:00")) == z("2026-03-09T13:00:00+00:00")


# -- scenarios ---------------------------------------------------------------------------------
def test_friday_17_ticket_with_one_business_hour_is_due_monday_10():
    berlin = sched("Europe/Berlin")
    friday_17 = datetime(2026, 3, 6, 17, 0, tzinfo=berlin.tz)
    due = add_business_time(friday_17, H, berlin)
    assert due.astimezone(berlin.tz) == datetime(2026, 3, 9, 10, 0, tzinfo=berlin.tz)


def test_tokyo_customer_san_francisco_team():
    """A customer in Tokyo writes Tuesday 09:00 JST; the team works 09:00-17:00 in San Francisco.
    Tuesday 09:00 JST is Monday 16:00 PST: one hour left that day, so 4 business hours end Tuesday 12:00 PST
    (= Wednesday 05:00 JST) -- the customer's own time zone plays no part."""
    sf = sched("America/Los_Angeles")
    tokyo = timezone(timedelta(hours=9))
    written = datetime(2026, 3, 3, 9, 0, tzinfo=tokyo)
    due = add_business_time(written, 4 * H, sf)
    assert due.astimezone(sf.tz) == datetime(2026, 3, 3, 12, 0, tzinfo=sf.tz)
    assert due == datetime(2026, 3, 4, 5, 0, tzinfo=tokyo)
    # Written at 18:00 JST (01:00 PST, before opening): the clock starts at SF opening time.
    assert add_business_time(datetime(2026, 3, 3, 18, 0, tzinfo=tokyo), H, sf) == datetime(2026, 3, 3, 10, 0, tzinfo=sf.tz)


def test_24x7():
    s = Schedule.always()
    start = z("2026-03-08T06:30:00+00:00")
    assert add_business_time(start, timedelta(hours=5), s) == z("2026-03-08T11:30:00+00:00")
    assert s.is_open(start)


# -- speed: whole intervals, never minute steps --------------------------------------------------
def test_long_durations_are_fast():
    start = z("2026-01-05T15:00:00+00:00")
    began = _time.perf_counter()
    due = add_business_time(start, timedelta(hours=8 * 250), NY)  # about a business year
    assert business_time_between(start, due, NY) == timedelta(hours=8 * 250)
    assert _time.perf_counter() - began < 0.5


# -- properties --------------------------------------------------------------------------------
SCHEDULES = [NY, LA_LUNCH, PARIS_ALL_SUNDAY, UTC_247_DAYS, sched("Europe/Paris", holiday_country="FR"),
             sched("Australia/Lord_Howe", {d: [["01:00", "03:00"], ["22:00", "24:00"]] for d in WORKWEEK}),
             sched("America/Santiago", {d: [["00:00", "06:00"], ["23:00", "24:00"]] for d in ("sat", "sun")}),
             Schedule.always()]
instants = st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31),
                        timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=60 * 24 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants, duration=durations)
def test_adding_then_measuring_returns_the_duration(schedule, start, duration):
    due = add_business_time(start, duration, schedule)
    assert due >= start
    assert business_time_between(start, due, schedule) == duration
    # earliest: a second earlier has not yet used up the duration
    if duration > timedelta(0):
        assert business_time_between(start, due - timedelta(seconds=1), schedule) < duration


@settings(max_examples=200, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants, d1=durations, d2=durations, shift=durations)
def test_monotonic_in_start_and_duration(schedule, start, d1, d2, shift):
    lo, hi = sorted((d1, d2))
    assert add_business_time(start, lo, schedule) <= add_business_time(start, hi, schedule)
    assert add_business_time(start, lo, schedule) <= add_business_time(start + shift, lo, schedule)


@settings(max_examples=200, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), a=instants, b=instants, c=instants)
def test_between_is_additive_and_bounded(schedule, a, b, c):
    a, b, c = sorted((a, b, c))
    ab, bc = business_time_between(a, b, schedule), business_time_between(b, c, schedule)
    assert ab + bc == business_time_between(a, c, schedule)
    assert timedelta(0) <= ab <= b - a

"""The reports' SQL business time (migration 1240: insight_wall_to_utc, insight_day_intervals,
insight_business_seconds) agrees with its rule's home, helpdesk.sla.business_hours, on any stored
schedule: time zones with daylight saving (whole-hour, half-hour, 45-minute offsets), intervals
inside gaps and repeated hours, "24:00", special hours, explicit and public holidays."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from helpdesk.sla.business_hours import Schedule, business_time_between, public_holidays

UTC = timezone.utc
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
         "America/Sao_Paulo", "UTC")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Around the 2026 transitions of those zones (and a quiet stretch).
ANCHORS = (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC),
           datetime(2026, 9, 27, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC),
           datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 24, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC))
SQL = "SELECT insight_business_seconds(:a::timestamptz, :b::timestamptz, :doc::jsonb, :holidays::jsonb) AS s"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def intervals(draw):
    # Quarter hours, with the small hours (DST transitions) likely; sorted, non-overlapping.
    marks = sorted(draw(st.sets(st.one_of(st.integers(0, 96).map(lambda q: q * 15), st.sampled_from([0, 60, 90, 120, 150, 180, 1440])),
                                min_size=0, max_size=6)))
    marks = [m for m in marks if m <= 1440]
    pairs = [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]
    return [[_hhmm(a), _hhmm(b)] for a, b in pairs if a < b]


@st.composite
def schedules(draw):
    zone = draw(st.sampled_from(ZONES))
    hours = {d: draw(intervals()) for d in WEEKDAYS}
    if not any(hours.values()):
        hours["mon"] = [["09:00", "17:00"]]
    anchor = draw(st.sampled_from(ANCHORS)).date()
    nearby = st.integers(-3, 3).map(lambda k: (anchor + timedelta(days=k)).isoformat())
    doc = {"timezone": zone, "hours": {d: v for d, v in hours.items() if v},
           "special_hours": {k: draw(intervals()) for k in draw(st.sets(nearby, max_size=2))},
           "holidays": sorted(draw(st.sets(nearby, max_size=2)))}
    country = draw(st.sampled_from([None, "US", "DE-BY"]))
    if country:
        doc["holiday_country"] = country
    return Schedule.parse(doc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=schedules(), anchor=st.sampled_from(ANCHORS), start=st.integers(-4 * 1440, 4 * 1440),
       length=st.integers(0, 6 * 1440))
def test_sql_business_seconds_match_the_python_rule(db, schedule, anchor, start, length):
    a = anchor + timedelta(minutes=start)
    b = a + timedelta(minutes=length)
    doc = schedule.to_document()
    holidays = {}
    if schedule.holiday_country:
        holidays[schedule.holiday_country] = [d.isoformat() for d in
                                              public_holidays(schedule.holiday_country, date(2025, 12, 1), date(2027, 1, 31))]
    got = db.query_one(SQL, {"a": a, "b": b, "doc": doc, "holidays": holidays})["s"]
    assert got == business_time_between(a, b, schedule).total_seconds(), (doc, a, b)


def test_no_schedule_is_wall_time_and_an_empty_span_is_zero(db):
    a, b = datetime(2026, 3, 8, 1, tzinfo=UTC), datetime(2026, 3, 9, 1, tzinfo=UTC)
    assert db.query_one(SQL, {"a": a, "b": b, "doc": None, "holidays": {}})["s"] == 86400
    assert db.query_one(SQL, {"a": b, "b": a, "doc": {"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}},
                              "holidays": {}})["s"] == 0


def test_public_holidays_close_the_day_only_when_passed(db):
    # Friday 2026-07-03 is the observed US Independence Day.
    doc = {"timezone": "America/New_York", "hours": {"fri": [["09:00", "17:00"]]}, "holiday_country": "US"}
    a, b = datetime(2026, 7, 3, 12, tzinfo=UTC), datetime(2026, 7, 3, 23, tzinfo=UTC)
    us = {"US": [d.isoformat() for d in public_holidays("US", date(2026, 1, 1), date(2026, 12, 31))]}
    assert date(2026, 7, 3) in public_holidays("US", date(2026, 7, 1), date(2026, 7, 31))
    assert db.query_one(SQL, {"a": a, "b": b, "doc": doc, "holidays": us})["s"] == 0
    assert business_time_between(a, b, Schedule.parse(doc)) == timedelta(0)

"""Our schedule math against the working_hours gem's specs (../shared/corpora/working_hours/vectors.json).

Where working_hours' conventions differ from ours, the test says so and checks that the two answers
are the same instant in business time (no business time between them), or documents the difference:
- a 00:00-24:00 day on the 25-hour fall-back Sunday: working_hours counts 24 wall-clock hours, we count
  the 25 real hours an agent could work (business time is elapsed time inside open intervals);
- fractional seconds: working_hours rounds its result to the second; we keep microseconds;
- working_hours writes the 24:00 closing as 23:59:59.999999; we write the next midnight (read theirs as ours).
Ops we do not implement (working-day arithmetic that keeps the time of day, closing/previous moments)
are listed in SKIPPED_OPS and not silently passed.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from helpdesk.sla import Schedule, add_business_time, business_time_between

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600}
SKIPPED_OPS = {"add_working_days_keep_time", "working_days_between", "prev_working_moment_or_self"}
# Vectors whose expected value follows a working_hours convention we deliberately do not share.
WALL_CLOCK_DAY = {"wh-wtb-dst-fall-midnight": 3600}  # we count the extra real hour of the 25-hour day


def load(corpora):
    return json.loads((corpora / "working_hours" / "vectors.json").read_text())["vectors"]


def to_schedule(doc: dict) -> Schedule:
    assert not doc.get("breaks"), "breaks are not used in these vectors"
    return Schedule.parse({"timezone": doc["time_zone"], "hours": doc["hours"], "special_hours": doc.get("shifts") or {},
                           "holidays": doc.get("holidays") or []})


def instant(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_every_vector_is_checked_or_explicitly_skipped(corpora):
    vectors = load(corpora)
    assert len(vectors) == 147
    checked = [v for v in vectors if v["op"] not in SKIPPED_OPS]
    assert len(checked) == 108


def walk(s: Schedule, at: datetime):
    """Every open interval (UTC) that ends after `at`, in order (test helper for next_close/next_opening)."""
    day = s.local_date(at) - timedelta(days=1)
    while True:
        for a, b in s.intervals(day):
            if b > at:
                yield a, b
        day += timedelta(days=1)


def their_midnight(value: str) -> datetime:
    t = instant(value)
    return t + timedelta(microseconds=1) if t.strftime("%H:%M:%S.%f") == "23:59:59.999999" else t


@pytest.fixture
def vectors(corpora):
    return [v for v in load(corpora) if v["op"] not in SKIPPED_OPS]


def test_vectors(vectors):
    failures = []
    for v in vectors:
        try:
            check(v)
        except AssertionError as exc:
            failures.append(f"{v['id']}: {exc}")
    assert not failures, "\n".join(failures)


def check(v: dict) -> None:
    s = to_schedule(v["schedule"])
    op = v["op"]
    if op in ("add", "subtract"):
        start = instant(v["start"])
        dur = timedelta(seconds=v["duration"]["value"] * UNITS[v["duration"]["unit"]])
        expected = instant(v["expected"])
        if op == "add":
            got = add_business_time(start, dur, s)
            if "rounds the RESULT" in v.get("note", ""):
                assert abs(got - expected) < timedelta(seconds=1), (got, expected)
                return
            if got != expected:  # another convention: must be the same instant in business time
                assert business_time_between(got, expected, s) == timedelta(0), (got, expected)
        else:
            # subtract: `expected` is an instant from which `dur` of business time reaches `start`.
            assert business_time_between(expected, start, s) == dur, (expected, start)
            assert add_business_time(expected, dur, s) <= start
            assert business_time_between(add_business_time(expected, dur, s), start, s) == timedelta(0)
    elif op == "business_time_between":
        got = business_time_between(instant(v["start"]), instant(v["end"]), s).total_seconds()
        expected = v["expected_seconds"] + WALL_CLOCK_DAY.get(v["id"], 0)
        assert round(got) == expected, (got, expected)
    elif op == "is_business_time":
        assert s.is_open(instant(v["at"])) is v["expected"]
    elif op == "next_open_or_self":
        assert s.next_open(instant(v["at"])) == instant(v["expected"])
    elif op == "next_close":
        at = their_midnight(v["at"])
        assert next(b for a, b in walk(s, at)) == their_midnight(v["expected"])
    elif op == "next_opening":  # the next opening strictly after `at`
        at = instant(v["at"])
        assert next(a for a, b in walk(s, at) if a > at) == instant(v["expected"])
    elif op == "is_business_day":
        day = date.fromisoformat(v["at"] if "at" in v else v["date"])
        assert bool(s.local_intervals(day)) is v["expected"]
    else:  # pragma: no cover - a new op in the corpus must be handled or skipped on purpose
        raise AssertionError(f"unhandled op {op}")


def test_fall_back_day_difference_is_exactly_the_extra_hour(corpora):
    v = next(v for v in load(corpora) if v["id"] == "wh-wtb-dst-fall-midnight")
    s = to_schedule(v["schedule"])
    got = business_time_between(instant(v["start"]), instant(v["end"]), s)
    assert got == timedelta(hours=25)  # 2020-10-25 in Paris lasted 25 hours
    assert instant(v["end"]) - instant(v["start"]) == timedelta(hours=25)

"""SLA engine benchmark: business-time math per second, and one sweep over N open tickets.

Run: .venv/bin/python bench/bench_sla.py                 # 150,000 open tickets (the issue's target)
     .venv/bin/python bench/bench_sla.py --scale 5000    # a quick run

The open tickets are loaded set-based (generate_series) into a fresh database on the local Data API;
their clocks' deadlines are spread from the past hour to the next two weeks, so the sweep has real
work (breaches, warnings) besides the many not yet due. Prints Data API calls per sweep (they must not
grow with N) and wall seconds (local PostgreSQL; on AWS add 10-100 ms per call).
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first

from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.sla import Schedule, add_business_time, business_time_between  # noqa: E402

NOW = datetime(2026, 3, 9, 15, 0, tzinfo=timezone.utc)  # Monday 11:00 in New York
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SCHEDULES = {
    "New York 09-17 weekdays": Schedule.parse({"timezone": "America/New_York",
                                               "hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS}}),
    "Los Angeles with lunch, US holidays": Schedule.parse({
        "timezone": "America/Los_Angeles", "hours": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS},
        "holidays": ["2026-12-24"], "holiday_country": "US"}),
    "24/7": Schedule.always(),
}

# N open tickets, each with a running first-response clock (NY business hours) and resolution clock (24/7).
LOAD = """
WITH c AS (
    INSERT INTO customers (email, created_at, updated_at) VALUES ('bench-sla@example.com', :now::timestamptz, :now::timestamptz)
    RETURNING id
),
t AS (
    INSERT INTO tickets (id, subject, channel, requester_id, status, created_at, updated_at)
    SELECT gen_random_uuid(), 'bench ' || g, 'email', c.id, 'in_progress', :now::timestamptz, :now::timestamptz
    FROM c, generate_series(1, :n) g
    RETURNING id, number
),
clocks AS (
    SELECT t.id, k.kind, k.business,
           -- deadlines from an hour ago to two weeks ahead, 20-minute steps: ~0.5% already due
           :now::timestamptz + ((t.number * 7919 + k.shift) % 1000 - 3) * interval '20 minutes' AS due_at
    FROM t CROSS JOIN (VALUES ('first_response', true, 0), ('resolution', false, 500)) AS k(kind, business, shift)
)
INSERT INTO sla_targets (ticket_id, kind, target_seconds, business, schedule, state, started_at, due_at, warn_at, updated_at)
SELECT id, kind, 3600, business, CASE WHEN business THEN :schedule::jsonb END, 'running', :now::timestamptz,
       due_at, due_at - interval '30 minutes', :now::timestamptz
FROM clocks
"""


def bench_math(n: int) -> None:
    rng = random.Random(7)
    starts = [NOW + timedelta(seconds=rng.randrange(0, 365 * 86400)) for _ in range(n)]
    durations = [timedelta(seconds=rng.randrange(60, 5 * 8 * 3600)) for _ in range(n)]
    print(f"add_business_time / business_time_between ({n:,} random starts over a year, 1 min - 40 business hours)")
    for name, schedule in SCHEDULES.items():
        for s, d in zip(starts[:50], durations[:50]):  # warm the per-date cache as a long-lived Lambda would
            add_business_time(s, d, schedule)
        began = time.perf_counter()
        dues = [add_business_time(s, d, schedule) for s, d in zip(starts, durations)]
        add_rate = n / (time.perf_counter() - began)
        began = time.perf_counter()
        for s, due in zip(starts, dues):
            business_time_between(s, due, schedule)
        between_rate = n / (time.perf_counter() - began)
        print(f"  {name:<38} add {add_rate:>10,.0f} calls/s   between {between_rate:>10,.0f} calls/s")


def bench_sweep(n: int, keep: bool) -> None:
    from helpdesk.events.publisher import RecordingPublisher
    from helpdesk.sla.sweep import run_sweep

    with scratch_database("helpdesk_bench_sla", keep=keep) as scratch:
        db = scratch.data_api()
        began = time.perf_counter()
        db.execute(LOAD, {"n": n, "now": NOW - timedelta(hours=2),
                          "schedule": SCHEDULES["New York 09-17 weekdays"].to_document()})
        db.execute("ANALYZE")
        print(f"\nloaded {n:,} open tickets ({2 * n:,} running clocks) in {time.perf_counter() - began:.1f} s")
        clock = FixedClock(NOW)
        publisher = RecordingPublisher()
        for label in ("first sweep (backlog due)", "second sweep (nothing new due)", "a minute later"):
            db.stats.calls = 0
            began = time.perf_counter()
            result = run_sweep(db, clock, publisher)
            seconds = time.perf_counter() - began
            print(f"  {label:<32} {seconds:6.3f} s  {db.stats.calls:>2} Data API calls   "
                  f"breaches {result['breaches']:>5}  warnings {result['warnings']:>5}  "
                  f"events published {result['events_published']:>5}")
            clock = FixedClock(clock.now() + timedelta(minutes=1)) if label != "first sweep (backlog due)" else clock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=150_000, help="open tickets for the sweep (default 150,000)")
    parser.add_argument("--math", type=int, default=20_000, help="calls per schedule for the math benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    bench_math(args.math)
    bench_sweep(args.scale, args.keep)


if __name__ == "__main__":
    main()

"""The benchmark prints "met" for a sweep row only when the check behind its target passed: calls equal
at the two scales measured in the same run (steady state), bounded by batches (catch-up), and time."""
from __future__ import annotations

import importlib

import pytest

from bench.harness import Measurement

bench_main = importlib.import_module("bench.__main__")


def sweep(label: str, calls: int, ms: float, open_tickets: int, errors: int = 0) -> Measurement:
    return Measurement(f"SLA sweep, {label}, {open_tickets:,} open tickets", samples_ms=[ms], calls=calls, ops=1, errors=errors)


def check(main: dict[str, tuple[int, float]], small: dict[str, tuple[int, float]], errors: int = 0):
    big = {label: sweep(label, c, ms, 15_000, errors) for label, (c, ms) in main.items()}
    little = {label: sweep(label, c, ms, 1_500) for label, (c, ms) in small.items()}
    return bench_main.SweepCheck(0.1, 0.01, big, little), big


@pytest.mark.parametrize("main, small, met", [
    ((9, 40.0), (9, 20.0), "met"),
    ((208, 482.0), (9, 20.0), "missed"),   # the figure: calls grew with the queue
    ((9, 40.0), (8, 20.0), "missed"),      # any difference in calls is growth with size
    ((11, 40.0), (11, 20.0), "missed"),    # equal but above 10 calls
    ((9, 140.0), (9, 20.0), "missed"),     # equal but slower than 100 ms at one scale
])
def test_steady_state_is_met_only_with_equal_calls_at_both_scales(main, small, met):
    sweeps, big = check({"catch-up": (20, 300.0), "steady state": main}, {"catch-up": (20, 100.0), "steady state": small})
    target, verdict = sweeps.target(big["steady state"])
    assert verdict == met
    assert "calls independent of size" in target and "0.1 and 0.01" in target


def test_catch_up_is_met_only_within_the_call_bound_and_a_second():
    bound = bench_main.sweep_max_calls()
    ok, big = check({"catch-up": (bound, 900.0), "steady state": (9, 1.0)}, {"catch-up": (12, 100.0), "steady state": (9, 1.0)})
    assert ok.target(big["catch-up"])[1] == "met"
    over, big = check({"catch-up": (bound + 1, 900.0), "steady state": (9, 1.0)}, {"catch-up": (12, 100.0), "steady state": (9, 1.0)})
    assert over.target(big["catch-up"])[1] == "missed"
    slow, big = check({"catch-up": (12, 1500.0), "steady state": (9, 1.0)}, {"catch-up": (12, 100.0), "steady state": (9, 1.0)})
    assert slow.target(big["catch-up"])[1] == "missed"


def test_a_failed_job_or_a_missing_second_scale_is_never_met():
    failed, big = check({"catch-up": (12, 100.0), "steady state": (9, 1.0)}, {"catch-up": (12, 100.0), "steady state": (9, 1.0)},
                        errors=1)
    assert failed.target(big["steady state"])[1] == "missed"
    unchecked, big = check({"catch-up": (12, 100.0), "steady state": (9, 1.0)}, {})
    assert unchecked.target(big["steady state"]) == ("not checked (no measurement at the check scale)", "missed")
    assert bench_main._target(big["steady state"])[1] == "missed"  # a sweep row outside SweepCheck: no claim


def test_steady_state_sweeps_that_differ_among_themselves_are_not_met():
    sweeps, big = check({"catch-up": (12, 100.0), "steady state": (9, 1.0)}, {"catch-up": (12, 100.0), "steady state": (9, 1.0)})
    uneven = Measurement(big["steady state"].name, samples_ms=[10.0] * 5, calls=41, ops=5)  # 8.2 calls per sweep
    sweeps.main["steady state"] = uneven
    sweeps.check["steady state"] = Measurement("small", samples_ms=[10.0] * 5, calls=41, ops=5)
    assert sweeps.target(uneven)[1] == "missed"

"""The latency model: a request on AWS is the front door, a measured server time and one draw per Data
API call; its percentiles come from seeded sampling and are judged against the design's targets."""
from __future__ import annotations

import pytest

from bench.harness import Measurement
from bench.latency import DESIGN_CALL, FRONT_DOOR, PUBLIC_CALL, LogNormal, model, section, target_of


def test_lognormal_from_percentiles_gives_them_back():
    d = LogNormal.from_percentiles(20.0, 100.0, 0.99)
    assert d.quantile(0.5) == pytest.approx(20.0)
    assert d.quantile(0.99) == pytest.approx(100.0)
    assert d.mean > d.quantile(0.5)  # right-skewed: the mean (what billing sees) is above the median


def test_the_public_fit_reproduces_the_published_median_and_p75():
    assert PUBLIC_CALL.quantile(0.5) == pytest.approx(104.68)
    assert PUBLIC_CALL.quantile(0.75) == pytest.approx(173.0)


@pytest.mark.parametrize("p50, p, at", [(0, 10, 0.99), (20, 10, 0.99), (20, 100, 0.4), (20, 100, 1.0)])
def test_impossible_percentiles_are_refused(p50, p, at):
    with pytest.raises(ValueError, match="p50"):
        LogNormal.from_percentiles(p50, p, at)


def test_no_calls_is_front_door_plus_server_time():
    modeled = model("view", [5.0] * 20, 0, DESIGN_CALL)
    assert modeled.p50 == pytest.approx(5.0 + FRONT_DOOR.quantile(0.5), rel=0.05)
    assert modeled.p99 == pytest.approx(5.0 + FRONT_DOOR.quantile(0.99), rel=0.08)


def test_each_call_adds_a_draw_and_the_tail_grows_with_calls():
    one, three = model("x", [5.0], 1, DESIGN_CALL), model("x", [5.0], 3, DESIGN_CALL)
    assert one.p50 > 5.0 + DESIGN_CALL.quantile(0.5)
    assert three.p50 > one.p50 + 2 * DESIGN_CALL.quantile(0.5) * 0.8
    assert three.p99 > one.p99


def test_a_fractional_call_count_adds_the_extra_call_that_often():
    assert model("x", [5.0], 1, DESIGN_CALL).p50 < model("x", [5.0], 1.5, DESIGN_CALL).p50 < model("x", [5.0], 2, DESIGN_CALL).p50


def test_sampling_is_repeatable():
    assert model("x", [3.0, 9.0], 2, PUBLIC_CALL) == model("x", [3.0, 9.0], 2, PUBLIC_CALL)


def test_targets_are_the_designs():
    assert target_of("create ticket (API)") == ("form intake", 300.0)
    assert target_of("agent reply (API)") == ("agent reply", 200.0)
    assert target_of("team queue (API)") == ("views", 50.0)
    assert target_of("search, rare term (API)") is None


def test_section_judges_each_target_and_leaves_out_references_and_sweeps():
    rows = [Measurement("create ticket (API)", samples_ms=[4.0] * 50, calls=50, ops=50),
            Measurement("my open tickets (API)", samples_ms=[4.0] * 50, calls=150, ops=50),
            Measurement("raw: create ticket", samples_ms=[1.0], calls=0, ops=1),
            Measurement("SLA sweep, steady state, 10 open tickets", samples_ms=[9.0], calls=9, ops=1)]
    text = "\n".join(section(rows))
    assert "| create ticket (API) | 1.00 |" in text and "form intake < 300 ms | met at p99 |" in text
    # three calls at p50 20 ms each cannot make a 50 ms view even at the median
    assert "| my open tickets (API) | 3.00 |" in text and "views < 50 ms | missed |" in text
    assert "raw: create ticket" not in text and "SLA sweep" not in text

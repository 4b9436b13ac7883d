"""helpdesk.idle: when a scheduled run may leave the database alone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.idle import IdleSkip, max_idle_seconds

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=timezone.utc)


def test_without_a_budget_no_run_is_skipped(monkeypatch):
    monkeypatch.delenv("SWEEP_MAX_IDLE_SECONDS", raising=False)
    idle = IdleSkip()
    idle.ran(NOW, idle=True, next_due=None)
    assert idle.skipping(NOW + timedelta(seconds=1)) is None


def test_an_idle_run_skips_until_the_next_due_instant_or_the_budget(monkeypatch):
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", "3600")
    idle = IdleSkip()
    idle.ran(NOW, idle=True, next_due=NOW + timedelta(minutes=20))
    assert idle.skipping(NOW + timedelta(minutes=19)) == NOW + timedelta(minutes=20)
    assert idle.skipping(NOW + timedelta(minutes=20)) is None
    idle.ran(NOW, idle=True, next_due=NOW + timedelta(hours=5))
    assert idle.skipping(NOW + timedelta(minutes=59)) == NOW + timedelta(hours=1)
    idle.ran(NOW, idle=True, next_due=None)  # nothing known to be due: the budget bounds the lateness
    assert idle.skipping(NOW + timedelta(seconds=3599)) == NOW + timedelta(hours=1)
    assert idle.skipping(NOW + timedelta(hours=1)) is None


def test_a_run_that_did_work_or_failed_is_followed_by_the_next_run(monkeypatch):
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", "3600")
    idle = IdleSkip()
    idle.ran(NOW, idle=True, next_due=None)
    idle.ran(NOW + timedelta(hours=1), idle=False, next_due=None)
    assert idle.skipping(NOW + timedelta(hours=1, minutes=1)) is None


@pytest.mark.parametrize("raw", ["soon", "-5"])
def test_a_bad_budget_is_refused_with_the_variable_named(monkeypatch, raw):
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", raw)
    with pytest.raises(ValueError, match="SWEEP_MAX_IDLE_SECONDS"):
        max_idle_seconds()

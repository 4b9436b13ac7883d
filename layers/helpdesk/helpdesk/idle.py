"""Idle skipping for the scheduled runs (the sweep, the deferred-notification run).

Aurora Serverless v2 at 0 ACU pauses only after minutes without a connection, and a schedule
that queries every minute keeps it awake around the clock (about 0.5 ACU). With a budget
(SWEEP_MAX_IDLE_SECONDS > 0) a warm function whose last run found nothing to do leaves the
database alone until the next instant it knows work is due, or the budget, whichever comes first.
Work created meanwhile by other functions (a new ticket's deadline, a new deferral) is picked up
that late at most. The budget is read on every run (it is an environment variable of the function).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

MAX_IDLE_ENV = "SWEEP_MAX_IDLE_SECONDS"


def max_idle_seconds() -> int:
    raw = os.environ.get(MAX_IDLE_ENV, "0") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_IDLE_ENV} must be a whole number of seconds (0 = never skip), got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{MAX_IDLE_ENV} must be 0 or more seconds, got {value}")
    return value


class IdleSkip:
    """Per warm process: until when the next scheduled runs may skip the database."""

    def __init__(self) -> None:
        self.until: datetime | None = None

    def skipping(self, now: datetime) -> datetime | None:
        """The instant the skip ends if this run is skipped, else None."""
        return self.until if self.until is not None and now < self.until else None

    def ran(self, now: datetime, *, idle: bool, next_due: datetime | None) -> None:
        """After a run: `idle` when it found nothing to do (and nothing failed); `next_due` is the
        earliest instant it knows work becomes due (None: none known)."""
        budget = max_idle_seconds()
        if budget <= 0 or not idle:
            self.until = None
            return
        horizon = now + timedelta(seconds=budget)
        self.until = min(next_due, horizon) if next_due is not None else horizon

"""Rate limiting in the database (Lambda has no shared memory): fixed windows per bucket, e.g.
per sender address and per client IP for the public web form. One Data API call per check."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import ratelimit as sql
from helpdesk.db.client import DataApi


@dataclass(frozen=True)
class Limit:
    bucket: str
    max_hits: int


class RateLimiter:
    def __init__(self, db: DataApi, clock: Clock, window: timedelta = timedelta(hours=1)) -> None:
        self.db = db
        self.clock = clock
        self.window = window

    def hit(self, limits: list[Limit]) -> None:
        """Count one hit in each bucket; RateLimited (with retry_after seconds) when any is over."""
        if not limits:
            return
        now = self.clock.now()
        seconds = int(self.window.total_seconds())
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        start = epoch + timedelta(seconds=(int((now - epoch).total_seconds()) // seconds) * seconds)
        rows = self.db.query(sql.HIT, {
            "buckets": [lim.bucket for lim in limits],
            "window_start": start,
            "expired_before": start - self.window,
        })
        counts = {r["bucket"]: int(r["hits"]) for r in rows}
        over = [lim for lim in limits if counts.get(lim.bucket, 0) > lim.max_hits]
        if over:
            retry_after = max(1, math.ceil((start + self.window - now).total_seconds()))
            names = ", ".join(lim.bucket.split(":", 1)[0] for lim in over)
            raise errors.RateLimited(f"too many requests (per {names}); try again in {retry_after} seconds",
                                     retry_after=retry_after)

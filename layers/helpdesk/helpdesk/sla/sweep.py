"""The SLA sweep (EventBridge every minute; locally every 30 s): set-based jobs over indexed due times.

1. warnings: clocks whose warn_at passed -> `sla.warning` (once per clock)
2. breaches: clocks whose due_at passed -> breached_at, priority one step up, escalation (an unassigned
   ticket moves to the team's escalation team; the event asks for the team lead), `sla.breached` (once)
3. auto-close: tickets resolved more than 72 h ago (no customer reply since) -> closed
4. deadline recompute: clocks a command marked (recompute_from) but whose follow-up never wrote due_at

Every job is one statement that takes at most `batch` rows (SKIP LOCKED + compare-and-set, so two
overlapping sweeps never take the same row and each event is written once) and is repeated while a
batch comes back full, at most `max_rounds` times: the number of Data API calls per sweep depends on
how much is due, never on how many tickets are open, and is at most SweepSettings.max_calls
(3 jobs x max_rounds + the pending/status read + one follow-up; 32 with the defaults; 5 when each
job's batch comes back short). Events are written to the outbox in
the same statement; the sweep then publishes them and acknowledges them with the recomputed
deadlines in one follow-up statement (the relay publishes whatever that misses).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import sla as sql
from helpdesk.db.tickets import followup
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.sla.deadlines import deadline_for
from helpdesk.tickets.states import AUTO_CLOSE_HOURS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepSettings:
    batch: int = 500
    max_rounds: int = 10
    auto_close_after: timedelta = timedelta(hours=AUTO_CLOSE_HOURS)
    warn_before: timedelta | None = None  # None: SLA_WARN_BEFORE_SECONDS (default 30 minutes)

    @property
    def max_calls(self) -> int:
        """Data API calls one sweep makes at most: breach, warn and auto-close rounds, the pending and
        status read, the follow-up that acknowledges published events and writes deadlines."""
        return 3 * self.max_rounds + 2


def run_sweep(db: DataApi, clock: Clock, publisher: Publisher, *, settings: SweepSettings | None = None) -> dict[str, Any]:
    """One sweep. Returns counts per job, the events published and `next_due_at` (None: nothing scheduled)."""
    cfg = settings or SweepSettings()
    now = clock.now()
    counts = {"warnings": 0, "breaches": 0, "auto_closed": 0, "deadlines_recomputed": 0, "events_published": 0}
    events: list[dict[str, Any]] = []

    def job(name: str, statement: str, params: dict[str, Any]) -> None:
        for _ in range(cfg.max_rounds):
            rows = db.query(statement, {**params, "now": now, "limit": cfg.batch})
            taken = int(rows[0]["taken"])
            counts[name] += taken
            events.extend(r["event"] for r in rows if r["event"] is not None)
            if taken < cfg.batch:
                return

    # Breaches before warnings: a clock the sweep reaches late gets its breach, and the warning job then
    # only marks it (no stale warning event after the breach).
    job("breaches", sql.SWEEP_BREACH, {})
    job("warnings", sql.SWEEP_WARN, {})
    job("auto_closed", sql.SWEEP_AUTO_CLOSE, {"cutoff": now - cfg.auto_close_after,
                                             "reason": f"no customer reply for {AUTO_CLOSE_HOURS} hours"})
    status = db.query_one(sql.SWEEP_PENDING, {"now": now, "limit": cfg.batch}) or {}
    deadlines = []
    for pending in status.get("pending") or []:
        try:
            deadlines.append(deadline_for(pending, cfg.warn_before))
        except (errors.HelpdeskError, ValueError, KeyError):
            log.exception("cannot compute the SLA deadline of ticket %s (%s)", pending.get("ticket_id"), pending.get("kind"))
    published: list[str] = []
    if events:
        try:
            published = publisher.publish(events)
        except Exception:  # noqa: BLE001 - downstream outage: the outbox relay publishes later
            log.exception("publishing %d sweep events failed; left to the outbox relay", len(events))
    if published or deadlines:
        done = db.execute(followup.FINISH, {"now": now, "published": published, "deadlines": deadlines,
                                            "load_sla_config": False}).rows[0]["doc"]
        counts["deadlines_recomputed"] = int(done["deadlines"])
        counts["events_published"] = int(done["published"])
    return {**counts, "events": events, "next_due_at": _next_due(status, deadlines, cfg)}


def _next_due(status: dict[str, Any], deadlines: list[dict[str, Any]], cfg: SweepSettings) -> datetime | None:
    """The earliest instant at which the next sweep has work (for skipping idle sweeps)."""
    candidates: list[datetime] = []
    for key in ("next_warn_at", "next_due_at"):
        if status.get(key):
            candidates.append(status[key])
    if status.get("oldest_resolved_at"):
        candidates.append(status["oldest_resolved_at"] + cfg.auto_close_after)
    for d in deadlines:
        candidates.extend(datetime.fromisoformat(d[k]) for k in ("warn_at", "due_at"))
    return min(candidates) if candidates else None

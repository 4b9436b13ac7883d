"""The outbox relay: publishes events left pending after their command committed (a crash between
commit and publish, SNS down, a throttled batch). Run by the sweep every minute.

Timing (grace, leases, backoff) runs on the database clock (now()), so relays in different functions
agree and an application clock moved forward (the local dev clock) cannot hide rows from the relay.

A round is two Data API calls: claim (the oldest pending rows, bounded, SKIP LOCKED, each given a
lease so a concurrent relay skips it) and settle (published rows marked; failed rows get an
exponential backoff; rows that fail schema validation are parked with the reason instead of
blocking the relay forever). Delivery is at-least-once: a relay that dies after SNS accepted a
row but before settling republishes it when the lease runs out, and the command's own inline
publish can race a relay within the grace period. Consumers dedupe by event id.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import events as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.events.schemas import validate_outbox_row

log = logging.getLogger(__name__)

# Data API calls of one relay run, whatever the backlog: claim, then settle (none settled: claim only).
RELAY_MAX_CALLS = 2
# A command publishes its own events right after commit; the relay leaves rows this young alone.
GRACE = timedelta(seconds=5)
# Longer than one publish round takes; a relay that died holding rows releases them after this.
LEASE = timedelta(minutes=2)
BASE_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 15 * 60.0


@dataclass
class RelayRound:
    claimed: int = 0
    published: int = 0
    retried: int = 0
    parked: int = 0


def relay_pending(db: DataApi, publisher: Publisher, *, limit: int = 500, clock: Clock | None = None,
                  grace: timedelta = GRACE, lease: timedelta = LEASE) -> int:
    """Publish up to `limit` pending outbox rows, oldest first; returns how many were published.
    At most RELAY_MAX_CALLS Data API calls: a larger backlog waits for the next run."""
    return relay_round(db, publisher, limit=limit, clock=clock, grace=grace, lease=lease).published


def relay_round(db: DataApi, publisher: Publisher, *, limit: int = 500, clock: Clock | None = None,
                grace: timedelta = GRACE, lease: timedelta = LEASE) -> RelayRound:
    if not 1 <= limit <= 5000:
        raise errors.ValidationFailed(f"relay limit must be between 1 and 5000, got {limit}")
    clock = clock or SystemClock()  # only stamps published_at; leases and backoff use the database clock
    rows = db.execute(sql.CLAIM_PENDING, {
        "grace_seconds": grace.total_seconds(), "lease_seconds": lease.total_seconds(), "limit": limit,
    }).rows
    if not rows:
        return RelayRound()
    rows.sort(key=lambda r: r["seq"])
    valid: list[dict[str, Any]] = []
    dead: list[dict[str, str]] = []
    for row in rows:
        try:
            validate_outbox_row(row)
            valid.append(row)
        except errors.ValidationFailed as exc:
            log.error("parking outbox row %s: %s", row["id"], exc.detail)
            dead.append({"id": str(row["id"]), "error": exc.detail[:2000]})
    accepted: set[str] = set()
    if valid:
        try:
            accepted = {str(i) for i in publisher.publish(valid)}
        except Exception:  # noqa: BLE001 - downstream outage: back off and retry later
            log.exception("publisher failed; %d event(s) will be retried", len(valid))
    published = [str(r["id"]) for r in valid if str(r["id"]) in accepted]
    failed = [str(r["id"]) for r in valid if str(r["id"]) not in accepted]
    settled = db.execute(sql.SETTLE_RELAY, {
        "now": clock.now(), "published": published, "failed": failed, "dead": dead,
        "base_backoff": BASE_BACKOFF_SECONDS, "max_backoff": MAX_BACKOFF_SECONDS,
    }).one()
    if failed:
        log.warning("relay: %d event(s) not accepted downstream, retried with backoff", len(failed))
    return RelayRound(claimed=len(rows), published=int(settled["published"]), retried=int(settled["retried"]),
                      parked=int(settled["parked"]))


def outbox_health(db: DataApi) -> dict[str, Any]:
    """Pending and parked counts and the oldest pending event (metrics/alarms)."""
    return db.query_one(sql.OUTBOX_HEALTH) or {}


def prune_published(db: DataApi, clock: Clock, *, keep: timedelta = timedelta(days=7), limit: int = 10000) -> int:
    """Delete outbox rows published longer than `keep` ago (the audit trail keeps the history)."""
    return int(db.execute(sql.PRUNE_PUBLISHED, {"before": clock.now() - keep, "limit": limit}).one()["deleted"])


def prune_processed(db: DataApi, clock: Clock, *, keep: timedelta = timedelta(days=30)) -> int:
    """Forget dedupe records older than any redelivery can be (SQS keeps messages 14 days at most)."""
    return int(db.execute(sql.PRUNE_PROCESSED, {"before": clock.now() - keep}).one()["deleted"])


def mark_processed(db: DataApi, consumer: str, event_id: Any, clock: Clock) -> bool:
    """Record that `consumer` handled event `event_id`; False if it already had (a redelivery)."""
    return db.execute(sql.MARK_PROCESSED, {"consumer": consumer, "event_id": event_id, "now": clock.now()}).first() is not None

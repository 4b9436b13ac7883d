"""Daily export of old ticket_audit rows (the hot tier) to S3 as JSON Lines (the cold tier).

Objects: s3://<AUDIT_BUCKET>/ticket_audit/dt=YYYY-MM-DD/ticket_audit-<first id>-<last id>.jsonl, one
line per audit row (`to_jsonb(row)`), ids ascending; partitioned by the UTC date of occurred_at
(Athena/Glue: partition column dt).

No row lost, none written twice, across reruns and crashes:
1. PLAN (one statement): the next id range after the watermark (the highest exported last_id) is
   recorded in audit_export_ledger as 'pending' BEFORE anything is written. The range is a gap-free
   run of rows in id order, all older than the cutoff and of one date, so the watermark never
   passes a row that was not exported. The ledger row fixes the object key.
2. WRITE: the rows of the range are read and put to that key.
3. COMPLETE (one statement): the range becomes 'done' and, with delete_exported, its rows leave
   the hot tier -- only if exactly the rows written are still there.
A crash after 1 or 2 leaves the range 'pending'; the next run redoes it first with the same key
and the same bytes (an overwrite, not a second copy). At most one range is pending (a unique
index), so two concurrent runs cannot plan overlapping ranges.

Delete or keep? Deleting keeps the hot table (and its indexes) proportional to the retention
window, which is what the hot/cold split is for; the ticket timeline older than the window is
then read from S3 (Athena). The job deletes by default; pass delete_exported=False to keep both.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import events as sql
from helpdesk.db.client import DataApi

log = logging.getLogger(__name__)

PREFIX = "ticket_audit/"
MAX_ROWS_PER_OBJECT = 2000
# The range's lines are read in one Data API call: stay well under its 1 MiB response limit, which
# counts the JSON-encoded response (a line's quotes are escaped there, so its size can nearly double).
MAX_BYTES_PER_OBJECT = 400 * 1024


@dataclass
class ExportRun:
    rows: int = 0
    objects: int = 0
    deleted: int = 0
    redone: int = 0
    keys: list[str] | None = None


def export_audit(db: DataApi, s3_client: Any, bucket: str, *, older_than: timedelta | datetime,
                 clock: Clock | None = None, delete_exported: bool = True, max_objects: int = 500) -> int:
    """Export every audit row older than `older_than` (an age, or a cutoff instant); returns rows exported."""
    return run_export(db, s3_client, bucket, older_than=older_than, clock=clock, delete_exported=delete_exported,
                      max_objects=max_objects).rows


def run_export(db: DataApi, s3_client: Any, bucket: str, *, older_than: timedelta | datetime,
               clock: Clock | None = None, delete_exported: bool = True, max_objects: int = 500,
               max_rows: int = MAX_ROWS_PER_OBJECT, max_bytes: int = MAX_BYTES_PER_OBJECT) -> ExportRun:
    if not bucket:
        raise errors.ValidationFailed("audit export needs a bucket (AUDIT_BUCKET)")
    clock = clock or SystemClock()
    cutoff = older_than if isinstance(older_than, datetime) else clock.now() - older_than
    if cutoff.tzinfo is None:
        raise errors.ValidationFailed("older_than as an instant must be timezone-aware")
    run = ExportRun(keys=[])
    pending = db.query_one(sql.AUDIT_PENDING_BATCH)
    if pending is not None:  # a previous run crashed mid-range: finish exactly that range first
        log.warning("redoing pending audit export range %s-%s", pending["first_id"], pending["last_id"])
        _write_and_complete(db, s3_client, bucket, pending, clock, delete_exported, run)
        run.redone += 1
    while run.objects < max_objects:
        try:
            batch = db.query_one(sql.AUDIT_PLAN_BATCH, {
                "cutoff": cutoff, "max_rows": max_rows, "max_bytes": max_bytes, "prefix": PREFIX, "now": clock.now()})
        except errors.UniqueViolation:
            log.warning("another audit export is running; stopping this one")
            break
        if batch is None:
            break
        _write_and_complete(db, s3_client, bucket, batch, clock, delete_exported, run)
    return run


def _write_and_complete(db: DataApi, s3_client: Any, bucket: str, batch: dict[str, Any], clock: Clock,
                        delete_exported: bool, run: ExportRun) -> None:
    rows = db.query(sql.AUDIT_RANGE_LINES, {"first_id": batch["first_id"], "last_id": batch["last_id"]})
    lines = [r["line"] for r in rows]
    if lines:
        body = ("\n".join(lines) + "\n").encode()
        s3_client.put_object(Bucket=bucket, Key=batch["object_key"], Body=body, ContentType="application/x-ndjson",
                             Metadata={"first-id": str(batch["first_id"]), "last-id": str(batch["last_id"]),
                                       "rows": str(len(lines)), "sha256": hashlib.sha256(body).hexdigest()})
    # No lines: the range's rows were removed by hand after it was planned; close it, write nothing.
    done = db.execute(sql.AUDIT_COMPLETE_BATCH, {
        "batch_id": batch["id"], "first_id": batch["first_id"], "last_id": batch["last_id"],
        "lines_written": len(lines), "delete_rows": delete_exported, "now": clock.now(),
    }).one()
    run.objects += 1 if lines else 0
    run.rows += len(lines)
    run.deleted += int(done["deleted"])
    if run.keys is not None and lines:
        run.keys.append(batch["object_key"])


def watermark(db: DataApi) -> dict[str, Any]:
    """The highest exported audit id, ranges and rows exported so far."""
    return db.query_one(sql.AUDIT_WATERMARK) or {}

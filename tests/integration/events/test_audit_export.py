"""Audit export to S3 (moto): each row exactly once across reruns and crashes, never past a gap."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from helpdesk.clock import FixedClock
from helpdesk.events.audit_export import export_audit, run_export, watermark

BUCKET = "helpdesk-audit"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
CLOCK = FixedClock(NOW)


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def add_audit(db, occurred_at: datetime, n: int = 1, data: dict | None = None) -> list[int]:
    rows = db.query("""INSERT INTO ticket_audit (event_id, event_type, actor_type, data, occurred_at)
                       SELECT gen_random_uuid(), 'ticket.created', 'system', :data::jsonb, :at::timestamptz
                       FROM generate_series(1, :n) RETURNING id""", {"at": occurred_at, "n": n, "data": data or {"k": "v"}})
    return sorted(r["id"] for r in rows)


def exported(s3) -> dict[str, list[dict]]:
    out = {}
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
        out[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return out


def exported_ids(s3) -> list[int]:
    return sorted(row["id"] for rows in exported(s3).values() for row in rows)


def hot_ids(db) -> list[int]:
    return [r["id"] for r in db.query("SELECT id FROM ticket_audit ORDER BY id")]


def test_run_twice_exports_each_row_once_partitioned_by_date(db, s3):
    old = add_audit(db, NOW - timedelta(days=100), 3) + add_audit(db, NOW - timedelta(days=95), 2)
    recent = add_audit(db, NOW - timedelta(days=10), 2)
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK) == 5
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK) == 0
    objects = exported(s3)
    assert sorted(objects) == [
        f"ticket_audit/dt=2026-02-21/ticket_audit-{old[0]:019d}-{old[2]:019d}.jsonl",
        f"ticket_audit/dt=2026-02-26/ticket_audit-{old[3]:019d}-{old[4]:019d}.jsonl",
    ]
    assert exported_ids(s3) == old
    line = objects[sorted(objects)[0]][0]
    assert set(line) >= {"id", "event_id", "ticket_id", "event_type", "actor_type", "data", "occurred_at"}
    assert line["data"] == {"k": "v"}
    assert hot_ids(db) == recent  # exported rows left the hot tier
    assert watermark(db)["rows_exported"] == 5


def test_keep_mode_leaves_hot_rows(db, s3):
    ids = add_audit(db, NOW - timedelta(days=100), 4)
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK, delete_exported=False) == 4
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK, delete_exported=False) == 0
    assert hot_ids(db) == ids and exported_ids(s3) == ids


def test_a_row_not_old_enough_stops_the_range_so_nothing_is_skipped(db, s3):
    a = add_audit(db, NOW - timedelta(days=100))
    b = add_audit(db, NOW - timedelta(days=1))  # written with a skewed clock: newer than its successors
    c = add_audit(db, NOW - timedelta(days=100))
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK) == 1
    assert exported_ids(s3) == a
    later = FixedClock(NOW + timedelta(days=90))
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=later) == 2
    assert exported_ids(s3) == a + b + c and hot_ids(db) == []


class CrashingS3:
    """Fails the put (crash before the write) or after it (crash between the write and the ledger)."""

    def __init__(self, real, *, after_write: bool) -> None:
        self.real, self.after_write, self.puts = real, after_write, 0

    def put_object(self, **kw):
        self.puts += 1
        if self.after_write:
            self.real.put_object(**kw)
        raise ConnectionError("lambda timed out")


@pytest.mark.parametrize("after_write", [False, True])
def test_crash_mid_range_is_redone_with_the_same_key(db, s3, after_write):
    ids = add_audit(db, NOW - timedelta(days=100), 5)
    crashing = CrashingS3(s3, after_write=after_write)
    with pytest.raises(ConnectionError):
        export_audit(db, crashing, BUCKET, older_than=timedelta(days=90), clock=CLOCK)
    assert hot_ids(db) == ids  # nothing deleted before the object was written and recorded
    assert len(exported(s3)) == (1 if after_write else 0)
    run = run_export(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK)
    assert (run.redone, run.rows) == (1, 5)
    assert len(exported(s3)) == 1 and exported_ids(s3) == ids  # overwritten, not duplicated
    assert hot_ids(db) == []
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK) == 0


def test_ranges_respect_row_and_byte_budgets(db, s3):
    ids = add_audit(db, NOW - timedelta(days=100), 25, data={"pad": "x" * 1000})
    run = run_export(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK, max_rows=10, max_bytes=5000)
    sizes = sorted(len(rows) for rows in exported(s3).values())
    assert run.rows == 25 and max(sizes) <= 4 and sum(sizes) == 25
    assert exported_ids(s3) == ids


def test_concurrent_exporter_cannot_plan_an_overlapping_range(db, s3):
    add_audit(db, NOW - timedelta(days=100), 3)
    # a crashed run's pending range exists; a planner must not add a second one
    from helpdesk.db import events as sql

    db.query_one(sql.AUDIT_PLAN_BATCH, {"cutoff": NOW - timedelta(days=90), "max_rows": 2, "max_bytes": 10**6,
                                        "prefix": "ticket_audit/", "now": NOW})
    from helpdesk import errors

    with pytest.raises(errors.UniqueViolation):
        db.query_one(sql.AUDIT_PLAN_BATCH, {"cutoff": NOW - timedelta(days=90), "max_rows": 2, "max_bytes": 10**6,
                                            "prefix": "ticket_audit/", "now": NOW})
    assert export_audit(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK) == 3
    assert len(exported_ids(s3)) == 3


def test_audit_export_function(db, s3, monkeypatch):
    from functions.audit_export import handler as module
    from local.functions import LambdaContext

    add_audit(db, datetime.now(timezone.utc) - timedelta(days=91), 2)
    monkeypatch.setenv("AUDIT_BUCKET", BUCKET)
    monkeypatch.setattr(module.wiring, "data_api", lambda: db)
    result = module.handler({"source": "aws.events"}, LambdaContext(function_name="helpdesk-audit_export"))
    assert result["rows"] == 2 and result["deleted"] == 2
    assert len(exported_ids(s3)) == 2


def test_default_budget_stays_under_the_data_api_response_limit_for_escape_heavy_rows(db, s3):
    # Backslashes double in to_jsonb text and double again on the Data API wire: the worst case.
    ids = add_audit(db, NOW - timedelta(days=100), 400, data={"q": "\\" * 3000})
    run = run_export(db, s3, BUCKET, older_than=timedelta(days=90), clock=CLOCK)
    assert run.rows == 400 and run.objects >= 3
    assert exported_ids(s3) == ids

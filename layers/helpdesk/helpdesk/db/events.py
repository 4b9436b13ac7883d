"""SQL for the outbox relay, consumer dedupe and the audit export (hot tier -> S3)."""
from __future__ import annotations

# Claim the oldest pending rows (bounded): skip rows another relay holds (SKIP LOCKED while it
# claims, claimed_until afterwards), rows still in their retry backoff, parked rows, and rows
# younger than the grace period (the command that wrote them is publishing them right now).
# Leases, backoff and the grace period use the database clock (now()), one time source for all.
CLAIM_PENDING = """
WITH picked AS (
    SELECT id FROM outbox
    WHERE published_at IS NULL AND dead_at IS NULL
      AND (claimed_until IS NULL OR claimed_until <= now())
      AND created_at <= now() - make_interval(secs => :grace_seconds::float8)
    ORDER BY seq
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o SET claimed_until = now() + make_interval(secs => :lease_seconds::float8), attempts = o.attempts + 1
FROM picked WHERE o.id = picked.id
RETURNING o.id, o.event_type, o.schema_version, o.ticket_id, o.payload, o.occurred_at, o.seq, o.attempts
"""

# One statement settles a relay round: published rows marked, failed rows backed off
# (min(base * 2^(attempts-1), max) seconds), invalid rows parked with their reason.
SETTLE_RELAY = """
WITH published AS (
    UPDATE outbox SET published_at = :now::timestamptz, claimed_until = NULL, last_error = NULL
    WHERE id IN (SELECT jsonb_array_elements_text(:published::jsonb)::uuid) AND published_at IS NULL
    RETURNING 1
),
retry AS (
    UPDATE outbox SET claimed_until = now()
        + make_interval(secs => least(:max_backoff::float8, :base_backoff::float8 * power(2, least(attempts, 30) - 1)))
    WHERE id IN (SELECT jsonb_array_elements_text(:failed::jsonb)::uuid) AND published_at IS NULL
    RETURNING 1
),
parked AS (
    UPDATE outbox o SET dead_at = :now::timestamptz, claimed_until = NULL, last_error = d.error
    FROM jsonb_to_recordset(:dead::jsonb) AS d(id uuid, error text)
    WHERE o.id = d.id AND o.published_at IS NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM published) AS published, (SELECT count(*) FROM retry) AS retried,
       (SELECT count(*) FROM parked) AS parked
"""

OUTBOX_HEALTH = """
SELECT count(*) FILTER (WHERE published_at IS NULL AND dead_at IS NULL) AS pending,
       count(*) FILTER (WHERE dead_at IS NOT NULL AND published_at IS NULL) AS parked,
       min(occurred_at) FILTER (WHERE published_at IS NULL AND dead_at IS NULL) AS oldest_pending
FROM outbox
"""

# Published rows are only needed for a while (debugging, replays); the audit trail is ticket_audit.
PRUNE_PUBLISHED = """
WITH gone AS (
    DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox WHERE published_at IS NOT NULL AND published_at < :before::timestamptz
        ORDER BY published_at LIMIT :limit)
    RETURNING 1
)
SELECT count(*) AS deleted FROM gone
"""

MARK_PROCESSED = """
INSERT INTO processed_events (consumer, event_id, processed_at)
VALUES (:consumer, :event_id::uuid, :now::timestamptz)
ON CONFLICT DO NOTHING
RETURNING event_id
"""

PRUNE_PROCESSED = """
WITH gone AS (DELETE FROM processed_events WHERE processed_at < :before::timestamptz RETURNING 1)
SELECT count(*) AS deleted FROM gone
"""

# -- audit export ---------------------------------------------------------------------------------

# A pending range left by a crashed run (at most one exists: audit_export_one_pending).
AUDIT_PENDING_BATCH = """
SELECT id, first_id, last_id, row_count, partition_date, object_key FROM audit_export_ledger WHERE state = 'pending'
"""

# Plan the next range and record it as pending, in one statement. The range is the longest run of
# ticket_audit rows after the watermark, in id order, that are all older than the cutoff, share
# one UTC date (the partition), and fit the count and byte budget. It stops at the first row that
# is not old enough: a range never skips a row, so the watermark never passes an unexported row.
AUDIT_PLAN_BATCH = """
WITH watermark AS (
    SELECT coalesce(max(last_id), 0) AS last_id FROM audit_export_ledger
),
candidates AS (
    SELECT a.id, a.occurred_at, octet_length(to_jsonb(a)::text) + 1 AS bytes
    FROM ticket_audit a, watermark w
    WHERE a.id > w.last_id
    ORDER BY a.id
    LIMIT :max_rows
),
first_row AS (
    SELECT id, (occurred_at AT TIME ZONE 'UTC')::date AS day FROM candidates ORDER BY id LIMIT 1
),
stop AS (
    -- the first row that may not go into this range
    SELECT min(c.id) AS id FROM candidates c, first_row f
    WHERE c.occurred_at >= :cutoff::timestamptz OR (c.occurred_at AT TIME ZONE 'UTC')::date <> f.day
),
eligible AS (
    SELECT c.id, sum(c.bytes) OVER (ORDER BY c.id) AS running_bytes
    FROM candidates c
    WHERE c.id < coalesce((SELECT id FROM stop), 9223372036854775807)
),
chosen AS (
    SELECT min(id) AS first_id, max(id) AS last_id, count(*) AS row_count
    FROM eligible WHERE running_bytes <= :max_bytes OR id = (SELECT min(id) FROM eligible)
),
planned AS (
    INSERT INTO audit_export_ledger (first_id, last_id, row_count, partition_date, object_key, state, created_at)
    SELECT ch.first_id, ch.last_id, ch.row_count, f.day,
           :prefix || 'dt=' || to_char(f.day, 'YYYY-MM-DD') || '/ticket_audit-'
               || lpad(ch.first_id::text, 19, '0') || '-' || lpad(ch.last_id::text, 19, '0') || '.jsonl',
           'pending', :now::timestamptz
    FROM chosen ch, first_row f
    WHERE ch.row_count > 0
    RETURNING id, first_id, last_id, row_count, partition_date, object_key
)
SELECT * FROM planned
"""

# The rows of one planned range, each as its JSON line (deterministic text: a rerun writes the
# same bytes). One row per audit row keeps every Data API row far under 64 KB.
AUDIT_RANGE_LINES = """
SELECT a.id, to_jsonb(a)::text AS line
FROM ticket_audit a
WHERE a.id BETWEEN :first_id AND :last_id
ORDER BY a.id
"""

# The object is written: the range is done, and (when asked) its rows leave the hot tier, but only
# if exactly the exported rows are still there (a guard against deleting a row never exported).
AUDIT_COMPLETE_BATCH = """
WITH in_range AS (
    SELECT count(*) AS n FROM ticket_audit WHERE id BETWEEN :first_id AND :last_id
),
deleted AS (
    DELETE FROM ticket_audit
    WHERE :delete_rows AND id BETWEEN :first_id AND :last_id
      AND (SELECT n FROM in_range) = :lines_written
    RETURNING 1
),
done AS (
    UPDATE audit_export_ledger SET state = 'done', exported_at = :now::timestamptz,
           deleted_rows = (SELECT count(*) FROM deleted)
    WHERE id = :batch_id AND state = 'pending'
    RETURNING deleted_rows
)
SELECT (SELECT count(*) FROM done) AS completed, (SELECT count(*) FROM deleted) AS deleted,
       (SELECT n FROM in_range) AS in_range
"""

AUDIT_WATERMARK = """
SELECT coalesce(max(last_id), 0) AS last_id, count(*) AS batches,
       coalesce(sum(row_count), 0) AS rows_exported
FROM audit_export_ledger WHERE state = 'done'
"""

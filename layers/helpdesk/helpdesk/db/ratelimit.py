"""Fixed-window rate-limit counters: one statement counts a hit in every bucket of a request and
returns each bucket's count; it also deletes a few expired windows (no separate cleanup job)."""

HIT = """
WITH cleanup AS (
    DELETE FROM rate_limits WHERE ctid IN (
        SELECT ctid FROM rate_limits WHERE window_start < :expired_before::timestamptz LIMIT 100)
),
hits AS (
    INSERT INTO rate_limits AS r (bucket, window_start, hits)
    SELECT b, :window_start::timestamptz, 1 FROM jsonb_array_elements_text(:buckets::jsonb) AS b
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
    RETURNING bucket, hits
)
SELECT bucket, hits FROM hits
"""

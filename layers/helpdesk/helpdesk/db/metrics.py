"""SQL for the operational metrics the sweep emits each minute (one statement per window, the outbox
backlog included)."""

# One row per (metric, dimension); first-response rows carry what the business-time walk needs.
METRICS_WINDOW = """
SELECT 'tickets_created' AS metric, channel AS dimension, count(*)::int AS n,
       NULL::timestamptz AS started_at, NULL::timestamptz AS met_at, NULL::boolean AS business, NULL::jsonb AS schedule
FROM tickets WHERE created_at >= :since::timestamptz AND created_at < :until::timestamptz
GROUP BY channel
UNION ALL
SELECT 'targets_met', kind, count(*)::int, NULL, NULL, NULL, NULL
FROM sla_targets
WHERE met_at >= :since::timestamptz AND met_at < :until::timestamptz AND state = 'met'
  AND breached_at IS NULL AND (due_at IS NULL OR met_at <= due_at)
GROUP BY kind
UNION ALL
(SELECT 'first_response', NULL, 1, started_at, met_at, business, schedule
 FROM sla_targets
 WHERE kind = 'first_response' AND met_at >= :since::timestamptz AND met_at < :until::timestamptz
 ORDER BY met_at LIMIT :limit)
UNION ALL
-- The outbox backlog, always two rows: events waiting for the relay (n; the oldest one's
-- occurred_at in started_at) and parked ones (never publishable). Only unpublished rows are read
-- (the partial index outbox_pending), not the published history kept for replays.
SELECT 'outbox_pending', NULL, (count(*) FILTER (WHERE dead_at IS NULL))::int,
       min(occurred_at) FILTER (WHERE dead_at IS NULL), NULL, NULL, NULL
FROM outbox WHERE published_at IS NULL
UNION ALL
SELECT 'outbox_parked', NULL, count(*)::int, NULL, NULL, NULL, NULL
FROM outbox WHERE published_at IS NULL AND dead_at IS NOT NULL
"""

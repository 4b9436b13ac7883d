-- Events: outbox relay leases and parking, consumer dedupe, agent notifications (preferences,
-- quiet hours, per-delivery dedupe), and the audit export ledger (hot tier -> S3 cold tier).

-- The relay claims pending rows with a lease (claimed_until) so two concurrent relays do not send
-- the same row; a row whose publish failed is retried after a backoff (claimed_until in the
-- future). A row that can never be published (it fails schema validation) is parked (dead_at)
-- with the reason, kept for inspection, and no longer blocks the relay.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dead_at timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error text;
CREATE INDEX IF NOT EXISTS outbox_relay ON outbox (seq) WHERE published_at IS NULL AND dead_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Consumers that must act once per event record it here in the same statement as their effect
-- (or before a side effect they cannot undo): INSERT ... ON CONFLICT DO NOTHING.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer      text NOT NULL CHECK (length(consumer) BETWEEN 1 AND 100),
    event_id      uuid NOT NULL,
    processed_at  timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_at ON processed_events (processed_at);

-- The agent's Slack user (DM target). IF NOT EXISTS: the Slack channel work may add it too.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS slack_user_id text;

-- Per-agent notification settings. No row = defaults (every notifiable event by email, and by
-- Slack when the agent has a slack_user_id; no quiet hours).
CREATE TABLE IF NOT EXISTS notification_preferences (
    agent_id     uuid PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    timezone     text NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
    -- {"ticket.assigned": ["email", "slack"], "sla.warning": []}: a type not listed uses the default.
    channels     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(channels) = 'object'),
    -- Local wall-clock quiet hours (may wrap midnight: 22:00-07:00); both or neither.
    quiet_start  time,
    quiet_end    time,
    -- defer: delivered when quiet hours end; drop: recorded as suppressed, never sent.
    quiet_mode   text NOT NULL DEFAULT 'defer' CHECK (quiet_mode IN ('defer', 'drop')),
    updated_at   timestamptz NOT NULL,
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- One row per (event, recipient, channel): the dedupe key for notifications, written BEFORE the
-- send as a claim with a short lease, then marked sent. At-least-once: only a crash between the
-- provider accepting the message and the mark can repeat it (after the lease expires).
CREATE TABLE IF NOT EXISTS notification_deliveries (
    event_id       uuid NOT NULL,
    agent_id       uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel        text NOT NULL CHECK (channel IN ('email', 'slack')),
    event_type     text NOT NULL,
    ticket_id      uuid,
    status         text NOT NULL CHECK (status IN ('sending', 'sent', 'deferred', 'suppressed', 'failed', 'rejected')),
    attempts       integer NOT NULL DEFAULT 0,
    claimed_until  timestamptz,
    deliver_after  timestamptz,
    -- What to send, rendered when the event was processed (a deferred delivery needs no event).
    message        jsonb NOT NULL,
    provider_id    text,
    last_error     text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    sent_at        timestamptz,
    PRIMARY KEY (event_id, agent_id, channel)
);
CREATE INDEX IF NOT EXISTS notification_deliveries_deferred ON notification_deliveries (deliver_after)
    WHERE status = 'deferred';
CREATE INDEX IF NOT EXISTS notification_deliveries_created ON notification_deliveries (created_at);

-- Audit export ledger: one row per exported id range [first_id, last_id] of ticket_audit, written
-- as 'pending' BEFORE the S3 object (whose key it fixes), then 'done'. The watermark is the
-- highest last_id; a rerun after a crash redoes a pending range with the same key (an overwrite
-- with the same bytes), so no row is lost or written twice.
CREATE TABLE IF NOT EXISTS audit_export_ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    first_id        bigint NOT NULL UNIQUE,
    last_id         bigint NOT NULL UNIQUE,
    row_count       integer NOT NULL CHECK (row_count > 0),
    partition_date  date NOT NULL,
    object_key      text NOT NULL UNIQUE,
    state           text NOT NULL CHECK (state IN ('pending', 'done')),
    deleted_rows    integer,
    created_at      timestamptz NOT NULL,
    exported_at     timestamptz,
    CHECK (last_id >= first_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_export_one_pending ON audit_export_ledger ((true)) WHERE state = 'pending';

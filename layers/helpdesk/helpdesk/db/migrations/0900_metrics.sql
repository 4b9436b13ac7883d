-- The sweep's per-minute metrics (tickets created by channel, SLA targets met, first response times)
-- read one minute of rows; these indexes keep that a range scan at 1,000,000 tickets.
CREATE INDEX IF NOT EXISTS tickets_created_at ON tickets (created_at);
CREATE INDEX IF NOT EXISTS sla_targets_met_at ON sla_targets (met_at) WHERE met_at IS NOT NULL;

-- SLA engine additions (helpdesk/sla). Core tables are extended, never redefined.

-- Business seconds to add to (or, negative, take from) a clock's remaining time at its next
-- recompute: a priority change on a running or paused clock moves the target by the difference
-- between the new and the old target, counted in the clock's own business time.
ALTER TABLE sla_targets ADD COLUMN IF NOT EXISTS adjust_seconds integer NOT NULL DEFAULT 0;

-- When the sweep escalated the ticket after a breach (team lead notified, escalation pool).
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS escalated_at timestamptz;

-- Reports select tickets created in a period.
CREATE INDEX IF NOT EXISTS tickets_created_at ON tickets (created_at);

-- Policies are matched in order.
CREATE INDEX IF NOT EXISTS sla_policies_order ON sla_policies (position, name) WHERE is_active;

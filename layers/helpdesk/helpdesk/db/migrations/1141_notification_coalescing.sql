-- Repeated notifications about one ticket (a customer writing 30 portal replies in a second) are
-- coalesced: within a short window after one was sent to an agent on a channel, the next ones of
-- the same type are recorded as 'coalesced' and not sent. The index finds that recent delivery.
ALTER TABLE notification_deliveries DROP CONSTRAINT IF EXISTS notification_deliveries_status_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_status_check
    CHECK (status IN ('sending', 'sent', 'deferred', 'suppressed', 'failed', 'rejected', 'coalesced'));
CREATE INDEX IF NOT EXISTS notification_deliveries_recent
    ON notification_deliveries (ticket_id, agent_id, channel, event_type, created_at)
    WHERE status IN ('sending', 'sent');

-- Coalescing (migration 1141) decided "was this agent sent a notification of this type about this
-- ticket on this channel within the window?" by reading notification_deliveries: two notifier
-- invocations claiming at the same moment did not see each other's uncommitted row and both sent.
-- The decision is now one row per (ticket, agent, channel, event type), the window the last sent
-- notification opened, claimed by INSERT ... ON CONFLICT DO UPDATE in the claim statement
-- (helpdesk.db.notify.CLAIM_DELIVERIES): a concurrent claim of the same key waits for the first to
-- commit and then sees its window, so exactly one of them sends.
CREATE TABLE notification_windows (
    ticket_id   uuid NOT NULL,
    agent_id    uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel     text NOT NULL,
    event_type  text NOT NULL,
    event_id    uuid NOT NULL,         -- the event whose notification opened the window
    opened_at   timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, agent_id, channel, event_type)
);
CREATE INDEX notification_windows_opened ON notification_windows (opened_at);

-- Windows open at deploy time carry over, so a burst under way is not notified twice.
INSERT INTO notification_windows (ticket_id, agent_id, channel, event_type, event_id, opened_at)
SELECT DISTINCT ON (ticket_id, agent_id, channel, event_type) ticket_id, agent_id, channel, event_type, event_id, created_at
FROM notification_deliveries
WHERE status IN ('sending', 'sent') AND ticket_id IS NOT NULL AND created_at > now() - interval '1 hour'
ORDER BY ticket_id, agent_id, channel, event_type, created_at DESC;

-- It served the read the windows replace.
DROP INDEX IF EXISTS notification_deliveries_recent;

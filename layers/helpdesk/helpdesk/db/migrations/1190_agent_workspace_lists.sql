-- The agent workspace's lists (issue 18).
--
-- Unread marks: when each agent last opened each ticket. A ticket is unread for an agent when its
-- last customer message is newer than that instant (or the agent never opened it). One row per
-- agent and ticket, only for tickets the agent opened; a view reads it by primary key per listed row.
CREATE TABLE IF NOT EXISTS agent_ticket_views (
    agent_id  uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    ticket_id uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    seen_at   timestamptz NOT NULL,
    PRIMARY KEY (agent_id, ticket_id)
);
CREATE INDEX IF NOT EXISTS agent_ticket_views_ticket ON agent_ticket_views (ticket_id);

-- Tag filter of the views and search: tickets.tags @> '["vip"]' uses this index.
CREATE INDEX IF NOT EXISTS tickets_tags ON tickets USING gin (tags jsonb_path_ops);

-- Search by requester: a name's words ('simple' config: names are not stemmed) and an email prefix.
CREATE INDEX IF NOT EXISTS customers_name_words ON customers USING gin (to_tsvector('simple', coalesce(name, '')));
CREATE INDEX IF NOT EXISTS customers_email_prefix ON customers (email text_pattern_ops);

-- The at-risk view walks running clocks by their warning instant (the same instant the sweep warns
-- at and the ticket page shows "At risk" from).
CREATE INDEX IF NOT EXISTS sla_targets_running_warn ON sla_targets (warn_at, ticket_id) WHERE state = 'running';

-- Sorting the all-tickets view: newest first, and most urgent then most recently updated.
CREATE INDEX IF NOT EXISTS tickets_created_keyset ON tickets (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tickets_priority_keyset ON tickets (priority_rank, updated_at DESC, id DESC);

-- The agent workspace's ticket page (issue 18): macros, and who is viewing or replying to a ticket.

-- Saved replies that may also set status, priority, tags and assignee. owner_agent_id NULL: shared
-- (every agent sees it; leads and admins manage it); otherwise personal to that agent.
CREATE TABLE macros (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    owner_agent_id   uuid REFERENCES agents(id),
    body             text CHECK (body IS NULL OR length(body) BETWEEN 1 AND 20000),
    visibility       text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    set_status       text CHECK (set_status IN ('in_progress', 'waiting_on_customer', 'resolved')),
    set_priority     text CHECK (set_priority IN ('low', 'normal', 'high', 'urgent')),
    add_tags         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(add_tags) = 'array'),
    remove_tags      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(remove_tags) = 'array'),
    assign_to_me     boolean NOT NULL DEFAULT false,
    assign_agent_id  uuid REFERENCES agents(id),
    created_by       uuid REFERENCES agents(id),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- a macro does something, and names at most one assignee
    CHECK (body IS NOT NULL OR set_status IS NOT NULL OR set_priority IS NOT NULL OR add_tags <> '[]'
           OR remove_tags <> '[]' OR assign_to_me OR assign_agent_id IS NOT NULL),
    CHECK (NOT (assign_to_me AND assign_agent_id IS NOT NULL))
);
-- Names are unique among the shared macros and among each agent's own.
CREATE UNIQUE INDEX macros_name ON macros (coalesce(owner_agent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));

-- A macro body's placeholders, filled for one ticket and agent: the one place they are defined
-- (helpdesk.tickets.macros.PLACEHOLDERS lists the same names; a test checks they agree).
CREATE FUNCTION macro_render(template text, requester_name text, requester_email text, ticket_number bigint,
                             agent_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(replace(replace(template,
        '{{requester.name}}', coalesce(nullif(btrim(requester_name), ''), split_part(requester_email, '@', 1), 'there')),
        '{{requester.first_name}}', coalesce(nullif(split_part(btrim(requester_name), ' ', 1), ''),
                                             split_part(requester_email, '@', 1), 'there')),
        '{{ticket.ref}}', 'TKT-' || ticket_number),
        '{{agent.name}}', coalesce(agent_name, 'Support'))
$$;

-- Presence: one row per agent and ticket, refreshed by the ticket page's heartbeat; a row older than
-- the presence window (helpdesk.tickets.presence.PRESENCE_SECONDS) means the agent has gone.
CREATE TABLE ticket_presence (
    ticket_id  uuid NOT NULL REFERENCES tickets(id),
    agent_id   uuid NOT NULL REFERENCES agents(id),
    activity   text NOT NULL CHECK (activity IN ('viewing', 'replying')),
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, agent_id)
);
CREATE INDEX ticket_presence_seen ON ticket_presence (seen_at);

-- The ticket page's related tickets: follow-ups of a ticket (parent, or flagged by threading).
CREATE INDEX tickets_parent ON tickets (parent_ticket_id) WHERE parent_ticket_id IS NOT NULL;
CREATE INDEX tickets_possible_followup ON tickets (possible_followup_of) WHERE possible_followup_of IS NOT NULL;

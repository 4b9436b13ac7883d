-- The ticket core: organisation (teams, agents, customers), tickets and their conversation,
-- assignments history, SLA targets, audit trail, outbox and idempotency keys.
-- Enumerations are text with CHECK constraints (not PG enums): adding a value is a plain
-- migration and Data API string parameters compare without casts.

CREATE TABLE schedules (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    document    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    email_address    text UNIQUE CHECK (email_address = lower(email_address)),
    schedule_id      uuid REFERENCES schedules(id),
    assignment_mode  text NOT NULL DEFAULT 'push' CHECK (assignment_mode IN ('push', 'round_robin', 'pull')),
    escalation_team_id uuid REFERENCES teams(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL UNIQUE CHECK (email = lower(email)),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role              text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'lead', 'admin')),
    skills            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(skills) = 'array'),
    capacity          integer NOT NULL DEFAULT 10 CHECK (capacity BETWEEN 0 AND 1000),
    -- Tickets in active statuses (assigned, in_progress, reopened) held by this agent; kept by a
    -- trigger so capacity checks are one indexed row, and concurrent pushes cannot overshoot.
    active_count      integer NOT NULL DEFAULT 0 CHECK (active_count >= 0),
    is_active         boolean NOT NULL DEFAULT true,
    last_assigned_at  timestamptz,
    ooo_start         timestamptz,
    ooo_end           timestamptz,
    ooo_delegate_id   uuid REFERENCES agents(id),
    preferences       jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ooo_end IS NULL OR ooo_start IS NULL OR ooo_end > ooo_start)
);

CREATE TABLE team_members (
    team_id   uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id  uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

CREATE TABLE customers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text UNIQUE CHECK (email = lower(email)),
    name           text,
    tier           text NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'premium', 'enterprise')),
    sla_policy_id  uuid,
    slack_user_id  text UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE ticket_number_seq;

CREATE TABLE tickets (
    id                  uuid PRIMARY KEY,
    number              bigint NOT NULL UNIQUE DEFAULT nextval('ticket_number_seq'),
    subject             text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    status              text NOT NULL DEFAULT 'new' CHECK (status IN (
                            'new', 'assigned', 'in_progress', 'waiting_on_customer', 'resolved',
                            'closed', 'reopened', 'spam', 'duplicate', 'merged')),
    priority            text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    priority_rank       smallint GENERATED ALWAYS AS (
                            CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END) STORED,
    channel             text NOT NULL CHECK (channel IN ('email', 'web', 'chat', 'slack', 'api')),
    requester_id        uuid NOT NULL REFERENCES customers(id),
    team_id             uuid REFERENCES teams(id),
    assignee_id         uuid REFERENCES agents(id),
    parent_ticket_id    uuid REFERENCES tickets(id),
    merged_into_id      uuid REFERENCES tickets(id),
    possible_followup_of uuid REFERENCES tickets(id),
    tags                jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    channel_thread_id   text,
    reopen_count        integer NOT NULL DEFAULT 0,
    first_response_at   timestamptz,
    resolved_at         timestamptz,
    closed_at           timestamptz,
    last_customer_message_at timestamptz,
    last_agent_message_at    timestamptz,
    message_count       integer NOT NULL DEFAULT 0,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((status = 'merged') = (merged_into_id IS NOT NULL))
);
-- "My open tickets": an agent's tickets in open statuses, most recently updated first.
CREATE INDEX tickets_assignee_open ON tickets (assignee_id, updated_at DESC)
    WHERE status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened');
-- The team queue: unassigned open tickets, priority then age.
CREATE INDEX tickets_team_queue ON tickets (team_id, priority_rank, created_at, id)
    WHERE assignee_id IS NULL AND status IN ('new', 'reopened');
CREATE INDEX tickets_team_status ON tickets (team_id, status, updated_at DESC);
CREATE INDEX tickets_requester ON tickets (requester_id, created_at DESC);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at DESC);
CREATE INDEX tickets_resolved_at ON tickets (resolved_at) WHERE status = 'resolved';
CREATE UNIQUE INDEX tickets_channel_thread ON tickets (channel, channel_thread_id) WHERE channel_thread_id IS NOT NULL;
CREATE INDEX tickets_merged_into ON tickets (merged_into_id) WHERE merged_into_id IS NOT NULL;

CREATE TABLE ticket_messages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A global, monotonic position: stable ordering and cursor pagination within a ticket.
    position            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    ticket_id           uuid NOT NULL REFERENCES tickets(id),
    author_type         text NOT NULL CHECK (author_type IN ('customer', 'agent', 'system')),
    author_customer_id  uuid REFERENCES customers(id),
    author_agent_id     uuid REFERENCES agents(id),
    visibility          text NOT NULL CHECK (visibility IN ('public', 'internal')),
    channel             text NOT NULL CHECK (channel IN ('email', 'web', 'chat', 'slack', 'api', 'system')),
    body                text NOT NULL CHECK (length(body) <= 100000),
    body_full           text,
    body_html           text,
    inbound_message_id  text UNIQUE,
    attachments         jsonb NOT NULL DEFAULT '[]',
    metadata            jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL,
    CHECK (author_type <> 'system' OR visibility = 'internal' OR channel = 'system'),
    CHECK (author_type <> 'agent' OR author_agent_id IS NOT NULL)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, position DESC);

-- Every id a mail in a ticket's thread is known by: inbound Message-IDs, the Message-ID we
-- generated for an outbound mail, and the id SES actually used. Threading looks up here.
CREATE TABLE email_message_ids (
    message_id  text PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets(id),
    ticket_message_id uuid REFERENCES ticket_messages(id),
    kind        text NOT NULL CHECK (kind IN ('inbound', 'generated', 'ses')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_message_ids_ticket ON email_message_ids (ticket_id);

CREATE TABLE ticket_participants (
    ticket_id  uuid NOT NULL REFERENCES tickets(id),
    email      text NOT NULL CHECK (email = lower(email)),
    PRIMARY KEY (ticket_id, email)
);

CREATE TABLE attachments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ticket_id    uuid NOT NULL REFERENCES tickets(id),
    message_id   uuid REFERENCES ticket_messages(id),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    s3_key       text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    content_id   text,
    inline       boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

CREATE TABLE assignments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id    uuid NOT NULL REFERENCES tickets(id),
    agent_id     uuid REFERENCES agents(id),
    team_id      uuid REFERENCES teams(id),
    assigned_by  uuid REFERENCES agents(id),
    reason       text NOT NULL CHECK (reason IN ('manual', 'pushed', 'pulled', 'round_robin', 'vacation_handover',
                                                 'reopened', 'unassigned', 'backfill', 'escalation', 'routed')),
    created_at   timestamptz NOT NULL
);
CREATE INDEX assignments_ticket ON assignments (ticket_id, id);

CREATE TABLE sla_policies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    position    integer NOT NULL DEFAULT 100,
    -- Match conditions; NULL matches anything.
    priority    text CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    tier        text CHECK (tier IN ('standard', 'premium', 'enterprise')),
    team_id     uuid REFERENCES teams(id),
    channel     text,
    -- {"first_response": {"seconds": 3600, "business": true}, "next_reply": ..., "resolution": ..., "reopen": ...}
    targets     jsonb NOT NULL,
    schedule_id uuid REFERENCES schedules(id),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE customers ADD FOREIGN KEY (sla_policy_id) REFERENCES sla_policies(id);

-- One narrow row per running clock; partial indexes keep the sweep's scans small.
CREATE TABLE sla_targets (
    ticket_id       uuid NOT NULL REFERENCES tickets(id),
    kind            text NOT NULL CHECK (kind IN ('first_response', 'next_reply', 'resolution')),
    policy_id       uuid REFERENCES sla_policies(id),
    target_seconds  integer NOT NULL CHECK (target_seconds > 0),
    business        boolean NOT NULL DEFAULT true,
    schedule        jsonb,
    state           text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'met', 'cancelled')),
    started_at      timestamptz NOT NULL,
    due_at          timestamptz,
    warn_at         timestamptz,
    paused_at       timestamptz,
    pause_reason    text,
    remaining_seconds integer,
    met_at          timestamptz,
    warned_at       timestamptz,
    breached_at     timestamptz,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
CREATE INDEX sla_targets_warn_due ON sla_targets (warn_at) WHERE state = 'running' AND warned_at IS NULL;
CREATE INDEX sla_targets_breach_due ON sla_targets (due_at) WHERE state = 'running' AND breached_at IS NULL;

CREATE TABLE ticket_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    ticket_id    uuid REFERENCES tickets(id),
    event_type   text NOT NULL,
    actor_type   text NOT NULL CHECK (actor_type IN ('customer', 'agent', 'system')),
    actor_id     uuid,
    from_status  text,
    to_status    text,
    data         jsonb NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX ticket_audit_ticket ON ticket_audit (ticket_id, id);
CREATE INDEX ticket_audit_occurred ON ticket_audit (occurred_at, id);

-- Transactional outbox: written in the same statement as the change, published after commit.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL DEFAULT 1,
    ticket_id       uuid,
    payload         jsonb NOT NULL,
    occurred_at     timestamptz NOT NULL,
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  text NOT NULL,
    ticket_id     uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Keeps agents.active_count equal to the number of their tickets in active statuses.
CREATE FUNCTION tickets_track_agent_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_active boolean := TG_OP = 'UPDATE' AND OLD.assignee_id IS NOT NULL
                          AND OLD.status IN ('assigned', 'in_progress', 'reopened');
    is_active  boolean := NEW.assignee_id IS NOT NULL AND NEW.status IN ('assigned', 'in_progress', 'reopened');
BEGIN
    IF was_active AND (NOT is_active OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id) THEN
        UPDATE agents SET active_count = active_count - 1 WHERE id = OLD.assignee_id;
    END IF;
    IF is_active AND (NOT was_active OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id) THEN
        UPDATE agents SET active_count = active_count + 1 WHERE id = NEW.assignee_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_agent_load AFTER INSERT OR UPDATE OF status, assignee_id ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_track_agent_load();

-- A clock whose deadline must be (re)computed in business time by the application: set at
-- creation and on resume; the command's follow-up statement (or the sweep) fills due_at.
ALTER TABLE sla_targets ADD COLUMN recompute_from timestamptz;
CREATE INDEX sla_targets_recompute ON sla_targets (recompute_from) WHERE recompute_from IS NOT NULL;

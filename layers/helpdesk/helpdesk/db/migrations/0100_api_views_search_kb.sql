-- The API's read side: indexes for the agent views (keyset pagination at 150,000 open tickets),
-- full-text search over ticket subjects and message bodies, the knowledge base, and the
-- database-backed rate limiter of the public web form.

-- Views. Each index matches one view's filter and its ORDER BY (with id as the tie-breaker the
-- cursor carries), so a page is an index range scan whatever the table size.
CREATE INDEX IF NOT EXISTS tickets_mine_keyset ON tickets (assignee_id, updated_at DESC, id DESC)
    WHERE status IN ('assigned', 'in_progress', 'waiting_on_customer', 'reopened');
CREATE INDEX IF NOT EXISTS tickets_all_keyset ON tickets (updated_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tickets_status_keyset ON tickets (status, updated_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tickets_team_keyset ON tickets (team_id, updated_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tickets_assignee_keyset ON tickets (assignee_id, updated_at DESC, id DESC);
-- "At risk": running clocks by deadline (breached ones included), joined to their tickets.
CREATE INDEX IF NOT EXISTS sla_targets_running_due ON sla_targets (due_at, ticket_id) WHERE state = 'running';

-- Full-text search. 'english' stems ("refunds" finds "refund"); generated columns keep the
-- vectors in step with the text without triggers or application code.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, subject)) STORED;
CREATE INDEX IF NOT EXISTS tickets_search_tsv ON tickets USING gin (search_tsv);
ALTER TABLE ticket_messages ADD COLUMN IF NOT EXISTS search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, left(body, 20000))) STORED;
CREATE INDEX IF NOT EXISTS ticket_messages_search_tsv ON ticket_messages USING gin (search_tsv);

-- Knowledge base articles (suggested to agents and customers by subject and body).
CREATE TABLE IF NOT EXISTS kb_articles (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    tags          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    is_published  boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    -- Title weighs more than body when ranking suggestions.
    search_tsv    tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('english'::regconfig, title), 'A')
                      || setweight(to_tsvector('english'::regconfig, left(body, 20000)), 'B')) STORED
);
CREATE INDEX IF NOT EXISTS kb_articles_search_tsv ON kb_articles USING gin (search_tsv) WHERE is_published;

-- Fixed-window counters for the public form (per sender, per IP). One upsert per request;
-- old windows are deleted opportunistically by the same statement.
CREATE TABLE IF NOT EXISTS rate_limits (
    bucket        text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 400),
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX IF NOT EXISTS rate_limits_window ON rate_limits (window_start);

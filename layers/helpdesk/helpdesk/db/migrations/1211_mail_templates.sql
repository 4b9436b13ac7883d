-- Mail templates per team (issue 19, item 8): what the acknowledgement, the footer of every reply, the
-- solved mail and its satisfaction survey say, in plain text and HTML, with {{placeholders}}
-- (helpdesk.outbound.templates renders them and holds the defaults used while a team has none).
CREATE TABLE IF NOT EXISTS mail_templates (
    team_id     uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('acknowledgement', 'reply_footer', 'solved', 'csat')),
    subject     text CHECK (length(subject) <= 300),
    body_text   text NOT NULL CHECK (length(body_text) BETWEEN 1 AND 20000),
    body_html   text CHECK (length(body_html) <= 50000),
    updated_at  timestamptz NOT NULL,
    updated_by  uuid REFERENCES agents(id),
    PRIMARY KEY (team_id, kind)
);

-- An agent's signature, appended to their public replies (plain text; the HTML part escapes it).
CREATE TABLE IF NOT EXISTS agent_signatures (
    agent_id    uuid PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    body_text   text NOT NULL CHECK (length(body_text) BETWEEN 1 AND 2000),
    updated_at  timestamptz NOT NULL
);

-- Email channel: quarantined/failed inbound mail, outbound send state, attachment rows from the
-- message's attachments list, and the index the per-sender burst limit counts with.

-- Inbound mail that did not become a ticket message: spam/virus verdict FAIL, a sender over the
-- burst limit, an automatic mail referring to no ticket, or mail that could not be parsed at all.
-- The raw bytes stay in S3 (raw_key); admins list these rows. message_id is unique, so a
-- redelivered mail adds nothing.
CREATE TABLE IF NOT EXISTS email_quarantine (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id    text NOT NULL UNIQUE,
    reason        text NOT NULL CHECK (reason IN ('spam', 'virus', 'rate_limited', 'auto_reply_unmatched', 'unparseable', 'error')),
    detail        text,
    from_email    text,
    subject       text,
    raw_key       text,
    raw_bucket    text,
    content_sha256 text,
    metadata      jsonb NOT NULL DEFAULT '{}',
    released_at   timestamptz,
    created_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS email_quarantine_open ON email_quarantine (created_at DESC) WHERE released_at IS NULL;
CREATE INDEX IF NOT EXISTS email_quarantine_sender ON email_quarantine (from_email, created_at DESC);

-- One row per public agent message sent by email: 'sending' is written before SES is called and
-- 'sent' (with the SES MessageId) after, so a retried event never mails the customer twice.
CREATE TABLE IF NOT EXISTS email_outbound (
    ticket_message_id    uuid PRIMARY KEY REFERENCES ticket_messages(id),
    ticket_id            uuid NOT NULL REFERENCES tickets(id),
    event_id             uuid NOT NULL,
    state                text NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'skipped')),
    generated_message_id text NOT NULL UNIQUE,
    ses_message_id       text,
    recipient            text,
    attempts             integer NOT NULL DEFAULT 1,
    last_error           text,
    claimed_at           timestamptz NOT NULL,
    sent_at              timestamptz
);

-- The burst limit counts a sender's recent email messages.
CREATE INDEX IF NOT EXISTS ticket_messages_author_customer_created ON ticket_messages (author_customer_id, created_at DESC)
    WHERE author_customer_id IS NOT NULL;

-- The intake writes a message's attachments as a JSON list on the message (the ticket commands'
-- `attachments` parameter); this trigger turns the email channel's entries into rows of
-- `attachments` in the same statement, so storing them costs no extra Data API call.
CREATE OR REPLACE FUNCTION email_message_attachment_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.channel = 'email' AND jsonb_typeof(NEW.attachments) = 'array' AND jsonb_array_length(NEW.attachments) > 0 THEN
        INSERT INTO attachments (ticket_id, message_id, sha256, s3_key, filename, content_type, size, content_id, inline, created_at)
        SELECT NEW.ticket_id, NEW.id, a ->> 'sha256', a ->> 's3_key', coalesce(a ->> 'filename', 'attachment'),
               coalesce(a ->> 'content_type', 'application/octet-stream'), coalesce((a ->> 'size')::bigint, 0),
               a ->> 'content_id', coalesce((a ->> 'inline')::boolean, false), NEW.created_at
        FROM jsonb_array_elements(NEW.attachments) a
        WHERE a ->> 'sha256' ~ '^[0-9a-f]{64}$' AND a ->> 's3_key' IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS ticket_messages_email_attachments ON ticket_messages;
CREATE TRIGGER ticket_messages_email_attachments AFTER INSERT ON ticket_messages
    FOR EACH ROW EXECUTE FUNCTION email_message_attachment_rows();

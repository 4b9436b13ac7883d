-- Channels: Slack (connected support channels, request-signature replay guard, outbound thread
-- replies) and web chat (session end + transcript claim). A chat session IS a ticket with channel
-- 'chat' and channel_thread_id = the session id; a Slack conversation is a ticket with channel
-- 'slack' and channel_thread_id = '<channel>:<thread_ts>' (tickets_channel_thread keeps both unique).

-- Slack channels whose top-level messages open tickets (others are ignored).
CREATE TABLE IF NOT EXISTS slack_channels (
    channel_id    text PRIMARY KEY CHECK (channel_id ~ '^[A-Z0-9]{2,30}$'),
    name          text,
    team_id       uuid REFERENCES teams(id) ON DELETE SET NULL,
    connected_at  timestamptz NOT NULL
);

-- Signatures of accepted Slack requests for the 5-minute window: the same signed request presented
-- again is a replay (Slack's own retries carry a new timestamp and so a new signature).
CREATE TABLE IF NOT EXISTS slack_request_signatures (
    signature  text PRIMARY KEY,
    seen_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS slack_request_signatures_seen ON slack_request_signatures (seen_at);

-- One row per public agent reply posted to a Slack thread: exactly once toward Slack (claim, then record).
CREATE TABLE IF NOT EXISTS slack_outbound (
    message_id  uuid PRIMARY KEY REFERENCES ticket_messages(id) ON DELETE CASCADE,
    state       text NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    claimed_at  timestamptz NOT NULL,
    slack_ts    text,
    error       text
);

-- A chat session that the customer ended; the row is the claim of the one transcript mail.
CREATE TABLE IF NOT EXISTS chat_sessions_ended (
    session_id        uuid PRIMARY KEY,
    ticket_id         uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    ended_at          timestamptz NOT NULL,
    transcript_state  text NOT NULL CHECK (transcript_state IN ('sending', 'sent', 'failed', 'not_requested')),
    transcript_error  text
);

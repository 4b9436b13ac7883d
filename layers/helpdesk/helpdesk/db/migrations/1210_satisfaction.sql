-- The customer's side of a resolve (issue 19, items 5 and 6).
--
-- One survey offer per resolve: its id is the id of the ticket.status_changed event that resolved the
-- ticket (the solved mail's rating links carry it), so a redelivered event offers nothing twice and a
-- link from an earlier resolve cannot rate a later one. The team and agent are those who solved it:
-- the report's "score by team and agent". A portal rating with no mailed offer (a chat ticket) makes
-- its own offer with a random id.
CREATE TABLE IF NOT EXISTS ticket_satisfaction (
    offer_id    uuid PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY,  -- insertion order: the latest of offers made the same instant
    ticket_id   uuid NOT NULL REFERENCES tickets(id),
    offered_at  timestamptz NOT NULL,
    team_id     uuid REFERENCES teams(id),
    agent_id    uuid REFERENCES agents(id),
    rating      text CHECK (rating IN ('good', 'bad')),
    comment     text CHECK (length(comment) <= 5000),
    rated_at    timestamptz,
    CHECK ((rating IS NULL) = (rated_at IS NULL))
);
CREATE INDEX IF NOT EXISTS ticket_satisfaction_ticket ON ticket_satisfaction (ticket_id, offered_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS ticket_satisfaction_offered ON ticket_satisfaction (offered_at);

-- Mail to the customer that no message of the conversation stands for (the "solved" mail, the link to
-- all of a customer's requests): its send state, keyed by the event that asked for it, so redelivery
-- never sends it twice (email_outbound keeps the same state for replies and acknowledgements, keyed by
-- their message).
CREATE TABLE IF NOT EXISTS email_notices (
    event_id             uuid PRIMARY KEY,
    ticket_id            uuid NOT NULL REFERENCES tickets(id),
    kind                 text NOT NULL CHECK (kind IN ('solved', 'requests_link')),
    state                text NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'skipped')),
    generated_message_id text NOT NULL UNIQUE,
    ses_message_id       text,
    recipient            text,
    attempts             integer NOT NULL DEFAULT 1,
    last_error           text,
    claimed_at           timestamptz NOT NULL,
    sent_at              timestamptz
);
CREATE INDEX IF NOT EXISTS email_notices_ticket ON email_notices (ticket_id);

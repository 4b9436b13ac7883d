-- Acknowledgements of new email tickets share the outbound send-state table with agent replies.
ALTER TABLE email_outbound ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply', 'ack'));
-- The per-customer acknowledgement rate limit counts a recipient's recent acks.
CREATE INDEX IF NOT EXISTS email_outbound_ack_recipient ON email_outbound (recipient, claimed_at DESC) WHERE kind = 'ack';

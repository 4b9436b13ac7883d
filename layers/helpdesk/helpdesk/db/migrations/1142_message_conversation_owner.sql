-- A merge of tickets with different requesters (an agent's explicit choice) moves customer A's
-- conversation into customer B's ticket. Each moved message remembers whose conversation it was, so
-- each customer's portal link keeps showing only their own conversation. NULL: the ticket's requester.
ALTER TABLE ticket_messages ADD COLUMN IF NOT EXISTS conversation_customer_id uuid REFERENCES customers(id);

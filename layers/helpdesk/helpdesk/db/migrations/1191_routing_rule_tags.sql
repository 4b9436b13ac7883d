-- A routing rule may add tags to the tickets it routes (issue 18): the tags are on the ticket from its
-- create statement, so skill routing (routing_pick_agent reads the ticket's tags) works for every channel.
ALTER TABLE routing_rules ADD COLUMN IF NOT EXISTS add_tags jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(add_tags) = 'array');

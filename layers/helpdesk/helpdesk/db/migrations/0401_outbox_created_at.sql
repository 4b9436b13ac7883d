-- The relay's grace period, leases and backoff run on the database's clock, not the application's:
-- relays in different functions agree on one time source, and a dev clock moved forward (local
-- stack) or a skewed Lambda cannot hide a row from the relay or release a lease early.
-- now() is stable, so existing rows get the migration time without a table rewrite.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();

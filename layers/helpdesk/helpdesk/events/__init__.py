"""Events: the envelope written to the outbox, and publishing after commit."""

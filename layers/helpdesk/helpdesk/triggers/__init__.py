"""Triggers: business rules an admin writes (on an event, when conditions hold, do actions), run after
the outbox by the notifier. models: the definitions as validated JSON; evaluate: the pure evaluator;
context: what one evaluation reads; engine: carrying out a plan once per event, loops stopped;
deliver: mail and Slack; store: the admin's triggers, the engine's copy of them, the dry run."""

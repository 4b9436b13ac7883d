"""Tickets: the state machine and the commands (create, add message, transition, assign, merge)."""

"""Routing unit tests: pure matching, no database."""

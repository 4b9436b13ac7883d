"""Publishing outbox rows after the command committed. A failure here loses nothing: the rows stay
pending and the sweep's relay publishes them later."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Publisher(Protocol):
    def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Publish the events; return the ids that were accepted downstream."""
        ...


class DeferredPublisher:
    """Publishes nothing inline: every event waits for the relay (tests, batch jobs)."""

    def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        return []


class RecordingPublisher:
    """Keeps what it was given; for tests."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        self.published.extend(events)
        return [str(e["id"]) for e in events]

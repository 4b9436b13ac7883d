"""Trigger engine fixtures: moto SES, the Slack stub (tests/integration/conftest.py), an engine whose
published events are queued like the notify queue would deliver them (`run` drains that queue)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from helpdesk.auth.signing import Keyring
from helpdesk.delivery.slack import SlackApi
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.events.schemas import Event
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from helpdesk.triggers.deliver import TriggerDelivery
from helpdesk.triggers.engine import TriggerEngine
from helpdesk.triggers.store import Triggers, invalidate
from tests.factories import FACTORY

REGION = "us-east-1"
DOMAIN = "example.com"
KEYS = Keyring.single("trigger-test-signing-key-0123456789")


@pytest.fixture
def ses():
    with mock_aws():
        client = boto3.client("ses", region_name=REGION)
        client.verify_domain_identity(Domain=DOMAIN)
        yield client


def sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@dataclass
class World:
    db: Any
    clock: Any
    engine: TriggerEngine
    published: RecordingPublisher
    commands: TicketCommands  # what agents and customers do (their events are published to `published` too)
    rules: Triggers
    handled: list[Any] = field(default_factory=list)

    def trigger(self, **doc: Any) -> uuid.UUID:
        doc.setdefault("name", f"trigger {uuid.uuid4().hex[:6]}")
        return self.rules.create(doc, by=FACTORY).id

    def ticket(self, **over: Any):
        data = {"channel": "email", "subject": "Printer on fire", "body": "It is really on fire.",
                "requester_email": "carol@customer.test", **over}
        return self.commands.create_ticket(data).ticket

    def run(self, limit: int = 50) -> list[Any]:
        """Deliver every published event to the engine (as the notify queue would), including the events
        the triggers' own actions publish, until none is left. Returns the outcomes."""
        outcomes = []
        while self.published.published:
            row = self.published.published.pop(0)
            outcomes.append(self.engine.handle(Event.from_outbox_row(row)))
            self.handled.append(row)
            assert len(self.handled) <= limit, "the trigger chain did not stop"
        return outcomes

    def audit(self, ticket_id: Any, event_type: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT event_type, actor_type, actor_id, data FROM ticket_audit "
                             "WHERE ticket_id = :t::uuid ORDER BY id", {"t": ticket_id})
        return [r for r in rows if event_type is None or r["event_type"] == event_type]


@pytest.fixture
def world(db, clock, ses, slack_stub) -> World:
    invalidate()
    published = RecordingPublisher()
    delivery = TriggerDelivery(ses_client=ses, clock=clock, support_domain=DOMAIN, signing_keys=KEYS,
                               web_base_url="http://127.0.0.1:8080", slack=SlackApi(lambda: "xoxb-test", base_url=slack_stub.url))
    engine = TriggerEngine(db, clock, delivery, publisher=published, web_base_url="http://127.0.0.1:8080")
    yield World(db, clock, engine, published, TicketCommands(db, clock, published), Triggers(db, clock))
    invalidate()


AGENT = Actor(type="agent")

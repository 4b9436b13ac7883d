"""The push consumer's database work (helpdesk.push.relay): at most one Data API call per batch."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from helpdesk.events.schemas import Event
from helpdesk.push.channels import Channel
from helpdesk.push.relay import MAX_CALLS_PER_BATCH, push_events

AT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


class Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[Channel, dict]] = []

    def publish(self, deliveries) -> int:
        self.sent.extend(deliveries)
        return len(deliveries)


def assigned(agent_id, team_id) -> Event:
    return Event.model_validate({"id": uuid.uuid4(), "type": "ticket.assigned", "ticket_id": uuid.uuid4(), "occurred_at": AT,
                                 "payload": {"agent_id": agent_id, "team_id": team_id, "reason": "manual", "number": 1}})


def test_agents_are_reached_by_their_sign_in_identity_in_one_call(db, factories):
    team = factories.team()
    signed_in = factories.agent("signedin", teams=[team])
    never = factories.agent("neversignedin", teams=[team])
    sub = f"cognito-{uuid.uuid4()}"
    db.execute("UPDATE agents SET identity_sub = :sub WHERE id = :id::uuid", {"sub": sub, "id": str(signed_in.id)})
    publisher = Recording()
    before = db.stats.calls
    result = push_events(db, publisher, [assigned(signed_in.id, team), assigned(never.id, team), assigned(uuid.uuid4(), team)])
    assert db.stats.calls - before == MAX_CALLS_PER_BATCH == 1
    own = [c.path for c, _ in publisher.sent if c.namespace == "agents"]
    assert own == [f"/agents/{sub}"]
    assert result.events == 3 and result.messages == len(publisher.sent) == 3 * 2 + 1


def test_a_batch_naming_no_agent_and_no_customer_costs_no_call(db):
    created = Event.model_validate({"id": uuid.uuid4(), "type": "ticket.created", "ticket_id": uuid.uuid4(), "occurred_at": AT,
                                    "payload": {"number": 1, "channel": "email", "subject": "s", "priority": "normal",
                                                "message_id": uuid.uuid4()}})
    before = db.stats.calls
    push_events(db, Recording(), [created])
    assert db.stats.calls == before

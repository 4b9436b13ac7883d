"""A routing rule's add_tags reach the ticket from its create statement on every channel (API, web
form, chat, and email in tests/integration/email/test_intake.py), so skill routing picks the agent
who holds the added tag's skill whichever way the customer wrote."""
from __future__ import annotations

import pytest

from helpdesk.routing.rules import RoutingRules
from tests.factories import FACTORY

MESSAGE = "Hola, mi pedido no ha llegado"


@pytest.fixture
def spanish_desk(db, clock, factories):
    """A push team with a generalist and a Spanish speaker, and a rule tagging Spanish messages."""
    team = factories.team("desk", mode="push", is_default=True)
    factories.agent("generalist", teams=[team])
    speaker = factories.agent("speaker", teams=[team], skills=["spanish"])
    RoutingRules(db, clock).create({"name": "spanish", "team_id": str(team), "conditions": {"keywords": ["hola"]},
                                    "add_tags": ["Spanish", "language"]}, by=FACTORY)
    return speaker.id


def open_by(channel: str, api, factories, body: str) -> dict:
    if channel == "api":
        agent = factories.agent("caller", domain="agents.example.org")
        answer = api.as_claims(agent.email).post("/api/v1/tickets", {
            "subject": "Pedido", "body": body, "requester_email": "ana@example.org", "tags": ["order"]})
        assert answer.status == 201, answer.body
        return {"n": answer.body["number"]}
    if channel == "web":
        answer = api.post("/api/v1/public/tickets", {"requester_email": "ana@example.org", "subject": "Pedido",
                                                     "body": body}, claims=None)
    else:
        answer = api.post("/api/v1/public/chat/sessions", {"name": "Ana", "message": body}, claims=None,
                          source_ip="203.0.113.9")
    assert answer.status in (201, 202), answer.body
    return {"n": int(answer.body["ref"].split("-")[1])}


@pytest.mark.parametrize("channel", ["api", "web", "chat"])
def test_a_rule_tags_the_ticket_and_skill_routing_follows(channel, api, db, factories, spanish_desk):
    opened = open_by(channel, api, factories, MESSAGE)
    ticket = db.query_one("SELECT tags, assignee_id, channel FROM tickets WHERE number = :n", opened)
    assert ticket["channel"] == channel
    assert {"spanish", "language"} <= set(ticket["tags"])
    if channel == "api":
        assert ticket["tags"][0] == "order"  # the ticket's own tags come first
    assert ticket["assignee_id"] == str(spanish_desk)


@pytest.mark.parametrize("channel", ["web", "chat"])
def test_a_message_the_rule_does_not_match_gets_no_tag(channel, api, db, factories, spanish_desk):
    opened = open_by(channel, api, factories, "My parcel never arrived")
    assert db.query_one("SELECT tags FROM tickets WHERE number = :n", opened)["tags"] == []

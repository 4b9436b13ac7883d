"""SnapStart priming (functions/api/app.py prime): what the snapshot carries so that a restored
environment's first request costs about what a warm one does, with no connection in the snapshot."""
from __future__ import annotations

from helpdesk.snapstart import build_deferred_models, unbuilt_deferred_models


def test_priming_builds_the_deferred_models_and_makes_no_database_call(api, db):
    from functions.api.app import prime
    from functions.api.handler import app

    before = db.stats.calls
    prime(app)
    assert db.stats.calls == before, "a snapshot must not carry a connection: priming makes no Data API call"
    assert unbuilt_deferred_models() == []
    # Known deferred models, checked directly (not only by the walk priming itself uses).
    from helpdesk.tickets.models import NewTicket
    from helpdesk.triggers.models import TriggerIn
    assert {type(m.__pydantic_validator__).__name__ for m in (NewTicket, TriggerIn)} == {"SchemaValidator"}
    assert build_deferred_models() == 0  # nothing left to build a second time


def test_the_api_still_answers_after_priming(api, agent):
    from functions.api.app import prime
    from functions.api.handler import app

    prime(app)
    client, _ = agent
    assert client.get("/api/v1/tickets", query={"view": "mine"}).status == 200

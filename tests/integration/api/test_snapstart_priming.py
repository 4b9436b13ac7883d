"""SnapStart priming (functions/api/app.py prime): what the snapshot carries so that a restored
environment's first request costs about what a warm one does, with no connection in the snapshot."""
from __future__ import annotations

from pydantic import BaseModel

from helpdesk.snapstart import build_deferred_models


def _deferred_models_left() -> list[str]:
    left, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        # Models declared with defer_build (others may be incomplete for their own reasons, e.g. the
        # OpenAPI document's models with forward references, built when the document is).
        if model.model_config.get("defer_build") and type(model.__pydantic_validator__).__name__ == "MockValSer":
            left.append(model.__qualname__)
    return left


def test_priming_builds_the_deferred_models_and_makes_no_database_call(api, db):
    from functions.api.app import prime
    from functions.api.handler import app

    before = db.stats.calls
    prime(app)
    assert db.stats.calls == before, "a snapshot must not carry a connection: priming makes no Data API call"
    assert _deferred_models_left() == []
    assert build_deferred_models() == 0  # nothing left to build a second time


def test_the_api_still_answers_after_priming(api, agent):
    from functions.api.app import prime
    from functions.api.handler import app

    prime(app)
    client, _ = agent
    assert client.get("/api/v1/tickets", query={"view": "mine"}).status == 200

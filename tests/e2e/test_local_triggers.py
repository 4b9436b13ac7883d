"""Triggers on the local stack: an admin's trigger fires through the real path (the ticket's event
goes through SNS and the notify queue to the notifier function, which runs the triggers), never on
the request that created the ticket."""
from __future__ import annotations

import time
import uuid


def _wait_for(predicate, timeout: float = 30.0, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def test_a_trigger_fires_after_the_outbox_through_the_notifier(http, tokens, require_functions):
    require_functions("api", "notifier")
    token = tokens["admin@example.com"]
    marker = f"zebra{uuid.uuid4().hex[:8]}"  # only this test's ticket matches
    created = http.post("/api/v1/triggers", {
        "name": f"e2e {marker}", "events": ["ticket_created"],
        "conditions": {"all": [{"field": "subject", "op": "contains_any", "value": [marker]}]},
        "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": [marker]}]}, token=token)
    assert created.status == 201, created.body
    trigger = created.json()
    try:
        ticket = http.post("/api/v1/tickets", {"subject": f"Outage {marker}", "body": "All down.",
                                               "requester_email": "trigger-e2e@customer.test"}, token=token)
        assert ticket.status == 201, ticket.body
        # The create's own answer is untouched: the trigger runs after the outbox.
        assert ticket.json()["priority"] == "normal" and ticket.json()["tags"] == []
        ticket_id = ticket.json()["id"]

        def fired():
            doc = http.get(f"/api/v1/tickets/{ticket_id}", token=token).json()
            return doc if doc["priority"] == "urgent" and doc["tags"] == [marker] else None

        assert _wait_for(fired), "the trigger did not fire through the notify queue"
        firings = http.get(f"/api/v1/triggers/{trigger['id']}/firings", token=token).json()["items"]
        assert [(f["state"], f["depth"]) for f in firings] == [("done", 0)]
    finally:
        assert http.request("DELETE", f"/api/v1/triggers/{trigger['id']}", token=token).status == 204

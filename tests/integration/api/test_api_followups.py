"""Follow-up routes: ticket priority (SLA clocks re-timed), the signed-in agent's notification
preferences, and team changes reaching routing at once."""
from __future__ import annotations

import uuid
from datetime import timedelta

H = 3600


def _clocks(db, ticket_id: str) -> dict[str, dict]:
    rows = db.query("SELECT kind, due_at, policy_id::text AS policy_id FROM sla_targets WHERE ticket_id = :id::uuid",
                    {"id": ticket_id})
    return {r["kind"]: r for r in rows}


def test_priority_change_retimes_sla_and_is_audited(admin, create, db, clock):
    root, _ = admin
    for name, priority, seconds in (("normal", "normal", 8 * H), ("urgent", "urgent", H)):
        answer = root.post("/api/v1/sla-policies", {"name": name, "priority": priority,
                                                    "targets": {"first_response": {"seconds": seconds, "business": False}}})
        assert answer.status == 201, answer.body
    ticket = create(root)
    before = _clocks(db, ticket["id"])["first_response"]
    assert before["due_at"] == clock.now() + timedelta(hours=8)

    changed = root.post(f"/api/v1/tickets/{ticket['ref']}/priority", {"priority": "urgent", "reason": "VIP"})
    assert changed.status == 200, changed.body
    assert changed.body["priority"] == "urgent" and changed.body["id"] == ticket["id"]
    after = _clocks(db, ticket["id"])["first_response"]
    assert after["due_at"] == clock.now() + timedelta(hours=1)
    audit = db.query("SELECT event_type FROM ticket_audit WHERE ticket_id = :id::uuid", {"id": ticket["id"]})
    assert "ticket.priority_changed" in {r["event_type"] for r in audit}
    assert root.get(f"/api/v1/tickets/{ticket['id']}").body["priority"] == "urgent"


def test_priority_errors(agent, create, db):
    client, _ = agent
    ticket = create(client)
    unknown = client.post(f"/api/v1/tickets/{ticket['id']}/priority", {"priority": "critical"})
    assert unknown.status == 422 and unknown.content_type == "application/problem+json"
    assert "critical" in unknown.body["detail"] and "low, normal, high, urgent" in unknown.body["detail"]
    assert client.post(f"/api/v1/tickets/{ticket['id']}/priority", {"priority": "high", "extra": 1}).status == 422
    assert client.post(f"/api/v1/tickets/{ticket['id']}/priority", {"priority": "high", "reason": "x" * 1001}).status == 422
    assert db.query_one("SELECT priority FROM tickets WHERE id = :id::uuid", {"id": ticket["id"]})["priority"] == "normal"

    missing = client.post(f"/api/v1/tickets/{uuid.uuid4()}/priority", {"priority": "high"})
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    assert client.post("/api/v1/tickets/TKT-999/priority", {"priority": "high"}).status == 404

    other = create(client, subject="Same fire")
    assert client.post(f"/api/v1/tickets/{other['id']}/merge", {"into": ticket["ref"]}).status == 200
    gone = client.post(f"/api/v1/tickets/{other['ref']}/priority", {"priority": "high"})
    assert gone.status == 410 and gone.body["merged_into"] == ticket["id"]


def test_priority_needs_sign_in(api, create, agent):
    client, _ = agent
    ticket = create(client)
    assert api.post(f"/api/v1/tickets/{ticket['id']}/priority", {"priority": "high"}).status == 401


def test_notification_preferences_get_put(agent, admin):
    client, _ = agent
    default = client.get("/api/v1/agents/me/notifications")
    assert default.status == 200, default.body
    assert default.body["timezone"] == "UTC" and default.body["quiet_mode"] == "defer"
    assert default.body["quiet_start"] is None and default.body["channels"] == {}

    body = {"timezone": "Europe/Berlin", "channels": {"ticket.assigned": ["slack", "email"], "sla.breached": []},
            "quiet_start": "22:00", "quiet_end": "07:00", "quiet_mode": "drop"}
    saved = client.put("/api/v1/agents/me/notifications", body)
    assert saved.status == 200, saved.body
    again = client.get("/api/v1/agents/me/notifications").body
    assert again == saved.body
    assert again["timezone"] == "Europe/Berlin" and again["quiet_mode"] == "drop"
    assert again["channels"] == {"ticket.assigned": ["email", "slack"], "sla.breached": []}
    assert again["quiet_start"].startswith("22:00") and again["quiet_end"].startswith("07:00")
    # Preferences are per agent: the admin still has the defaults.
    root, _ = admin
    assert root.get("/api/v1/agents/me/notifications").body["timezone"] == "UTC"


def test_notification_preferences_bad_input_changes_nothing(agent):
    client, _ = agent
    for bad, word in (({"timezone": "Mars/Olympus"}, "timezone"),
                      ({"channels": {"ticket.exploded": ["email"]}}, "ticket.exploded"),
                      ({"channels": {"ticket.assigned": ["pigeon"]}}, "channels"),
                      ({"quiet_start": "22:00"}, "quiet_end"),
                      ({"quiet_mode": "later"}, "quiet_mode"),
                      ({"colour": "red"}, "colour")):
        answer = client.put("/api/v1/agents/me/notifications", bad)
        assert answer.status == 422 and answer.content_type == "application/problem+json", (bad, answer.body)
        assert word in answer.body["detail"], (bad, answer.body["detail"])
    assert client.get("/api/v1/agents/me/notifications").body["timezone"] == "UTC"


def test_notification_preferences_need_an_agent_record(api):
    nobody = api.as_claims("ghost@example.com", "agent")
    assert nobody.get("/api/v1/agents/me/notifications").status in (403, 404)
    assert api.get("/api/v1/agents/me/notifications").status == 401


def test_team_changes_reach_routing_at_once(admin, db):
    from helpdesk.routing.config import routing_config

    root, _ = admin
    primed = routing_config(db)  # a warm process's cached config, fresh for TTL_SECONDS
    created = root.post("/api/v1/teams", {"name": "Refunds", "assignment_mode": "pull"})
    assert created.status == 201, created.body
    team_id = uuid.UUID(created.body["id"])
    seen = routing_config(db)
    assert seen is not primed and team_id in seen.teams
    assert seen.teams[team_id].assignment_mode == "pull"

    updated = root.patch(f"/api/v1/teams/{team_id}", {"name": "Returns", "assignment_mode": "push"})
    assert updated.status == 200, updated.body
    fresh = routing_config(db)
    assert fresh is not seen
    assert fresh.teams[team_id].name == "Returns" and fresh.teams[team_id].assignment_mode == "push"
    # A refused change leaves the cache alone.
    assert root.patch(f"/api/v1/teams/{team_id}", {"assignment_mode": "lottery"}).status == 422
    assert routing_config(db) is fresh

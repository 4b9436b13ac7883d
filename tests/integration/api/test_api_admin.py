"""Admin resources through the handler: teams, agents, customers, KB, schedules, SLA policies,
routing rules (with dry run) and out-of-office."""
from __future__ import annotations

import uuid
from datetime import timedelta

SCHEDULE = {"timezone": "America/New_York", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": ["2026-12-25"]}


def test_teams_crud_and_conflicts(admin, agent, db):
    root, _ = admin
    created = root.post("/api/v1/teams", {"name": "Billing", "email_address": "Billing@Example.com", "assignment_mode": "pull"})
    assert created.status == 201 and created.body["email_address"] == "billing@example.com"
    team_id = created.body["id"]
    assert root.post("/api/v1/teams", {"name": "Billing"}).status == 409
    assert root.post("/api/v1/teams", {"name": "X", "assignment_mode": "magic"}).status == 422
    assert root.post("/api/v1/teams", {"name": "Y", "schedule_id": str(uuid.uuid4())}).status == 422
    patched = root.patch(f"/api/v1/teams/{team_id}", {"assignment_mode": "push", "email_address": None})
    assert patched.status == 200 and patched.body["assignment_mode"] == "push" and patched.body["email_address"] is None
    assert patched.body["name"] == "Billing"
    assert root.patch(f"/api/v1/teams/{team_id}", {"name": None}).status == 422
    client, _ = agent
    assert [t["name"] for t in client.get("/api/v1/teams").body["items"]] == ["Billing"]
    assert client.get(f"/api/v1/teams/{uuid.uuid4()}").status == 404
    assert client.get("/api/v1/teams/not-a-uuid").status == 422


def test_agents_with_teams_skills_capacity_role(admin):
    root, _ = admin
    t1 = root.post("/api/v1/teams", {"name": "T1"}).body["id"]
    t2 = root.post("/api/v1/teams", {"name": "T2"}).body["id"]
    created = root.post("/api/v1/agents", {"email": "Eve@Example.com", "name": "Eve", "team_ids": [t1],
                                           "skills": ["German", "billing"], "capacity": 5, "role": "lead"})
    assert created.status == 201, created.body
    eve = created.body
    assert eve["team_ids"] == [t1] and eve["skills"] == ["german", "billing"] and eve["capacity"] == 5 and eve["role"] == "lead"
    assert root.post("/api/v1/agents", {"email": "eve@example.com", "name": "Eve again"}).status == 409
    assert root.post("/api/v1/agents", {"email": "z@example.com", "name": "Z", "capacity": 5000}).status == 422
    assert root.post("/api/v1/agents", {"email": "z@example.com", "name": "Z", "team_ids": [str(uuid.uuid4())]}).status == 422
    moved = root.patch(f"/api/v1/agents/{eve['id']}", {"team_ids": [t2], "capacity": 7})
    assert moved.status == 200 and moved.body["team_ids"] == [t2] and moved.body["capacity"] == 7
    assert moved.body["skills"] == ["german", "billing"]
    in_t2 = root.get("/api/v1/agents", query={"team": t2}).body["items"]
    assert [a["email"] for a in in_t2] == ["eve@example.com"]
    assert root.patch(f"/api/v1/agents/{eve['id']}", {"is_active": False}).body["is_active"] is False
    active = [a["email"] for a in root.get("/api/v1/agents").body["items"]]
    assert "eve@example.com" not in active and len(active) == 1
    everyone = root.get("/api/v1/agents", query={"include_inactive": "true"}).body["items"]
    assert "eve@example.com" in [a["email"] for a in everyone]


def test_customer_lookup_and_their_tickets(agent, create):
    client, _ = agent
    create(client, requester_email="Frank@Shop.test", subject="first")
    create(client, requester_email="frank@shop.test", subject="second")
    create(client, requester_email="gina@shop.test")
    found = client.get("/api/v1/customers", query={"email": "FRANK@shop.test"})
    assert found.status == 200 and len(found.body["items"]) == 1
    frank = found.body["items"][0]
    assert [c["email"] for c in client.get("/api/v1/customers", query={"q": "fr"}).body["items"]] == ["frank@shop.test"]
    assert client.get("/api/v1/customers").status == 422
    detail = client.get(f"/api/v1/customers/{frank['id']}")
    assert detail.status == 200 and detail.body["open_tickets"] == 2
    tickets = client.get(f"/api/v1/customers/{frank['id']}/tickets")
    assert {t["subject"] for t in tickets.body["items"]} == {"first", "second"}


def test_an_international_customer_is_found_by_either_form_and_shown_in_unicode(agent, create):
    client, _ = agent
    create(client, requester_email="jdöe@mächine.example", subject="Grüße")
    for given in ("JDÖE@MÄCHINE.EXAMPLE", "jdöe@xn--mchine-bua.example"):
        [found] = client.get("/api/v1/customers", query={"email": given}).body["items"]
        assert (found["email"], found["email_display"]) == ("jdöe@xn--mchine-bua.example", "jdöe@mächine.example")
    assert client.get(f"/api/v1/customers/{found['id']}").body["email_display"] == "jdöe@mächine.example"


def test_kb_articles_crud(api, agent, make_agent):
    _, email = make_agent("kbwriter", role="lead")
    lead = api.as_claims(email, "lead")
    art = lead.post("/api/v1/kb/articles", {"title": "Returns", "body": "Send it back within 30 days.", "tags": ["returns"]})
    assert art.status == 201
    aid = art.body["id"]
    assert lead.patch(f"/api/v1/kb/articles/{aid}", {"is_published": False}).body["is_published"] is False
    client, _ = agent
    assert client.get("/api/v1/kb/articles").body["items"] == []
    assert len(lead.get("/api/v1/kb/articles", query={"include_unpublished": "true"}).body["items"]) == 1
    assert client.get(f"/api/v1/kb/articles/{aid}").body["body"] == "Send it back within 30 days."
    assert client.delete(f"/api/v1/kb/articles/{aid}").status == 403
    assert lead.delete(f"/api/v1/kb/articles/{aid}").status == 204
    assert lead.get(f"/api/v1/kb/articles/{aid}").status == 404


def test_schedules_and_sla_policies(admin, agent):
    root, _ = admin
    bad = root.post("/api/v1/schedules", {"name": "Broken", "document": {"timezone": "Mars/Olympus", "hours": {}}})
    assert bad.status == 422 and "timezone" in bad.body["detail"].lower()
    sched = root.post("/api/v1/schedules", {"name": "NY office", "document": SCHEDULE})
    assert sched.status == 201, sched.body
    client, _ = agent
    assert [s["name"] for s in client.get("/api/v1/schedules").body["items"]] == ["NY office"]
    policy = root.post("/api/v1/sla-policies", {"name": "Urgent", "priority": "urgent", "schedule_id": sched.body["id"],
                                                "targets": {"first_response": {"seconds": 3600, "business": True}}})
    assert policy.status == 201, policy.body
    assert client.get(f"/api/v1/sla-policies/{policy.body['id']}").status == 200
    assert client.post("/api/v1/sla-policies", {"name": "x", "targets": {}}).status in (403, 422)
    assert root.delete(f"/api/v1/sla-policies/{policy.body['id']}").status == 204


def test_routing_rules_and_dry_run(admin, api, make_agent):
    root, _ = admin
    team = root.post("/api/v1/teams", {"name": "Refunds"}).body["id"]
    rule = root.post("/api/v1/routing-rules", {"name": "refund words", "team_id": team,
                                               "conditions": {"keywords": ["refund"]}})
    assert rule.status == 201, rule.body
    _, email = make_agent("lead", role="lead")
    lead = api.as_claims(email, "lead")
    hit = lead.post("/api/v1/routing-rules/dry-run", {"channel": "email", "subject": "Refund please"})
    assert hit.status == 200 and hit.body["team_id"] == team and hit.body["rule"]["id"] == rule.body["id"]
    miss = lead.post("/api/v1/routing-rules/dry-run", {"channel": "email", "subject": "Hello"})
    assert miss.body["team_id"] is None
    assert root.patch(f"/api/v1/routing-rules/{rule.body['id']}", {"is_active": False}).status == 200
    assert root.delete(f"/api/v1/routing-rules/{rule.body['id']}").status == 204


def test_out_of_office_self_or_lead(api, agent, make_agent, clock):
    client, me = agent
    other, _ = make_agent("other")
    start, end = clock.now() + timedelta(days=1), clock.now() + timedelta(days=3)
    body = {"start": start.isoformat(), "end": end.isoformat(), "delegate_id": str(other)}
    assert client.put(f"/api/v1/agents/{other}/out-of-office", body | {"delegate_id": str(me)}).status == 403
    mine = client.put(f"/api/v1/agents/{me}/out-of-office", body)
    assert mine.status == 200, mine.body
    assert mine.body["ooo_delegate_id"] == str(other)
    assert client.put(f"/api/v1/agents/{me}/out-of-office", body | {"start": "2026-03-01T00:00:00"}).status == 422  # naive
    assert client.delete(f"/api/v1/agents/{me}/out-of-office").status == 204
    assert client.get(f"/api/v1/agents/{me}").body["ooo_start"] is None

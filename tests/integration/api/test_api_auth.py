"""Who may do what: 401 without credentials, 403 for unknown users and too-small roles."""
from __future__ import annotations

import uuid


def test_no_credentials_is_401_problem(api):
    answer = api.get("/api/v1/tickets")
    assert answer.status == 401 and answer.content_type == "application/problem+json"
    assert answer.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_unknown_user_and_no_group_are_403(api, make_agent):
    assert api.as_claims("stranger@example.com", "agent").get("/api/v1/tickets").status == 403
    _, email = make_agent("nogroup")
    answer = api.as_claims(email, "").get("/api/v1/tickets")
    assert answer.status == 403 and "group" in answer.body["detail"]


def test_agent_cannot_use_admin_routes(agent, db):
    client, _ = agent
    for method, path, body in [("POST", "/api/v1/teams", {"name": "X"}),
                               ("POST", "/api/v1/agents", {"email": "n@example.com", "name": "N"}),
                               ("POST", "/api/v1/kb/articles", {"title": "t", "body": "b"}),
                               ("POST", "/api/v1/sla-policies", {"name": "p", "targets": {"first_response": {"seconds": 60}}}),
                               ("POST", "/api/v1/schedules", {"name": "s", "document": {"timezone": "UTC", "hours": {}}}),
                               ("POST", "/api/v1/routing-rules", {"name": "r", "team_id": str(uuid.uuid4())}),
                               ("PATCH", f"/api/v1/agents/{uuid.uuid4()}", {"role": "admin"})]:
        answer = client.call(method, path, body=body)
        assert answer.status == 403, (path, answer.body)
        assert "role" in answer.body["detail"]
    assert db.query_one("SELECT (SELECT count(*) FROM teams) + (SELECT count(*) FROM agents) AS n")["n"] == 1


def test_groups_as_list_or_comma_string_admit_and_the_record_decides_the_role(api, make_agent):
    _, email = make_agent("lead", role="lead")
    as_list = api.as_claims(email)
    as_list.claims["cognito:groups"] = ["agent", "lead"]
    assert as_list.post("/api/v1/kb/articles", {"title": "Reset password", "body": "Click reset."}).status == 201
    assert api.as_claims(email, "agent,lead").post("/api/v1/kb/articles", {"title": "T2", "body": "B"}).status == 201
    # The token's group only admits the user; the agent record's role applies (lead here).
    assert api.as_claims(email, "agent").post("/api/v1/kb/articles", {"title": "T3", "body": "B"}).status == 201


def test_a_token_claiming_a_higher_group_gets_the_records_role(api, make_agent):
    _, email = make_agent("plain")
    answer = api.as_claims(email, "admin").post("/api/v1/kb/articles", {"title": "T", "body": "B"})
    assert answer.status == 403 and "you are agent" in answer.body["detail"]


def test_a_demoted_lead_loses_lead_routes_within_seconds(api, admin, make_agent, monkeypatch):
    from helpdesk.auth import DEFAULT_RESOLVER, RECORD_TTL_SECONDS

    root, _ = admin
    lead_id, email = make_agent("lead", role="lead")
    lead = api.as_claims(email, "lead")
    now = [1000.0]
    monkeypatch.setattr(DEFAULT_RESOLVER, "_monotonic", lambda: now[0])
    assert lead.post("/api/v1/kb/articles", {"title": "Before", "body": "B"}).status == 201
    assert root.patch(f"/api/v1/agents/{lead_id}", {"role": "agent"}).status == 200
    now[0] += RECORD_TTL_SECONDS + 0.001
    answer = lead.post("/api/v1/kb/articles", {"title": "After", "body": "B"})
    assert answer.status == 403 and "you are agent" in answer.body["detail"]
    assert RECORD_TTL_SECONDS <= 10


def test_agents_match_by_the_tokens_sub_not_its_email(api, make_agent, db):
    alice_id, alice = make_agent("alice", role="lead")
    _, bob = make_agent("bob")
    alice_client = api.as_claims(alice, "lead")
    assert alice_client.get("/api/v1/agents/me").body["id"] == str(alice_id)  # first sign-in binds the sub
    # Another identity presenting Alice's address (a changed email claim) is not Alice.
    impostor = api.as_claims(alice, "lead")
    impostor.claims = {**impostor.claims, "sub": str(uuid.uuid4())}
    assert impostor.get("/api/v1/agents/me").status == 403
    # Alice's identity with a changed email claim is still Alice, never the agent of the new address.
    renamed = api.as_claims(alice, "lead")
    renamed.claims = {**renamed.claims, "email": bob}
    assert renamed.get("/api/v1/agents/me").body["id"] == str(alice_id)
    assert db.query_one("SELECT identity_sub FROM agents WHERE email = :e", {"e": bob})["identity_sub"] is None


def test_an_unverified_email_does_not_bind_an_agent(api, make_agent, db):
    _, email = make_agent("carol")
    client = api.as_claims(email, "agent")
    client.claims = {**client.claims, "email_verified": "false"}
    assert client.get("/api/v1/tickets").status == 403
    assert db.query_one("SELECT identity_sub FROM agents WHERE email = :e", {"e": email})["identity_sub"] is None


def test_admin_without_agent_record_can_bootstrap(api):
    root = api.as_claims("admin@example.com", "admin")
    me = root.get("/api/v1/agents/me")
    assert me.status == 200 and me.body["role"] == "admin" and me.body["agent_record"] is False
    created = root.post("/api/v1/agents", {"email": "First@Example.com", "name": "First", "role": "lead"})
    assert created.status == 201 and created.body["email"] == "first@example.com"
    # ...but needs an agent record for agent work.
    assert root.post("/api/v1/queue/next").status == 403


def test_agents_me(agent):
    client, agent_id = agent
    me = client.get("/api/v1/agents/me")
    assert me.status == 200 and me.body["id"] == str(agent_id) and me.body["role"] == "agent"


def test_swagger_ui_only_for_signed_in(api, agent):
    client, _ = agent
    assert api.get("/api/v1/docs").status == 401
    ui = client.get("/api/v1/docs")
    assert ui.status == 200 and "swagger" in str(ui.body).lower()
    assert ui.content_type.startswith("text/html") and "/api/v1/tickets" in ui.body  # the spec is inlined
    spec = client.get("/api/v1/docs", query={"format": "json"})
    assert spec.status == 200 and spec.body["info"]["title"] == "Helpdesk API" and "/api/v1/tickets" in spec.body["paths"]
    assert api.get("/api/v1/docs", query={"format": "json"}).status == 401
    assert client.post("/api/v1/docs").status == 405


def test_unknown_route_is_problem_404(agent):
    client, _ = agent
    answer = client.get("/api/v1/nothing-here")
    assert answer.status == 404 and answer.content_type == "application/problem+json"


def test_only_the_first_sign_in_writes_later_lookups_are_one_read(api, make_agent, db):
    from helpdesk.auth import DEFAULT_RESOLVER

    _, email = make_agent("dora")
    client = api.as_claims(email, "agent")
    db.stats.calls = 0
    assert client.get("/api/v1/agents/me").status == 200
    first = db.stats.calls  # the sub lookup finds nothing, the binding update finds the agent, then the route
    DEFAULT_RESOLVER.clear()  # another warm process, or the cache expired
    db.stats.calls = 0
    assert client.get("/api/v1/agents/me").status == 200
    assert db.stats.calls == first - 1  # bound: one read finds the agent

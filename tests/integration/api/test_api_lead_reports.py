"""The leads' reports over the API: roles, JSON and CSV answers, bad input as 422."""
from __future__ import annotations

WEEK = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-08T00:00:00Z"}


def lead(api, make_agent):
    agent_id, email = make_agent("lead", role="lead")
    client = api.as_claims(email, "lead")
    api.db.execute("UPDATE agents SET identity_sub = :sub WHERE id = :id::uuid", {"sub": client.claims["sub"], "id": agent_id})
    return client


def test_agents_may_not_read_reports(agent):
    client, _ = agent
    for path, query in (("/api/v1/reports/volume", WEEK), ("/api/v1/reports/backlog", None),
                        ("/api/v1/reports/agents", WEEK)):
        assert client.get(path, query=query).status == 403, path


def test_reports_answer_json_and_csv(api, make_agent, create, make_team):
    client = lead(api, make_agent)
    create(client, team_id=str(make_team("Billing")))
    backlog = client.get("/api/v1/reports/backlog")
    assert backlog.status == 200 and backlog.body["overall"]["backlog"] == 1
    csv = client.get("/api/v1/reports/backlog", query={"format": "csv"})
    assert csv.status == 200 and csv.content_type.startswith("text/csv")
    assert csv.headers["Content-Disposition"].startswith('attachment; filename="backlog_')
    assert csv.body.splitlines()[0].startswith("team,in_flight,new,")
    day = api.db.query_one("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d FROM tickets")["d"]
    period = {"since": f"{day}T00:00:00Z", "until": f"{day}T23:59:59Z"}
    volume = client.get("/api/v1/reports/volume", query={**period, "unit": "day"})
    assert volume.status == 200 and volume.body["total"] == [1] and volume.body["periods"] == [day]
    agents = client.get("/api/v1/reports/agents", query={**period, "format": "csv"})
    assert agents.status == 200 and agents.body.splitlines()[0].startswith("agent,email,handled")
    sla = client.get("/api/v1/reports/sla", query={**period, "format": "csv"})
    assert sla.status == 200 and sla.body.splitlines()[0].startswith("team,tickets,first_response_count")
    assert sla.body.splitlines()[-1].startswith("All teams,1,")
    assert client.get("/api/v1/reports/sla", query=period).body["teams"][0]["team_name"].startswith("Billing")


def test_bad_report_input_is_422_naming_what_is_allowed(api, make_agent):
    client = lead(api, make_agent)
    assert client.get("/api/v1/reports/volume", query={**WEEK, "unit": "hour"}).status == 422
    bad_zone = client.get("/api/v1/reports/volume", query={**WEEK, "timezone": "Mars/Olympus"})
    assert bad_zone.status == 422 and "IANA" in bad_zone.body["detail"]
    too_long = client.get("/api/v1/reports/volume", query={"since": "2026-01-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"})
    assert too_long.status == 422 and "at most 92 days" in too_long.body["detail"]
    assert client.get("/api/v1/reports/backlog", query={"format": "xml"}).status == 422
    assert client.get("/api/v1/reports/agents", query={"since": WEEK["until"], "until": WEEK["since"]}).status == 422

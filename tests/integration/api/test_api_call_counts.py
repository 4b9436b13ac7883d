"""Data API calls per request through the handler (warm process): reads 1, writes at most 2."""
from __future__ import annotations


def test_reads_are_one_call_and_writes_at_most_two(api, make_team, make_agent, create, db):
    team = make_team("counted")
    me, email = make_agent("counter", team_ids=(team,))
    client = api.as_claims(email)
    ticket = create(client, team_id=str(team), subject="Printer broken")
    other = create(client, subject="Other printer")
    customer = db.query_one("SELECT id FROM customers LIMIT 1")["id"]
    client.post("/api/v1/kb/suggest", {"subject": "warm", "body": ""})
    tid = ticket["id"]

    def calls(method: str, path: str, **kw) -> int:
        db.stats.calls = 0
        answer = client.call(method, path, **kw)
        assert answer.status < 400, (path, answer.body)
        return db.stats.calls

    reads = {
        "ticket": calls("GET", f"/api/v1/tickets/{tid}"),
        "ticket by ref": calls("GET", f"/api/v1/tickets/{ticket['ref']}"),
        "messages": calls("GET", f"/api/v1/tickets/{tid}/messages"),
        "all": calls("GET", "/api/v1/tickets", query={"status": "open"}),
        "mine": calls("GET", "/api/v1/tickets", query={"view": "mine"}),
        "queue": calls("GET", "/api/v1/tickets", query={"view": "queue"}),
        "at risk": calls("GET", "/api/v1/tickets", query={"view": "at_risk"}),
        "search": calls("GET", "/api/v1/search", query={"q": "printer"}),
        "kb suggest": calls("POST", "/api/v1/kb/suggest", body={"subject": "printer", "body": "broken"}),
        "teams": calls("GET", "/api/v1/teams"),
        "agents": calls("GET", "/api/v1/agents"),
        "me": calls("GET", "/api/v1/agents/me"),
        "customer tickets": calls("GET", f"/api/v1/customers/{customer}/tickets"),
    }
    assert reads == {k: 1 for k in reads}
    writes = {
        "reply": calls("POST", f"/api/v1/tickets/{tid}/messages", body={"body": "hello"}),
        "note": calls("POST", f"/api/v1/tickets/{tid}/messages", body={"body": "note", "visibility": "internal"}),
        "assign": calls("POST", f"/api/v1/tickets/{tid}/assign", body={"agent_id": str(me)}),
        "status": calls("POST", f"/api/v1/tickets/{tid}/status", body={"status": "in_progress"}),
        "merge": calls("POST", f"/api/v1/tickets/{other['id']}/merge", body={"into": tid}),
        "create": calls("POST", "/api/v1/tickets", body={"subject": "s", "body": "b", "requester_email": "q@x.test"}),
    }
    assert max(writes.values()) <= 2, writes

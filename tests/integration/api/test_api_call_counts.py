"""Data API calls per request through the handler (warm process): reads 1, writes at most 2; a ticket
create under a business-hours SLA policy 1 (no inline publisher: events wait for the relay)."""
from __future__ import annotations

from helpdesk import wiring
from helpdesk.events.publisher import DeferredPublisher
from helpdesk.sla import cache as sla_cache
from helpdesk.sla.policies import SlaPolicies
from helpdesk.sla.schedule_store import Schedules
from tests.factories import FACTORY

NY_HOURS = {"timezone": "America/New_York", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


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
        "tagged": calls("GET", "/api/v1/tickets", query={"tag": "vip"}),
        "view counts": calls("GET", "/api/v1/views/counts"),
        "view with counts": calls("GET", "/api/v1/tickets", query={"view": "mine", "counts": "true"}),
        "search": calls("GET", "/api/v1/search", query={"q": "printer"}),
        "search by ref": calls("GET", "/api/v1/search", query={"q": ticket["ref"]}),
        "search by email": calls("GET", "/api/v1/search", query={"q": "carol@customer.test"}),
        "search filtered": calls("GET", "/api/v1/search", query={"q": "printer", "tag": "vip", "status": "open"}),
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
        "seen": calls("POST", f"/api/v1/tickets/{tid}/seen"),
        "merge": calls("POST", f"/api/v1/tickets/{other['id']}/merge", body={"into": tid}),
        "create": calls("POST", "/api/v1/tickets", body={"subject": "s", "body": "b", "requester_email": "q@x.test"}),
    }
    assert max(writes.values()) <= 2, writes


def test_create_under_a_business_hours_policy_is_one_call(api, make_team, make_agent, create, db, clock, monkeypatch):
    monkeypatch.setattr(wiring, "publisher", lambda settings=None: DeferredPublisher())  # as deployed without SNS inline
    team = make_team("hours")
    schedule = Schedules(db, clock).create({"name": "new-york", "document": NY_HOURS}, by=FACTORY)
    db.execute("UPDATE teams SET schedule_id = :s::uuid, is_default = true WHERE id = :t::uuid",
               {"s": schedule["id"], "t": team})
    SlaPolicies(db, clock).create({"name": "business", "targets": {"first_response": {"seconds": 4 * 3600},
                                                                   "resolution": {"seconds": 48 * 3600}}}, by=FACTORY)
    _, email = make_agent("creator", team_ids=(team,))
    client = api.as_claims(email)
    create(client, subject="warm")  # warm process: principal, routing copy, SLA copy (filled by this create's follow-up)

    def counted_create(subject: str) -> tuple[int, list]:
        db.stats.calls = 0
        ticket = create(client, subject=subject)
        calls = db.stats.calls
        rows = db.query("SELECT kind, due_at, warn_at, recompute_from FROM sla_targets WHERE ticket_id = :t::uuid "
                        "ORDER BY kind", {"t": ticket["id"]})
        return calls, rows

    calls, predicted = counted_create("counted")
    assert calls == 1
    assert [r["kind"] for r in predicted] == ["first_response", "resolution"]
    assert all(r["due_at"] and r["recompute_from"] is None for r in predicted)
    sla_cache.invalidate(db)  # today's path: pending clocks and the follow-up that computes them
    calls, reference = counted_create("reference")
    assert calls == 2 and reference == predicted

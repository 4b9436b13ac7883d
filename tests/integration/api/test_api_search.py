"""Full-text search (subjects and bodies, ranked, filtered) and KB suggestions."""
from __future__ import annotations


def test_search_finds_subject_and_body_ranked(agent, create):
    client, _ = agent
    subject_hit = create(client, subject="Refund for order 1234", body="Please help.")
    body_hit = create(client, subject="Question", body="I would like a refund, the parcel never arrived.")
    create(client, subject="Password reset", body="Cannot log in.")
    found = client.get("/api/v1/search", query={"q": "refunds"})  # stemming: refunds -> refund
    assert found.status == 200
    ids = [t["id"] for t in found.body["items"]]
    assert ids == [subject_hit["id"], body_hit["id"]]  # the subject match ranks higher
    assert "<b>" in found.body["items"][1]["snippet"]
    assert found.body["items"][1]["matched_message_id"]
    # Two matches, both ranked: the candidate cap (the 500 most recent matches) was not reached.
    assert found.body["ranked_among"] == 2 and found.body["more_matches"] is False


def test_search_filters_and_bounds(agent, create):
    client, agent_id = agent
    a = create(client, subject="Broken invoice")
    create(client, subject="Broken invoice again")
    client.post(f"/api/v1/tickets/{a['id']}/assign", {"agent_id": str(agent_id)})
    mine = client.get("/api/v1/search", query={"q": "invoice", "assignee": "me"})
    assert [t["id"] for t in mine.body["items"]] == [a["id"]]
    assigned = client.get("/api/v1/search", query={"q": "invoice", "status": "new"})
    assert len(assigned.body["items"]) == 1 and assigned.body["items"][0]["id"] != a["id"]
    assert client.get("/api/v1/search", query={"q": "invoice", "limit": "51"}).status == 422
    assert client.get("/api/v1/search", query={"q": "x" * 201}).status == 422
    assert client.get("/api/v1/search").status == 422
    # Operators users type do not break the query.
    assert client.get("/api/v1/search", query={"q": '"broken invoice" -again or (&|!'}).status == 200


def test_search_is_one_call(agent, create, db):
    client, _ = agent
    create(client, subject="Wifi down")
    db.stats.calls = 0
    assert client.get("/api/v1/search", query={"q": "wifi"}).status == 200
    assert db.stats.calls == 1


def test_kb_suggest_top_three(api, make_agent):
    _, email = make_agent("writer", role="lead")
    lead = api.as_claims(email, "lead")
    titles = ["Reset your password", "Password rules", "Two-factor login and password", "Shipping times",
              "Refund policy"]
    for title in titles:
        assert lead.post("/api/v1/kb/articles", {"title": title, "body": f"{title}. Details follow."}).status == 201
    lead.post("/api/v1/kb/articles", {"title": "Draft password tips", "body": "password", "is_published": False})
    answer = lead.post("/api/v1/kb/suggest", {"subject": "Forgot my password", "body": "I cannot log in, password reset?"})
    assert answer.status == 200
    got = [a["title"] for a in answer.body["items"]]
    assert len(got) == 3 and set(got) <= {"Reset your password", "Password rules", "Two-factor login and password"}
    assert got[0] == "Reset your password"
    public = api.post("/api/v1/public/kb/suggest", {"subject": "refund please", "body": ""})
    assert public.status == 200 and [a["title"] for a in public.body["items"]] == ["Refund policy"]
    assert set(public.body["items"][0]) == {"id", "title", "snippet"}
    assert api.post("/api/v1/public/kb/suggest", {"subject": "", "body": ""}).body["items"] == []

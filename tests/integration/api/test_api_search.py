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
    parts = found.body["items"][1]["snippet_parts"]
    assert {"text": "refund", "match": True} in parts and "<b>" not in found.body["items"][1]["snippet"]
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


def test_snippets_keep_user_markup_as_text_and_mark_only_the_words(agent, create):
    client, _ = agent
    hostile = '<img src=x onerror=alert(1)> refund <b>now</b> \ue000fake mark\ue001 & "quotes"'
    ticket = create(client, subject="Hello", body=hostile)
    hit = client.get("/api/v1/search", query={"q": "refund"}).body["items"][0]
    assert hit["id"] == ticket["id"]
    assert [p["text"] for p in hit["snippet_parts"] if p["match"]] == ["refund"]
    text = "".join(p["text"] for p in hit["snippet_parts"])
    # The user's own mark characters are gone: no part of their text can pose as one of our marks.
    assert text == hit["snippet"] and "fake mark" in text
    assert "\ue000" not in text and "\ue001" not in text


def test_a_reference_opens_the_ticket(agent, create, db):
    client, _ = agent
    ticket = create(client, subject="Printer jam")
    number = ticket["number"]
    for typed in (f"TKT-{number}", f"tkt-{number}", f"#{number}", str(number), f" TKT{number} "):
        db.stats.calls = 0
        found = client.get("/api/v1/search", query={"q": typed}).body
        assert found["exact"] == ticket["ref"] and [t["id"] for t in found["items"]] == [ticket["id"]], typed
        assert db.stats.calls == 1
    # A number that is no ticket's is searched as a word.
    missing = client.get("/api/v1/search", query={"q": "987654"}).body
    assert missing["exact"] is None and missing["items"] == []


def test_requester_name_and_email_find_their_tickets_first(agent, create):
    client, _ = agent
    dana = create(client, subject="Login fails", body="cannot log in", requester_email="dana.diaz@acme.test",
                  requester_name="Dana Díaz")
    create(client, subject="Other", body="Dana from accounting says hi", requester_email="eve@other.test",
           requester_name="Eve Stone")
    by_name = client.get("/api/v1/search", query={"q": "díaz dana"}).body["items"]
    assert [t["id"] for t in by_name][:1] == [dana["id"]] and by_name[0]["requester_match"] is True
    by_email = client.get("/api/v1/search", query={"q": "Dana.Diaz@acme.test"}).body["items"]
    assert [t["id"] for t in by_email] == [dana["id"]]
    by_prefix = client.get("/api/v1/search", query={"q": "dana.diaz@"}).body["items"]
    assert [t["id"] for t in by_prefix] == [dana["id"]]
    # LIKE wildcards typed by a person are literal characters.
    assert client.get("/api/v1/search", query={"q": "%@"}).body["items"] == []
    assert client.get("/api/v1/search", query={"q": "dana_diaz@"}).body["items"] == []


def test_search_filters_by_tag(agent, create):
    client, _ = agent
    vip = create(client, subject="Refund please", tags=["vip"])
    create(client, subject="Refund too")
    found = client.get("/api/v1/search", query={"q": "refund", "tag": "VIP"}).body["items"]
    assert [t["id"] for t in found] == [vip["id"]]


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
    assert set(public.body["items"][0]) == {"id", "title", "snippet", "snippet_parts"}
    # Plain text with the matches flagged, never markup: customers see it on the contact form.
    refund = public.body["items"][0]
    assert "<b>" not in refund["snippet"] and {"text": "Refund", "match": True} in refund["snippet_parts"]
    assert "".join(p["text"] for p in refund["snippet_parts"]) == refund["snippet"]
    assert api.post("/api/v1/public/kb/suggest", {"subject": "", "body": ""}).body["items"] == []

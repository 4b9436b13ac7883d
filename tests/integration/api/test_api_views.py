"""Views: my open tickets, team queue, at risk, all with filters; cursors, bounded pages, capped counts."""
from __future__ import annotations

from datetime import timedelta


def test_pages_walk_everything_once_in_order(agent, bulk_tickets, db):
    client, _ = agent
    bulk_tickets(57)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "20"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/tickets", query=query)
        assert page.status == 200, page.body
        seen += page.body["items"]
        pages += 1
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 57 and len({t["id"] for t in seen}) == 57
    updated = [t["updated_at"] for t in seen]
    assert updated == sorted(updated, reverse=True)
    assert page.body["count"] == {"value": 57, "capped": False, "display": "57"}


def test_page_size_is_bounded_and_error_names_the_range(agent):
    client, _ = agent
    for bad in ("0", "101"):
        answer = client.get("/api/v1/tickets", query={"limit": bad})
        assert answer.status == 422 and answer.content_type == "application/problem+json"
        assert "limit" in answer.body["detail"] and ("100" in answer.body["detail"] or "1" in answer.body["detail"])
    garbage = client.get("/api/v1/tickets", query={"cursor": "not-a-cursor"})
    assert garbage.status == 422 and "cursor" in garbage.body["detail"]
    from helpdesk.views import encode_cursor

    foreign = client.get("/api/v1/tickets", query={"view": "mine", "cursor": encode_cursor("all", ["2026-01-01T00:00:00+00:00", "x"])})
    assert foreign.status == 422 and "cursor" in foreign.body["detail"]
    bad_status = client.get("/api/v1/tickets", query={"status": "open,frozen"})
    assert bad_status.status == 422 and "frozen" in bad_status.body["detail"]


def test_count_is_capped(agent, bulk_tickets):
    client, _ = agent
    bulk_tickets(1005)
    page = client.get("/api/v1/tickets", query={"limit": "5"})
    assert page.body["count"] == {"value": 999, "capped": True, "display": "999+"}
    assert len(page.body["items"]) == 5


def test_mine_shows_only_my_open_tickets(agent, make_agent, bulk_tickets):
    client, me = agent
    other, _ = make_agent("other")
    bulk_tickets(3, status="in_progress", assignee_id=me)
    bulk_tickets(2, status="resolved", assignee_id=me)
    bulk_tickets(4, status="assigned", assignee_id=other)
    mine = client.get("/api/v1/tickets", query={"view": "mine"})
    assert mine.status == 200 and mine.body["count"]["value"] == 3
    assert {t["assignee_id"] for t in mine.body["items"]} == {str(me)}
    also = client.get("/api/v1/tickets", query={"assignee": "me", "status": "open"})
    assert also.body["count"]["value"] == 3


def test_queue_is_priority_then_age_and_unassigned_only(api, make_team, make_agent, bulk_tickets):
    team = make_team("support")
    me, email = make_agent("queuer", team_ids=(team,))
    client = api.as_claims(email)
    bulk_tickets(2, team_id=team, priority="low", subject="low")
    bulk_tickets(2, team_id=team, priority="urgent", subject="urgent")
    bulk_tickets(1, team_id=team, status="assigned", assignee_id=me, subject="taken")
    bulk_tickets(3, subject="no team")
    queue = client.get("/api/v1/tickets", query={"view": "queue"})
    subjects = [t["subject"] for t in queue.body["items"]]
    # urgent first; within a priority the oldest first (bulk ticket g is g seconds old)
    assert subjects == ["urgent 2", "urgent 1", "low 2", "low 1"]
    first = client.get("/api/v1/tickets", query={"view": "queue", "limit": "3"})
    rest = client.get("/api/v1/tickets", query={"view": "queue", "limit": "3", "cursor": first.body["next_cursor"]})
    assert [t["subject"] for t in first.body["items"] + rest.body["items"]] == subjects
    explicit = client.get("/api/v1/tickets", query={"view": "queue", "team": str(team)})
    assert [t["subject"] for t in explicit.body["items"]] == subjects


def test_at_risk_lists_tickets_by_nearest_deadline(agent, bulk_tickets, db, clock):
    client, _ = agent
    bulk_tickets(3)
    ids = [r["id"] for r in db.query("SELECT id FROM tickets ORDER BY number")]
    for ticket_id, due in zip(ids, (timedelta(hours=1), timedelta(minutes=-5), timedelta(hours=9))):
        db.execute("""INSERT INTO sla_targets (ticket_id, kind, target_seconds, started_at, due_at, updated_at)
                      VALUES (:t::uuid, 'first_response', 3600, :now::timestamptz, :due::timestamptz, :now::timestamptz)""",
                   {"t": ticket_id, "now": clock.now(), "due": clock.now() + due})
    risky = client.get("/api/v1/tickets", query={"view": "at_risk"})
    assert [t["id"] for t in risky.body["items"]] == [ids[1], ids[0]]
    assert risky.body["items"][0]["next_due_at"] is not None


def test_all_with_filters(agent, make_team, bulk_tickets):
    client, me = agent
    team = make_team("t")
    bulk_tickets(2, team_id=team, priority="high")
    bulk_tickets(3, team_id=team)
    bulk_tickets(4, status="in_progress", assignee_id=me)
    assert client.get("/api/v1/tickets", query={"team": str(team)}).body["count"]["value"] == 5
    assert client.get("/api/v1/tickets", query={"team": str(team), "priority": "high"}).body["count"]["value"] == 2
    assert client.get("/api/v1/tickets", query={"assignee": "none"}).body["count"]["value"] == 5
    assert client.get("/api/v1/tickets", query={"assignee": str(me), "status": "in_progress"}).body["count"]["value"] == 4
    assert client.get("/api/v1/tickets", query={"priority": "extreme"}).status == 422

"""Views: my open tickets, team queue, at risk, all with filters; cursors, bounded pages, capped counts."""
from __future__ import annotations

from datetime import timedelta

from helpdesk.tickets.commands import TicketCommands


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


def _clock(db, clock, ticket_id, *, due, warn, kind="first_response", state="running"):
    db.execute("""INSERT INTO sla_targets (ticket_id, kind, target_seconds, started_at, due_at, warn_at, state, updated_at)
                  VALUES (:t::uuid, :kind, 3600, :now::timestamptz, :due::timestamptz, :warn::timestamptz, :state,
                          :now::timestamptz)""",
               {"t": ticket_id, "kind": kind, "state": state, "now": clock.now(),
                "due": clock.now() + due, "warn": clock.now() + warn})


def test_at_risk_lists_tickets_past_their_warning_instant_most_urgent_first(agent, bulk_tickets, db, clock):
    client, _ = agent
    bulk_tickets(4)
    ids = [r["id"] for r in db.query("SELECT id FROM tickets ORDER BY number")]
    _clock(db, clock, ids[0], due=timedelta(minutes=20), warn=timedelta(minutes=-10))   # warned: at risk
    _clock(db, clock, ids[1], due=timedelta(minutes=-5), warn=timedelta(minutes=-35))   # breached
    _clock(db, clock, ids[2], due=timedelta(hours=1), warn=timedelta(minutes=30))       # due soon, not yet warned
    _clock(db, clock, ids[3], due=timedelta(hours=9), warn=timedelta(hours=8))
    risky = client.get("/api/v1/tickets", query={"view": "at_risk"})
    assert [t["id"] for t in risky.body["items"]] == [ids[1], ids[0]]
    assert risky.body["count"]["value"] == 2
    # Each item carries the clock the chip describes, with the instants the ticket page reads.
    chip = risky.body["items"][1]["sla"]
    assert chip["kind"] == "first_response" and chip["state"] == "running"
    assert chip["warn_at"] is not None and chip["due_at"] is not None


def test_at_risk_agrees_with_the_ticket_page_clock_for_every_ticket(agent, bulk_tickets, db, clock):
    """The view lists a ticket exactly when the ticket page shows one of its running clocks at risk
    (warn_at passed) or breached: the issue's "At risk shows on track" cannot come back."""
    client, _ = agent
    bulk_tickets(6)
    ids = [r["id"] for r in db.query("SELECT id FROM tickets ORDER BY number")]
    offsets = [(-30, -60), (10, -5), (100, 70), (45, 15), (5, 1), (-1, -31)]  # (due, warn) in minutes
    for ticket_id, (due, warn) in zip(ids, offsets):
        _clock(db, clock, ticket_id, due=timedelta(minutes=due), warn=timedelta(minutes=warn))
    listed = {t["id"] for t in client.get("/api/v1/tickets", query={"view": "at_risk"}).body["items"]}
    for ticket_id in ids:
        page = client.get(f"/api/v1/tickets/{ticket_id}").body
        risky = any(c["state"] == "running" and c["warn_at"] is not None
                    and c["warn_at"] <= clock.now().isoformat() for c in page["sla"])
        assert (ticket_id in listed) == risky, page["sla"]


def test_an_item_names_its_requester_latest_message_and_most_urgent_clock(agent, create, db, clock):
    client, me = agent
    ticket = create(client, subject="Invoice wrong", body="The <b>total</b> is off by 10", requester_name="Dana Díaz",
                    requester_email="dana@customer.test")
    client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Looking into it", "visibility": "internal"})
    item = next(t for t in client.get("/api/v1/tickets").body["items"] if t["id"] == ticket["id"])
    assert item["requester"] == {"id": ticket["requester_id"], "name": "Dana Díaz", "email": "dana@customer.test"}
    assert item["last_message"]["preview"] == "Looking into it"
    assert item["last_message"]["author_type"] == "agent" and item["last_message"]["visibility"] == "internal"


def test_unread_marks_follow_customer_messages_per_agent(agent, api, make_agent, create, db, clock, publisher):
    client, me = agent
    other_id, other_email = make_agent("bob")
    other = api.as_claims(other_email, "agent")
    ticket = create(client)

    def unread(who) -> bool:
        return next(t for t in who.get("/api/v1/tickets").body["items"] if t["id"] == ticket["id"])["unread"]

    assert unread(client) is True and unread(other) is True
    assert client.post(f"/api/v1/tickets/{ticket['ref']}/seen", {}).status == 204
    assert unread(client) is False and unread(other) is True
    clock.advance(timedelta(minutes=5))
    TicketCommands(db, clock, publisher).receive_customer_message(
        ticket["id"], {"body": "Any news?", "author_type": "customer", "author_email": "carol@customer.test"})
    assert unread(client) is True
    assert client.post("/api/v1/tickets/TKT-999999/seen", {}).status == 404
    assert client.post("/api/v1/tickets/not-a-ref/seen", {}).status == 422


def test_tag_filter_lists_tickets_carrying_the_tag(agent, create):
    client, _ = agent
    vip = create(client, subject="Hello", tags=["VIP", "billing"])
    create(client, subject="Other", tags=["billing"])
    answer = client.get("/api/v1/tickets", query={"tag": " vip "})
    assert [t["id"] for t in answer.body["items"]] == [vip["id"]] and answer.body["count"]["value"] == 1
    assert client.get("/api/v1/tickets", query={"tag": "billing"}).body["count"]["value"] == 2
    too_long = client.get("/api/v1/tickets", query={"tag": "x" * 60})
    assert too_long.status == 422 and "at most 50" in too_long.body["detail"]


def test_view_counts_agree_with_each_view(agent, make_team, make_agent, bulk_tickets, db, clock, api):
    client, me = agent
    team = make_team("support")
    db.execute("INSERT INTO team_members (team_id, agent_id) VALUES (:t::uuid, :a::uuid)", {"t": team, "a": me})
    bulk_tickets(3, status="in_progress", assignee_id=me)
    bulk_tickets(2, team_id=team)
    bulk_tickets(4)
    risky = db.query("SELECT id FROM tickets WHERE assignee_id IS NOT NULL ORDER BY number LIMIT 1")[0]["id"]
    _clock(db, clock, risky, due=timedelta(minutes=5), warn=timedelta(minutes=-25))
    counts = client.get("/api/v1/views/counts").body
    for name, view in (("mine", "mine"), ("queue", "queue"), ("at_risk", "at_risk"), ("all", "all")):
        assert counts[name] == client.get("/api/v1/tickets", query={"view": view}).body["count"], name
    assert (counts["mine"]["value"], counts["queue"]["value"], counts["at_risk"]["value"], counts["all"]["value"]) \
        == (3, 2, 1, 9)
    assert counts["mine_unread"]["value"] == 0  # bulk tickets have no customer message
    # The same counts ride along with any view's page, in its one call.
    for view in ("all", "mine", "queue", "at_risk"):
        db.stats.calls = 0
        page = client.get("/api/v1/tickets", query={"view": view, "counts": "true", "tag": "x"})
        assert db.stats.calls == 1 and page.body["view_counts"] == counts, view
    assert client.get("/api/v1/tickets").body["view_counts"] is None


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


def test_all_and_mine_sort_by_creation_or_priority_and_page_in_that_order(agent, bulk_tickets, db):
    client, me = agent
    for priority in ("low", "urgent", "normal", "high"):
        bulk_tickets(6, priority=priority, status="in_progress", assignee_id=me)
    db.execute("UPDATE tickets SET created_at = updated_at - make_interval(secs => number * 7 % 13)")
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    for view in ("all", "mine"):
        for sort, key in (("created", lambda t: (t["created_at"], t["id"])),
                          ("priority", lambda t: (-rank[t["priority"]], t["updated_at"], t["id"]))):
            seen, cursor = [], None
            while True:
                page = client.get("/api/v1/tickets", query={"view": view, "sort": sort, "limit": "5"}
                                  | ({"cursor": cursor} if cursor else {}))
                assert page.status == 200, page.body
                seen += page.body["items"]
                cursor = page.body["next_cursor"]
                if not cursor:
                    break
            assert len({t["id"] for t in seen}) == 24, (view, sort)
            assert seen == sorted(seen, key=key, reverse=True), (view, sort)
    # A cursor is bound to its order; views with their own order refuse another.
    first = client.get("/api/v1/tickets", query={"sort": "priority", "limit": "5"}).body["next_cursor"]
    wrong = client.get("/api/v1/tickets", query={"sort": "created", "cursor": first})
    assert wrong.status == 422 and "cursor" in wrong.body["detail"]
    queue = client.get("/api/v1/tickets", query={"view": "queue", "sort": "created"})
    assert queue.status == 422 and "own order" in queue.body["detail"]
    assert client.get("/api/v1/tickets", query={"sort": "colour"}).status == 422

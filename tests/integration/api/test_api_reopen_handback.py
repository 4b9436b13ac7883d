"""A customer's portal reply that reopens a closed ticket goes through routing's intake: the ticket is
handed back to its previous owner when they are available, otherwise to the team queue."""
from __future__ import annotations

from helpdesk import wiring
from helpdesk.auth.portal import sign_portal_token
from helpdesk.config import get_settings


def _closed_ticket(client, create, team, owner) -> dict:
    ticket = create(client, team_id=str(team))
    tid = ticket["id"]
    assert client.post(f"/api/v1/tickets/{tid}/assign", {"agent_id": str(owner)}).status == 200
    for status in ("in_progress", "resolved", "closed"):
        moved = client.post(f"/api/v1/tickets/{tid}/status", {"status": status})
        assert moved.status == 200, moved.body
    return ticket


def _reply(api, ticket_id: str):
    token = sign_portal_token(ticket_id, get_settings().signing_keys, wiring.clock().now())  # the test's clock
    answer = api.post(f"/api/v1/portal/{token}/messages", {"body": "It is on fire again."})
    assert answer.status == 201, answer.body
    return answer


def _reasons(db, ticket_id: str) -> list[str]:
    return [r["reason"] for r in db.query("SELECT reason FROM assignments WHERE ticket_id = :id::uuid ORDER BY id",
                                          {"id": ticket_id})]


def _state(db, ticket_id: str) -> dict:
    return db.query_one("SELECT status, assignee_id::text AS assignee_id, team_id::text AS team_id FROM tickets "
                        "WHERE id = :id::uuid", {"id": ticket_id})


def test_reopened_ticket_goes_back_to_its_available_owner(api, make_team, make_agent, create, db):
    team = make_team("support")
    owner, email = make_agent("owner", team_ids=(team,))
    ticket = _closed_ticket(api.as_claims(email), create, team, owner)
    before = _reasons(db, ticket["id"])

    answer = _reply(api, ticket["id"])
    assert answer.body["ticket"] == ticket["ref"] and answer.body["followup_of"] is None
    state = _state(db, ticket["id"])
    assert state["assignee_id"] == str(owner), state
    assert state["status"] not in ("closed", "resolved") and answer.body["status"] == state["status"]
    assert _reasons(db, ticket["id"]) == before  # kept, not re-assigned


def test_reopened_ticket_goes_to_the_queue_when_the_owner_is_away(api, make_team, make_agent, create, db):
    team = make_team("support")  # pull: nobody else is pushed the ticket
    owner, email = make_agent("owner", team_ids=(team,))
    ticket = _closed_ticket(api.as_claims(email), create, team, owner)
    # The owner left the team since: not available any more.
    db.execute("DELETE FROM team_members WHERE agent_id = :a::uuid", {"a": owner})

    _reply(api, ticket["id"])
    state = _state(db, ticket["id"])
    assert state["assignee_id"] is None and state["team_id"] == str(team), state
    assert state["status"] not in ("closed", "resolved") and state["status"] in ("new", "reopened", "in_progress")
    assert _reasons(db, ticket["id"])[-1] == "reopened"
    # Back in the team's queue: the queue view shows it, and a team mate claiming the next ticket gets it.
    mate = api.as_claims(make_agent("mate", team_ids=(team,))[1])
    queue = mate.get("/api/v1/tickets", query={"view": "queue", "team": str(team)})
    assert [t["id"] for t in queue.body["items"]] == [ticket["id"]], queue.body
    claimed = mate.post("/api/v1/queue/next")
    assert claimed.status == 200 and claimed.body["id"] == ticket["id"], claimed.body


def test_reply_to_an_open_ticket_changes_no_assignment(api, make_team, make_agent, create, db):
    team = make_team("support")
    owner, email = make_agent("owner", team_ids=(team,))
    client = api.as_claims(email)
    ticket = create(client, team_id=str(team))
    assert client.post(f"/api/v1/tickets/{ticket['id']}/assign", {"agent_id": str(owner)}).status == 200
    before = _reasons(db, ticket["id"])
    _reply(api, ticket["id"])
    assert _state(db, ticket["id"])["assignee_id"] == str(owner)
    assert _reasons(db, ticket["id"]) == before


def test_reply_long_after_closing_opens_a_pushed_followup(api, make_team, make_agent, create, db, clock):
    team = make_team("support", mode="push")
    owner, email = make_agent("owner", team_ids=(team,))
    ticket = _closed_ticket(api.as_claims(email), create, team, owner)
    clock.advance(days=8)  # past the 7-day reopen window

    answer = _reply(api, ticket["id"])
    assert answer.body["followup_of"] == ticket["id"] and answer.body["ticket"] != ticket["ref"]
    followup = db.query_one("SELECT id::text AS id, status, assignee_id::text AS assignee_id, team_id::text AS team_id "
                            "FROM tickets WHERE parent_ticket_id = :id::uuid", {"id": ticket["id"]})
    assert followup["team_id"] == str(team)
    assert followup["assignee_id"] == str(owner) and followup["status"] == "assigned", followup
    assert _state(db, ticket["id"])["status"] == "closed"

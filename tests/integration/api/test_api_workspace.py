"""The ticket page's API (functions/api/routes/workspace.py, helpdesk.tickets.workspace): tags, macros,
presence, the activity log, the customer panel, and replies that cannot cross an unseen message."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from helpdesk.tickets import workspace

CALENDAR_POLICY = {"name": "Calendar", "schedule_id": None,
                   "targets": {"first_response": {"seconds": 3600, "business": False},
                               "resolution": {"seconds": 86400, "business": False}}}


def _lead(api, make_agent, name="lena"):
    agent_id, email = make_agent(name, role="lead")
    client = api.as_claims(email, "lead")
    api.db.execute("UPDATE agents SET identity_sub = :sub WHERE id = :id::uuid", {"sub": client.claims["sub"], "id": agent_id})
    return client, agent_id


def _audit(db, ticket_id, event_type):
    return db.query("SELECT data, actor_id FROM ticket_audit WHERE ticket_id = :t::uuid AND event_type = :e ORDER BY id",
                    {"t": ticket_id, "e": event_type})


# -- tags --------------------------------------------------------------------------------------------
def test_tags_are_added_and_removed_in_one_audited_write(agent, create, db, publisher):
    client, agent_id = agent
    ticket = create(client, tags=["billing", "vip"])
    client.get("/api/v1/agents/me")
    db.stats.calls = 0
    answer = client.patch(f"/api/v1/tickets/{ticket['id']}/tags", {"add": ["Refund", "billing", "refund"], "remove": ["vip"]})
    assert answer.status == 200, answer.body
    assert answer.body["tags"] == ["billing", "refund"]
    assert db.stats.calls <= 2  # the statement, and the follow-up acknowledging the published event
    [row] = _audit(db, ticket["id"], "ticket.tags_changed")
    assert row["data"]["added"] == ["refund"] and row["data"]["removed"] == ["vip"] and row["actor_id"] == str(agent_id)
    assert [e["event_type"] for e in db.query("SELECT event_type FROM outbox WHERE ticket_id = :t::uuid AND "
                                              "event_type = 'ticket.tags_changed'", {"t": ticket["id"]})] == ["ticket.tags_changed"]

    same = client.patch(f"/api/v1/tickets/TKT-{ticket['number']}/tags", {"add": ["refund"]})
    assert same.status == 200 and same.body["tags"] == ["billing", "refund"]
    assert len(_audit(db, ticket["id"], "ticket.tags_changed")) == 1  # nothing changed, nothing written


def test_bad_tags_are_refused_with_what_is_allowed(agent, create, db):
    client, _ = agent
    ticket = create(client)
    for body, words in (({"add": ["  "]}, "1 to 50 characters"), ({}, "to add or to remove"),
                        ({"add": ["x"], "remove": ["x"]}, "both added and removed"),
                        ({"add": [f"t{n}" for n in range(20)] + []}, None)):
        answer = client.patch(f"/api/v1/tickets/{ticket['id']}/tags", body)
        if words is None:
            assert answer.status == 200
            continue
        assert answer.status == 422 and words in answer.body["detail"], answer.body
    too_many = client.patch(f"/api/v1/tickets/{ticket['id']}/tags", {"add": ["one-more"]})
    assert too_many.status == 422 and "at most 20 tags" in too_many.body["detail"]
    assert len(client.get(f"/api/v1/tickets/{ticket['id']}").body["tags"]) == 20


# -- replies that cannot cross an unseen message ------------------------------------------------------
def test_a_reply_from_a_stale_view_is_refused_with_the_newer_messages(agent, create, db):
    client, _ = agent
    ticket = create(client)
    seen = client.get(f"/api/v1/tickets/{ticket['id']}").body["messages"][0]["position"]
    other = client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Sent from my other tab", "seen_position": seen})
    assert other.status == 201

    stale = client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Hello again", "seen_position": seen})
    assert stale.status == 409 and stale.body["reason"] == "newer_messages"
    assert [m["body"] for m in stale.body["newer_messages"]] == ["Sent from my other tab"]
    assert db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = :t::uuid", {"t": ticket["id"]})["n"] == 2

    confirmed = client.post(f"/api/v1/tickets/{ticket['id']}/messages",
                            {"body": "Hello again", "seen_position": seen, "confirm_newer": True})
    assert confirmed.status == 201
    latest = confirmed.body["message"]["position"]
    assert client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Fresh", "seen_position": latest}).status == 201


# -- presence ------------------------------------------------------------------------------------------
def test_presence_shows_the_other_agents_until_their_heartbeat_expires(api, agent, make_agent, create, clock):
    alice, _ = agent
    bob_id, bob_email = make_agent("bob")
    bob = api.as_claims(bob_email)
    ticket = create(alice)
    assert alice.post(f"/api/v1/tickets/{ticket['id']}/presence", {"activity": "viewing"}).body["others"] == []
    seen = bob.post(f"/api/v1/tickets/TKT-{ticket['number']}/presence", {"activity": "replying"})
    assert seen.status == 200 and seen.body["expires_in"] == workspace.PRESENCE_SECONDS
    assert [(o["name"], o["activity"]) for o in seen.body["others"]] == [("alice", "viewing")]
    assert [(o["agent_id"], o["activity"]) for o in
            alice.post(f"/api/v1/tickets/{ticket['id']}/presence", {}).body["others"]] == [(str(bob_id), "replying")]

    clock.advance(timedelta(seconds=workspace.PRESENCE_SECONDS + 1))
    assert alice.post(f"/api/v1/tickets/{ticket['id']}/presence", {}).body["others"] == []
    bob.post(f"/api/v1/tickets/{ticket['id']}/presence", {})
    assert bob.delete(f"/api/v1/tickets/{ticket['id']}/presence").status == 204
    assert alice.post(f"/api/v1/tickets/{ticket['id']}/presence", {}).body["others"] == []
    bad = alice.post(f"/api/v1/tickets/{ticket['id']}/presence", {"activity": "typing"})
    assert bad.status == 422


# -- activity log and customer panel -----------------------------------------------------------------
def test_activity_lists_status_assignment_priority_and_tag_events_with_who(agent, create):
    client, agent_id = agent
    ticket = create(client)
    tid = ticket["id"]
    assert client.post(f"/api/v1/tickets/{tid}/assign", {"agent_id": str(agent_id)}).status == 200
    assert client.post(f"/api/v1/tickets/{tid}/status", {"status": "in_progress"}).status == 200
    assert client.post(f"/api/v1/tickets/{tid}/priority", {"priority": "high"}).status == 200
    assert client.patch(f"/api/v1/tickets/{tid}/tags", {"add": ["vip"]}).status == 200
    client.post(f"/api/v1/tickets/{tid}/messages", {"body": "A reply is conversation, not activity"})
    items = client.get(f"/api/v1/tickets/{tid}/activity").body["items"]
    assert [i["type"] for i in items] == ["ticket.created", "ticket.assigned", "ticket.status_changed",
                                          "ticket.status_changed", "ticket.priority_changed", "ticket.tags_changed"]
    assert items[3]["from_status"] == "assigned" and items[3]["to_status"] == "in_progress"
    assert items[3]["actor_name"] == "alice" and items[3]["at"]


def test_customer_panel_shows_the_requester_their_tickets_and_related_tickets(agent, create, db):
    client, _ = agent
    first = create(client, subject="Old order")
    second = create(client, subject="New order")
    other = create(client, subject="Someone else", requester_email="dave@elsewhere.test")
    db.execute("UPDATE customers SET tier = 'premium', name = 'Carol Jones' WHERE email = 'carol@customer.test'")
    assert client.post(f"/api/v1/tickets/{first['id']}/status", {"status": "duplicate", "duplicate_of": second["ref"]}).status == 200
    panel = client.get(f"/api/v1/tickets/{second['ref']}/customer-panel").body
    assert panel["requester"]["name"] == "Carol Jones" and panel["requester"]["tier"] == "premium"
    assert panel["requester"]["tickets_total"] == 2
    assert panel["open_tickets"] == []
    assert [t["ref"] for t in panel["recent_tickets"]] == [first["ref"]]
    assert other["ref"] not in {t["ref"] for t in panel["open_tickets"] + panel["recent_tickets"]}
    dup = client.get(f"/api/v1/tickets/{first['id']}/customer-panel").body
    assert [(r["relation"], r["ref"]) for r in dup["related"]] == [("duplicate_of", second["ref"])]
    assert [t["ref"] for t in dup["open_tickets"]] == [second["ref"]]

    assert client.post(f"/api/v1/tickets/{other['id']}/merge", {"into": second["ref"], "confirm_different_requesters": True}).status == 200
    merged = client.get(f"/api/v1/tickets/{second['id']}/customer-panel").body
    assert ("merged_from", other["ref"]) in [(r["relation"], r["ref"]) for r in merged["related"]]
    gone = client.get(f"/api/v1/tickets/{other['id']}/customer-panel")
    assert gone.status == 410 and gone.body["merged_into"] == second["id"]


# -- macros ----------------------------------------------------------------------------------------------
def test_macros_personal_and_shared(api, agent, make_agent, create):
    alice, _ = agent
    lead, _ = _lead(api, make_agent)
    _, bob_email = make_agent("bob")
    bob = api.as_claims(bob_email)
    mine = alice.post("/api/v1/macros", {"name": "My thanks", "body": "Thanks {{requester.first_name}}!"})
    assert mine.status == 201, mine.body
    refused = alice.post("/api/v1/macros", {"name": "For all", "shared": True, "body": "Hi"})
    assert refused.status == 403 and "leads and admins" in refused.body["detail"]
    shared = lead.post("/api/v1/macros", {"name": "Ask for order number", "shared": True,
                                          "body": "Hi {{requester.name}}, what is your order number? ({{ticket.ref}})",
                                          "set_status": "waiting_on_customer", "add_tags": ["needs-info"]})
    assert shared.status == 201, shared.body
    assert [m["name"] for m in alice.get("/api/v1/macros").body["items"]] == ["My thanks", "Ask for order number"]
    assert [m["name"] for m in bob.get("/api/v1/macros").body["items"]] == ["Ask for order number"]
    assert bob.get(f"/api/v1/macros/{mine.body['id']}").status == 404
    assert alice.patch(f"/api/v1/macros/{shared.body['id']}", {"name": "Mine now"}).status == 403
    renamed = alice.patch(f"/api/v1/macros/{mine.body['id']}", {"name": "Thanks", "set_status": "resolved"})
    assert renamed.status == 200 and renamed.body["set_status"] == "resolved" and renamed.body["body"].startswith("Thanks")
    dup = alice.post("/api/v1/macros", {"name": "thanks", "body": "x"})
    assert dup.status == 409
    for bad, words in (({"name": "x", "body": "Hi {{customer.name}}"}, "allowed: {{requester.name}}"),
                       ({"name": "x"}, "must do something"),
                       ({"name": "x", "set_status": "closed"}, "set_status")):
        answer = alice.post("/api/v1/macros", bad)
        assert answer.status == 422 and words in str(answer.body), answer.body
    assert alice.delete(f"/api/v1/macros/{mine.body['id']}").status == 204
    assert alice.get(f"/api/v1/macros/{mine.body['id']}").status == 404


def test_applying_a_macro_is_one_write_doing_everything_it_says(api, agent, make_agent, create, db, clock):
    client, agent_id = agent
    db.execute("INSERT INTO sla_policies (name, targets, position) VALUES ('Calendar', :t::jsonb, 1)",
               {"t": '{"first_response": {"seconds": 3600, "business": false}, "resolution": {"seconds": 86400, "business": false}}'})
    ticket = create(client, tags=["vip"])
    db.execute("UPDATE customers SET name = 'Carol Jones' WHERE email = 'carol@customer.test'")
    macro = client.post("/api/v1/macros", {"name": "Need details", "body": "Hello {{requester.first_name}}, about "
                                           "{{ticket.ref}}: which model is it? {{agent.name}}",
                                           "set_status": None, "set_priority": "high", "add_tags": ["needs-info"],
                                           "remove_tags": ["vip"], "assign_to_me": True}).body
    preview = client.get(f"/api/v1/tickets/{ticket['ref']}/macros/{macro['id']}/preview").body
    assert preview["rendered_body"] == f"Hello Carol, about {ticket['ref']}: which model is it? alice"

    client.get("/api/v1/agents/me")
    db.stats.calls = 0
    applied = client.post(f"/api/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply", {})
    assert applied.status == 200, applied.body
    assert db.stats.calls <= 2  # ONE statement, plus the follow-up (published events, SLA deadlines)
    after = applied.body["ticket"]
    assert (after["status"], after["assignee_id"], after["priority"], after["tags"]) == (
        "assigned", str(agent_id), "high", ["needs-info"])
    assert after["first_response_at"] is not None
    [message] = [m for m in client.get(f"/api/v1/tickets/{ticket['id']}").body["messages"] if m["author_type"] == "agent"]
    assert message["body"] == preview["rendered_body"] and message["visibility"] == "public"
    kinds = [r["event_type"] for r in db.query("SELECT event_type FROM outbox WHERE ticket_id = :t::uuid ORDER BY seq",
                                               {"t": ticket["id"]})]
    for kind in ("ticket.replied", "ticket.assigned", "ticket.priority_changed", "ticket.tags_changed",
                 "ticket.status_changed", "outbound.requested"):
        assert kind in kinds
    clocks = {r["kind"]: r["state"] for r in db.query("SELECT kind, state FROM sla_targets WHERE ticket_id = :t::uuid",
                                                        {"t": ticket["id"]})}
    assert clocks == {"first_response": "met", "resolution": "running"}

    # then: start work, and a macro that waits on the customer pauses the resolution clock
    assert client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "in_progress"}).status == 200
    wait = client.post("/api/v1/macros", {"name": "Wait", "body": "Please send a photo.",
                                          "set_status": "waiting_on_customer"}).body
    seen = max(m["position"] for m in client.get(f"/api/v1/tickets/{ticket['id']}").body["messages"])
    done = client.post(f"/api/v1/tickets/{ticket['id']}/macros/{wait['id']}/apply", {"seen_position": seen})
    assert done.status == 200 and done.body["ticket"]["status"] == "waiting_on_customer"
    assert db.query_one("SELECT state FROM sla_targets WHERE ticket_id = :t::uuid AND kind = 'resolution'",
                        {"t": ticket["id"]})["state"] == "paused"
    stale = client.post(f"/api/v1/tickets/{ticket['id']}/macros/{wait['id']}/apply", {"seen_position": seen})
    assert stale.status == 409 and stale.body["reason"] == "newer_messages"


def test_a_macro_status_out_of_reach_changes_nothing(agent, create, db):
    client, _ = agent
    ticket = create(client)  # new, unassigned
    macro = client.post("/api/v1/macros", {"name": "Resolve", "body": "Fixed.", "set_status": "resolved"}).body
    answer = client.post(f"/api/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply", {})
    assert answer.status == 422 and answer.body["to"] == "resolved" and "assigned" in answer.body["detail"]
    assert db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = :t::uuid", {"t": ticket["id"]})["n"] == 1
    assert client.get(f"/api/v1/tickets/{ticket['id']}").body["status"] == "new"


def test_placeholders_are_the_same_in_python_and_sql():
    migration = Path(workspace.__file__).parents[1] / "db" / "migrations" / "1180_agent_workspace.sql"
    in_sql = set(re.findall(r"'\{\{([a-z_.]+)\}\}'", migration.read_text()))
    assert in_sql == set(workspace.PLACEHOLDERS)


# -- assignment semantics agents expect (issue 18, item 13) --------------------------------------------
def test_assignment_semantics_hold_through_the_api(agent, create, db):
    client, agent_id = agent
    ticket = create(client)
    bare = client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "assigned"})
    assert bare.status == 422 and "assign" in bare.body["detail"]  # assigned needs an assignee: use assign
    reply = client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "On it"})
    assert reply.body["ticket"]["assignee_id"] == str(agent_id) and reply.body["ticket"]["status"] == "assigned"
    client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "in_progress"})
    client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "waiting_on_customer"})
    unnamed = client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "duplicate"})
    assert unnamed.status == 422 and "duplicate_of is required" in unnamed.body["detail"]
    original = create(client, subject="The first report")
    dup = client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": "duplicate", "duplicate_of": original["ref"]})
    assert dup.status == 200 and dup.body["status"] == "duplicate"
    assert client.get(f"/api/v1/tickets/{ticket['id']}/customer-panel").body["related"][0]["ref"] == original["ref"]
    # spam can be marked from any open status (here: waiting on the customer)
    spam = create(client, subject="Buy now")
    client.post(f"/api/v1/tickets/{spam['id']}/assign", {"agent_id": str(agent_id)})
    client.post(f"/api/v1/tickets/{spam['id']}/status", {"status": "in_progress"})
    client.post(f"/api/v1/tickets/{spam['id']}/status", {"status": "waiting_on_customer"})
    assert client.post(f"/api/v1/tickets/{spam['id']}/status", {"status": "spam"}).status == 200

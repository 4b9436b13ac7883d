"""Triggers through the API: create/list/get/change/delete with validation errors naming the field,
roles (lead reads and dry-runs, admin writes), the dry run (what would fire and do, nothing changed)
and a trigger's firings."""
from __future__ import annotations

import uuid

import pytest

from helpdesk.events.schemas import Event
from helpdesk.triggers.deliver import TriggerDelivery
from helpdesk.triggers.engine import TriggerEngine

URGENT = {"name": "Outage words", "events": ["ticket_created", "customer_replied"],
          "conditions": {"all": [{"field": "subject_or_body", "op": "contains_any", "value": ["outage", "is down"]}],
                         "any": []},
          "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["Outage"]}]}


def test_crud_in_evaluation_order(admin):
    root, root_id = admin
    created = root.post("/api/v1/triggers", {**URGENT, "position": 20})
    assert created.status == 201, created.body
    doc = created.body
    assert doc["actions"][1] == {"type": "add_tags", "value": ["outage"]} and doc["created_by"] == str(root_id)
    first = root.post("/api/v1/triggers", {"name": "Tag VIP", "position": 10, "events": ["ticket_created"],
                                           "conditions": {"all": [{"field": "tier", "op": "is", "value": "enterprise"}]},
                                           "actions": [{"type": "add_tags", "value": ["vip"]}]}).body
    assert [t["name"] for t in root.get("/api/v1/triggers").body["items"]] == ["Tag VIP", "Outage words"]
    assert root.get(f"/api/v1/triggers/{doc['id']}").body["name"] == "Outage words"
    patched = root.patch(f"/api/v1/triggers/{first['id']}", {"position": 30, "is_active": False})
    assert patched.status == 200 and patched.body["is_active"] is False and patched.body["events"] == ["ticket_created"]
    assert [t["name"] for t in root.get("/api/v1/triggers").body["items"]] == ["Outage words", "Tag VIP"]
    assert root.post("/api/v1/triggers", URGENT).status == 409  # names are unique
    assert root.delete(f"/api/v1/triggers/{first['id']}").status == 204
    assert root.get(f"/api/v1/triggers/{first['id']}").status == 404
    assert root.delete(f"/api/v1/triggers/{first['id']}").status == 404
    assert root.get("/api/v1/triggers/not-a-uuid").status == 422


def test_bad_definitions_are_refused_naming_the_field_and_change_nothing(admin):
    root, _ = admin
    cases = [
        ({**URGENT, "events": ["ticket_deleted"]}, "events"),
        ({**URGENT, "conditions": {"all": [{"field": "colour", "op": "is", "value": "red"}]}}, "conditions.all.0.field"),
        ({**URGENT, "conditions": {"all": [{"field": "priority", "op": "contains_any", "value": ["x"]}]}}, "op"),
        ({**URGENT, "conditions": {"all": [{"field": "priority", "op": "is", "value": "critical"}]}}, "critical"),
        ({**URGENT, "conditions": {"any": [{"field": "hours_since_created", "op": "greater_than", "value": -1}]}}, "hours"),
        ({**URGENT, "actions": []}, "actions"),
        ({**URGENT, "actions": [{"type": "explode"}]}, "explode"),
        ({**URGENT, "actions": [{"type": "set_status", "value": "merged"}]}, "merged"),
        ({**URGENT, "actions": [{"type": "set_assignee", "agent_id": "bob"}]}, "agent_id"),
        ({**URGENT, "actions": [{"type": "send_mail", "to": "team", "subject": "s", "body": "b"}]}, "team_id"),
        ({**URGENT, "actions": [{"type": "send_mail", "to": "requester", "subject": "{{ticket.secret}}", "body": "b"}]},
         "ticket.secret"),
        ({**URGENT, "actions": [{"type": "post_slack", "channel": "#general", "text": "hi"}]}, "channel"),
        ({**URGENT, "extra": 1}, "extra"),
    ]
    for body, named in cases:
        answer = root.post("/api/v1/triggers", body)
        assert answer.status == 422, (body, answer.body)
        assert named in str(answer.body), (named, answer.body)
    assert root.get("/api/v1/triggers").body["items"] == []
    created = root.post("/api/v1/triggers", URGENT).body
    bad = root.patch(f"/api/v1/triggers/{created['id']}", {"actions": [{"type": "set_priority", "value": "asap"}]})
    assert bad.status == 422 and "actions.0" in bad.body["detail"] and "'urgent'" in bad.body["detail"]
    assert root.patch(f"/api/v1/triggers/{created['id']}", {"name": None}).status == 422
    assert root.get(f"/api/v1/triggers/{created['id']}").body["actions"] == created["actions"]


def test_roles_lead_reads_and_dry_runs_admin_writes(api, admin, make_agent, create):
    root, _ = admin
    trigger = root.post("/api/v1/triggers", URGENT).body
    agent_id, email = make_agent("al")
    lead_id, lead_email = make_agent("lee", role="lead")
    agent, lead = api.as_claims(email, "agent"), api.as_claims(lead_email, "lead")
    assert agent.get("/api/v1/triggers").status == 403
    assert agent.post("/api/v1/triggers/dry-run", {"ticket": "TKT-1", "event": "ticket_created"}).status == 403
    assert lead.get("/api/v1/triggers").status == 200
    assert lead.post("/api/v1/triggers", {**URGENT, "name": "other"}).status == 403
    assert lead.patch(f"/api/v1/triggers/{trigger['id']}", {"is_active": False}).status == 403
    assert lead.delete(f"/api/v1/triggers/{trigger['id']}").status == 403
    ticket = create(root, subject="Site is down")
    assert lead.post("/api/v1/triggers/dry-run", {"ticket": ticket["ref"], "event": "ticket_created"}).status == 200


def test_dry_run_shows_what_would_fire_and_do_and_changes_nothing(admin, create, db):
    root, _ = admin
    root.post("/api/v1/triggers", {**URGENT, "position": 1})
    root.post("/api/v1/triggers", {"name": "Then page", "position": 2, "events": ["ticket_created"],
                                   "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
                                   "actions": [{"type": "post_slack", "channel": "C0PAGER", "text": "{{ticket.ref}}"}]})
    root.post("/api/v1/triggers", {"name": "Billing", "position": 3, "events": ["ticket_created"],
                                   "conditions": {"all": [{"field": "subject", "op": "contains_any", "value": ["invoice"]}]},
                                   "actions": [{"type": "add_tags", "value": ["billing"]}]})
    ticket = create(root, subject="Our site is down", body="Total outage since 9:00")
    before = root.get(f"/api/v1/tickets/{ticket['id']}").body
    audit_before = db.query_one("SELECT count(*) AS n FROM ticket_audit")["n"]
    answer = root.post("/api/v1/triggers/dry-run", {"ticket": ticket["ref"], "event": "ticket_created"})
    assert answer.status == 200, answer.body
    result = answer.body
    assert [(t["name"], t["fires"]) for t in result["triggers"]] == [("Outage words", True), ("Then page", True),
                                                                     ("Billing", False)]
    assert [a["effect"] for a in result["triggers"][0]["actions"]] == ["priority normal -> urgent", "add tags outage"]
    assert result["triggers"][2]["unmet_conditions"] == ["subject contains_any invoice"]
    assert result["ticket_after"]["priority"] == "urgent" and result["ticket_after"]["tags"] == ["outage"]
    after = root.get(f"/api/v1/tickets/{ticket['id']}").body
    assert (after["priority"], after["tags"], after["version"]) == (before["priority"], before["tags"], before["version"])
    assert db.query_one("SELECT count(*) AS n FROM ticket_audit")["n"] == audit_before
    assert db.query_one("SELECT count(*) AS n FROM trigger_firings")["n"] == 0


def test_dry_run_of_a_draft_and_its_errors(admin, create):
    root, _ = admin
    ticket = create(root, subject="Refund please")
    draft = {"name": "draft", "events": ["customer_replied"],
             "conditions": {"all": [{"field": "status", "op": "in", "value": ["new", "in_progress"]}]},
             "actions": [{"type": "set_status", "value": "resolved"}]}
    result = root.post("/api/v1/triggers/dry-run", {"ticket": ticket["id"], "event": "customer_replied",
                                                    "trigger": draft}).body
    [only] = result["triggers"]
    assert only["fires"] is True and only["actions"][0]["refused"].startswith("not a transition")
    assert root.post("/api/v1/triggers/dry-run", {"ticket": "TKT-999", "event": "ticket_created"}).status == 404
    assert root.post("/api/v1/triggers/dry-run", {"ticket": "nonsense", "event": "ticket_created"}).status == 422
    assert root.post("/api/v1/triggers/dry-run", {"ticket": ticket["ref"], "event": "ticket_closed"}).status == 422
    bad = root.post("/api/v1/triggers/dry-run", {"ticket": ticket["ref"], "event": "ticket_created",
                                                 "trigger": {**draft, "actions": [{"type": "set_team"}]}})
    assert bad.status == 422 and "team_id" in str(bad.body)


@pytest.fixture
def engine(db, clock, publisher):
    """The engine as the notifier runs it (these triggers send nothing: no mail or Slack client)."""
    delivery = TriggerDelivery(ses_client=None, clock=clock, support_domain="example.com", signing_keys=None,
                               web_base_url="")
    return TriggerEngine(db, clock, delivery, publisher=publisher)


def test_firings_of_a_trigger(admin, create, publisher, engine):
    root, _ = admin
    trigger = root.post("/api/v1/triggers", URGENT).body
    ticket = create(root, subject="Everything is down", body="outage")
    for row in [r for r in publisher.published if r["event_type"] == "ticket.created"]:
        engine.handle(Event.from_outbox_row(row))
    [firing] = root.get(f"/api/v1/triggers/{trigger['id']}/firings").body["items"]
    assert firing["number"] == ticket["number"] and firing["state"] == "done" and firing["depth"] == 0
    assert [o["result"] for o in firing["outcomes"]] == ["done", "done"]
    assert root.get(f"/api/v1/triggers/{trigger['id']}/firings", query={"limit": "0"}).status == 422
    assert root.get(f"/api/v1/triggers/{uuid.uuid4()}/firings").status == 404
    ticket_now = root.get(f"/api/v1/tickets/{ticket['id']}").body
    assert ticket_now["priority"] == "urgent"


def drain(publisher, engine, limit: int = 40) -> list:
    """Deliver every published event to the engine as the notify queue would, the triggers' own events too."""
    delivered = []
    while publisher.published:
        row = publisher.published.pop(0)
        engine.handle(Event.from_outbox_row(row))
        delivered.append(row)
        assert len(delivered) <= limit, "the triggers looped"
    return delivered


def test_triggers_that_would_loop_fire_once_each_and_redelivery_changes_nothing(admin, create, publisher, engine, db):
    root, _ = admin
    undo = {"events": ["ticket_updated"], "actions": [{"type": "set_priority", "value": "low"}],
            "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]}}
    redo = {"events": ["ticket_updated"], "actions": [{"type": "set_priority", "value": "urgent"},
                                                      {"type": "add_tags", "value": ["bounced"]}],
            "conditions": {"all": [{"field": "priority", "op": "is", "value": "low"}]}}
    root.post("/api/v1/triggers", {"name": "undo", **undo})
    root.post("/api/v1/triggers", {"name": "redo", **redo})
    ticket = create(root)
    drain(publisher, engine)
    assert root.post(f"/api/v1/tickets/{ticket['id']}/priority", {"priority": "urgent"}).status == 200
    delivered = drain(publisher, engine)
    after = root.get(f"/api/v1/tickets/{ticket['id']}").body
    assert after["priority"] == "urgent" and after["tags"] == ["bounced"]
    fired = db.query("SELECT data ->> 'trigger' AS name, (data ->> 'depth')::int AS depth FROM ticket_audit "
                     "WHERE event_type = 'trigger.fired' ORDER BY id")
    assert [(f["name"], f["depth"]) for f in fired] == [("undo", 0), ("redo", 1)]
    for row in delivered:  # the queue delivers everything again
        engine.handle(Event.from_outbox_row(row))
    assert publisher.published == [] and len(db.query("SELECT 1 FROM ticket_audit WHERE event_type = 'trigger.fired'")) == 2

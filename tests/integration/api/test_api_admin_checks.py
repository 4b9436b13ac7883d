"""The console's checks, computed by the server: a schedule's open hours over the next days (lunch
breaks, holidays, special days, time zones) and the SLA deadlines a ticket created now would get.
And every admin change of the existing resources lands in the admin audit trail with its author."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
LUNCH = {"timezone": "Europe/Berlin", "hours": {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in WEEKDAYS},
         "holidays": [], "special_hours": {}}


def test_open_hours_show_lunch_breaks_holidays_and_special_days(agent, clock):
    client, _ = agent
    today = clock.now().astimezone(timezone.utc).date()
    doc = {**LUNCH, "holidays": [today.isoformat()]}
    answer = client.post("/api/v1/schedules/open-hours", {"document": doc, "days": 7})
    assert answer.status == 200, answer.body
    days = answer.body["days"]
    assert len(days) == 7 and answer.body["timezone"] == "Europe/Berlin"
    first = days[0]
    assert first["holiday"] is True and first["intervals"] == [] and first["open_seconds"] == 0
    workdays = [d for d in days[1:] if d["weekday"] not in ("Saturday", "Sunday")]
    assert workdays and all(d["open_seconds"] == 7 * 3600 for d in workdays)
    assert [(i["local_start"], i["local_end"]) for i in workdays[0]["intervals"]] == [("09:00", "12:00"), ("13:00", "17:00")]
    weekend = [d for d in days if d["weekday"] in ("Saturday", "Sunday")]
    assert all(d["open_seconds"] == 0 for d in weekend)
    # A special day replaces the weekly hours; 24:00 reads as the end of the day.
    special_day = days[2]["date"]
    doc2 = {**LUNCH, "special_hours": {special_day: [["10:00", "24:00"]]}}
    day = {d["date"]: d for d in client.post("/api/v1/schedules/open-hours", {"document": doc2}).body["days"]}[special_day]
    assert day["special"] is True and [(i["local_start"], i["local_end"]) for i in day["intervals"]] == [("10:00", "24:00")]


@pytest.mark.parametrize("document, field", [
    ({"timezone": "Mars/Olympus", "hours": {"mon": [["09:00", "17:00"]]}}, "timezone"),
    ({"timezone": "UTC", "hours": {"mon": [["09:00", "25:00"]]}}, "hours.mon"),
    ({"timezone": "UTC", "hours": {"funday": [["09:00", "17:00"]]}}, "hours.funday"),
])
def test_open_hours_of_a_bad_schedule_name_the_field(agent, document, field):
    client, _ = agent
    answer = client.post("/api/v1/schedules/open-hours", {"document": document})
    assert answer.status == 422 and answer.body["field"].startswith(field), answer.body


def test_deadline_preview_uses_the_policy_match_and_business_hours(admin, clock):
    root, _ = admin
    schedule = root.post("/api/v1/schedules", {"name": "Berlin", "document": LUNCH}).body
    calendar = root.post("/api/v1/sla-policies", {"name": "Urgent 24/7", "position": 1, "priority": "urgent",
                                                  "targets": {"first_response": {"seconds": 3600, "business": False}}}).body
    business = root.post("/api/v1/sla-policies", {"name": "Everything else", "position": 2, "schedule_id": schedule["id"],
                                                  "targets": {"first_response": {"seconds": 4 * 3600},
                                                              "resolution": {"seconds": 16 * 3600}}}).body
    now = clock.now()
    urgent = root.post("/api/v1/sla-policies/preview", {"priority": "urgent"}).body
    assert urgent["policy"]["id"] == calendar["id"]
    due = datetime.fromisoformat(urgent["deadlines"]["first_response"]["due_at"])
    assert (due - now).total_seconds() == 3600 and urgent["deadlines"]["first_response"]["business"] is False
    normal = root.post("/api/v1/sla-policies/preview", {"priority": "normal", "channel": "web"}).body
    assert normal["policy"]["id"] == business["id"] and normal["schedule_id"] == schedule["id"]
    fr = normal["deadlines"]["first_response"]
    assert fr["business"] is True and datetime.fromisoformat(fr["due_at"]) - now >= timedelta(hours=4)
    assert set(normal["deadlines"]) == {"first_response", "resolution"}
    bad = root.post("/api/v1/sla-policies/preview", {"priority": "whenever"})
    assert bad.status == 422 and bad.body["errors"][0]["loc"][-1] == "priority"


def test_every_admin_change_is_audited_with_its_author(admin, agent):
    root, root_id = admin
    _, agent_id = agent
    team = root.post("/api/v1/teams", {"name": "Audited"}).body
    root.patch(f"/api/v1/teams/{team['id']}", {"assignment_mode": "pull"})
    new_agent = root.post("/api/v1/agents", {"email": "new@example.com", "name": "New"}).body
    root.patch(f"/api/v1/agents/{new_agent['id']}", {"capacity": 3})
    root.put(f"/api/v1/agents/{agent_id}/out-of-office", {"start": "2026-01-01T00:00:00Z", "delegate_id": str(root_id)})
    root.delete(f"/api/v1/agents/{agent_id}/out-of-office")
    schedule = root.post("/api/v1/schedules", {"name": "S", "document": LUNCH}).body
    root.put(f"/api/v1/schedules/{schedule['id']}", {"name": "S2", "document": LUNCH})
    policy = root.post("/api/v1/sla-policies", {"name": "P", "targets": {"first_response": {"seconds": 600}}}).body
    root.put(f"/api/v1/sla-policies/{policy['id']}", {"name": "P", "targets": {"first_response": {"seconds": 900}}})
    root.delete(f"/api/v1/sla-policies/{policy['id']}")
    rule = root.post("/api/v1/routing-rules", {"name": "R", "team_id": team["id"]}).body
    root.patch(f"/api/v1/routing-rules/{rule['id']}", {"position": 5})
    root.delete(f"/api/v1/routing-rules/{rule['id']}")
    article = root.post("/api/v1/kb/articles", {"title": "T", "body": "B", "is_published": False}).body
    root.patch(f"/api/v1/kb/articles/{article['id']}", {"is_published": True})
    root.delete(f"/api/v1/kb/articles/{article['id']}")
    # the admin's changes (the fixtures' agents are in the trail too, as the test factories')
    trail = root.get("/api/v1/admin/audit", query={"limit": "200", "actor": str(root_id)}).body["items"]
    seen = [(e["action"], e["resource"]) for e in reversed(trail)]
    assert seen == [("create", "team"), ("update", "team"), ("create", "agent"), ("update", "agent"),
                    ("update", "out_of_office"), ("delete", "out_of_office"), ("create", "schedule"), ("update", "schedule"),
                    ("create", "sla_policy"), ("update", "sla_policy"), ("delete", "sla_policy"),
                    ("create", "routing_rule"), ("update", "routing_rule"), ("delete", "routing_rule"),
                    ("create", "kb_article"), ("update", "kb_article"), ("delete", "kb_article")]
    assert {e["actor_id"] for e in trail} == {str(root_id)}
    team_update = next(e for e in trail if e["resource"] == "team" and e["action"] == "update")
    assert team_update["data"] == {"assignment_mode": "pull"} and team_update["resource_id"] == team["id"]
    # Filters and paging.
    only = root.get("/api/v1/admin/audit", query={"resource": "team", "resource_id": team["id"]}).body["items"]
    assert [e["action"] for e in only] == ["update", "create"]
    page = root.get("/api/v1/admin/audit", query={"limit": "5"}).body
    older = root.get("/api/v1/admin/audit", query={"limit": "5", "before": page["next_cursor"]}).body["items"]
    assert len(older) == 5 and older[0]["id"] < page["items"][-1]["id"]
    bad = root.get("/api/v1/admin/audit", query={"resource": "tickets"})
    assert bad.status == 422 and bad.body["errors"][0]["loc"][-1] == "resource"


def test_a_refused_change_is_not_audited(admin, agent):
    root, root_id = admin
    client, _ = agent
    assert root.post("/api/v1/teams", {"name": ""}).status == 422
    assert client.post("/api/v1/teams", {"name": "Sneaky"}).status == 403
    assert root.patch(f"/api/v1/teams/{uuid.uuid4()}", {"name": "Ghost"}).status == 404
    assert root.get("/api/v1/admin/audit", query={"actor": str(root_id)}).body["items"] == []


def test_deadline_preview_for_a_new_address_of_an_organization_uses_its_contract_and_tier(admin):
    root, _ = admin
    contract = root.post("/api/v1/sla-policies", {"name": "Contract", "position": 99,
                                                  "targets": {"first_response": {"seconds": 600, "business": False}}}).body
    vip = root.post("/api/v1/sla-policies", {"name": "VIP tier", "position": 1, "tier": "enterprise",
                                             "targets": {"first_response": {"seconds": 900, "business": False}}}).body
    root.post("/api/v1/sla-policies", {"name": "Everyone", "position": 2, "targets": {"first_response": {"seconds": 7200}}})
    root.post("/api/v1/organizations", {"name": "Contracted", "domains": ["contracted.example"], "sla_policy_id": contract["id"]})
    root.post("/api/v1/organizations", {"name": "Tiered", "domains": ["tiered.example"], "tier": "enterprise"})
    by_contract = root.post("/api/v1/sla-policies/preview", {"customer_email": "new@contracted.example"}).body
    assert by_contract["policy"]["id"] == contract["id"] and by_contract["policy"]["contract"] is True
    by_tier = root.post("/api/v1/sla-policies/preview", {"customer_email": "new@tiered.example"}).body
    assert by_tier["policy"]["id"] == vip["id"]
    nobody = root.post("/api/v1/sla-policies/preview", {"customer_email": "new@elsewhere.example"}).body
    assert nobody["policy"]["name"] == "Everyone"


def test_trigger_and_mail_template_changes_are_audited(admin, make_team):
    root, root_id = admin
    trigger = root.post("/api/v1/triggers", {"name": "Audited trigger", "events": ["ticket_created"],
                                             "conditions": {"all": [{"field": "tier", "op": "is", "value": "enterprise"}]},
                                             "actions": [{"type": "add_tags", "value": ["vip"]}]})
    assert trigger.status == 201, trigger.body
    root.patch(f"/api/v1/triggers/{trigger.body['id']}", {"position": 3})
    root.delete(f"/api/v1/triggers/{trigger.body['id']}")
    team = make_team("templated")
    assert root.put(f"/api/v1/teams/{team}/mail-templates/acknowledgement",
                    {"subject": "Got it", "body_text": "Hi {{customer_name}}"}).status == 200
    root.delete(f"/api/v1/teams/{team}/mail-templates/acknowledgement")
    # the admin's changes (the factory's team is in the trail too, as the factory's)
    trail = root.get("/api/v1/admin/audit", query={"actor": str(root_id)}).body["items"]
    assert [(e["action"], e["resource"]) for e in reversed(trail)] == [
        ("create", "trigger"), ("update", "trigger"), ("delete", "trigger"),
        ("update", "mail_template"), ("delete", "mail_template")]
    assert trail[1]["resource_id"] == f"{team}/acknowledgement" and trail[1]["data"]["subject"] == "Got it"
    assert {e["actor_id"] for e in trail} == {str(root_id)}

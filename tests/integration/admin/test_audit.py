"""The admin audit trail against the real PostgreSQL: a change records itself (write_admin_audit,
migration 1257) in the statement that makes it, so a change and its audit row are one call and never
apart, and a refused change leaves no row."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Callable

import pytest

from helpdesk import errors
from helpdesk.admin import Agents, Customers, KbArticles, Teams
from helpdesk.admin.audit import AdminAudit
from helpdesk.admin.mail_templates import MailTemplates
from helpdesk.admin.organizations import Organizations
from helpdesk.auth import Principal
from helpdesk.routing.assignment import Assignment
from helpdesk.routing.rules import RoutingRules
from helpdesk.sla.policies import SlaPolicies
from helpdesk.sla.schedule_store import Schedules
from helpdesk.triggers.store import Triggers

ADMIN = Principal(email="root@example.com", role="admin", agent_id=uuid.UUID(int=1))
HOURS = {"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}}


def trail(db, **filters) -> list[dict]:
    return list(reversed(AdminAudit(db, None).list(**filters)))  # type: ignore[arg-type]


def test_a_team_change_and_its_audit_row_are_one_call(db, clock):
    teams = Teams(db, clock)
    db.stats.calls = 0
    team = teams.create({"name": "Billing", "assignment_mode": "pull"}, by=ADMIN)
    teams.update(team["id"], {"is_default": True}, by=ADMIN)
    assert db.stats.calls == 2
    assert [(e["action"], e["resource"], e["resource_id"], e["data"]) for e in trail(db)] == [
        ("create", "team", team["id"], {"name": "Billing", "assignment_mode": "pull"}),
        ("update", "team", team["id"], {"is_default": True})]
    assert {(e["actor_email"], e["actor_role"], e["actor_id"], e["occurred_at"]) for e in trail(db)} == {
        ("root@example.com", "admin", str(ADMIN.agent_id), clock.now())}


def _every_admin_write(db, clock, factories, admin: Principal) -> list[tuple[str, str, Callable[[], Any]]]:
    """(action, resource, the write) for every admin service that records itself, in an order that works;
    `admin` is an agent that exists (a mail template names its author)."""
    team = factories.team("support")
    made: dict[str, Any] = {}

    def keep(name: str, value: Any) -> Any:
        made[name] = value
        return value

    customer = db.query_one("INSERT INTO customers (email) VALUES ('kim@example.com') RETURNING id")["id"]
    quarantined = db.query_one("INSERT INTO email_quarantine (message_id, reason, from_email, subject, created_at) "
                               "VALUES ('<q@x>', 'spam', 'spam@x.test', 'Cheap', now()) RETURNING id")["id"]
    from helpdesk.admin import quarantine
    from helpdesk.intake import slack

    rules, policies, schedules = RoutingRules(db, clock), SlaPolicies(db, clock), Schedules(db, clock)
    triggers, kb, orgs, agents = Triggers(db, clock), KbArticles(db, clock), Organizations(db, clock), Agents(db, clock)
    templates = MailTemplates(db, clock)
    return [
        ("create", "agent", lambda: keep("agent", agents.create({"email": "new@example.com", "name": "New"}, by=admin))),
        ("update", "agent", lambda: agents.update(made["agent"]["id"], {"capacity": 3}, by=admin)),
        ("update", "out_of_office", lambda: Assignment(db, clock).set_out_of_office(
            made["agent"]["id"], clock.now() + timedelta(days=1), None, by=admin)),  # later: no handover now
        ("delete", "out_of_office", lambda: Assignment(db, clock).clear_out_of_office(made["agent"]["id"], by=admin)),
        ("create", "schedule", lambda: keep("schedule", schedules.create({"name": "S", "document": HOURS}, by=admin))),
        ("update", "schedule", lambda: schedules.update(made["schedule"]["id"], {"name": "S2", "document": HOURS}, by=admin)),
        ("create", "sla_policy", lambda: keep("policy", policies.create(
            {"name": "P", "targets": {"first_response": {"seconds": 600}}}, by=admin))),
        ("update", "sla_policy", lambda: policies.update(made["policy"]["id"], {
            "name": "P", "targets": {"first_response": {"seconds": 900}}}, by=admin)),
        ("delete", "sla_policy", lambda: policies.delete(made["policy"]["id"], by=admin)),
        ("create", "routing_rule", lambda: keep("rule", rules.create({"name": "R", "team_id": str(team)}, by=admin))),
        ("update", "routing_rule", lambda: rules.update(made["rule"].id, {"position": 5}, by=admin)),
        ("delete", "routing_rule", lambda: rules.delete(made["rule"].id, by=admin)),
        ("create", "kb_article", lambda: keep("article", kb.create({"title": "T", "body": "B"}, by=admin))),
        ("update", "kb_article", lambda: kb.update(made["article"]["id"], {"is_published": False}, by=admin)),
        ("delete", "kb_article", lambda: kb.delete(made["article"]["id"], by=admin)),
        ("create", "organization", lambda: keep("org", orgs.create({"name": "Acme", "domains": ["example.com"]}, by=admin))),
        ("update", "organization", lambda: orgs.update(made["org"]["id"], {"tier": "premium"}, by=admin)),
        ("update", "customer", lambda: Customers(db, clock).update(customer, {"tier": "enterprise"}, by=admin)),
        ("delete", "organization", lambda: orgs.delete(made["org"]["id"], by=admin)),
        ("create", "trigger", lambda: keep("trigger", triggers.create({
            "name": "vip", "events": ["ticket_created"], "actions": [{"type": "add_tags", "value": ["vip"]}]}, by=admin))),
        ("update", "trigger", lambda: triggers.update(made["trigger"].id, {"position": 3}, by=admin)),
        ("delete", "trigger", lambda: triggers.delete(made["trigger"].id, by=admin)),
        ("update", "mail_template", lambda: templates.put(team, "acknowledgement", {"body_text": "Got it"}, by=admin)),
        ("delete", "mail_template", lambda: templates.reset(team, "acknowledgement", by=admin)),
        ("update", "slack_channel", lambda: slack.connect_channel(db, clock, "C0123ABCD", admin, name="support")),
        ("delete", "slack_channel", lambda: slack.disconnect_channel(db, clock, "C0123ABCD", admin)),
        ("delete", "quarantine", lambda: quarantine.delete(db, clock, uuid.UUID(quarantined), admin)),
    ]


def test_every_admin_write_is_one_call_with_its_audit_row(db, clock, factories):
    root = factories.agent("root", role="admin")
    admin = Principal(email=root.email, role="admin", agent_id=root.id)
    writes = _every_admin_write(db, clock, factories, admin)
    for action, resource, write in writes:
        db.stats.calls = 0
        write()
        assert db.stats.calls == 1, (action, resource)
    mine = [(e["action"], e["resource"]) for e in trail(db, actor_id=admin.agent_id)]
    assert mine == [(action, resource) for action, resource, _ in writes]
    by_resource = {(e["action"], e["resource"]): e for e in trail(db, actor_id=admin.agent_id)}
    assert by_resource[("update", "agent")]["data"] == {"capacity": 3}
    assert by_resource[("create", "kb_article")]["data"] == {"title": "T"}  # never the body
    assert by_resource[("delete", "organization")]["data"]["members_released"] == 1  # kim@example.com
    assert by_resource[("update", "mail_template")]["resource_id"].endswith("/acknowledgement")
    assert by_resource[("delete", "quarantine")]["data"]["subject"] == "Cheap"


def test_a_refused_admin_change_leaves_no_audit_row(db, clock):
    teams = Teams(db, clock)
    teams.create({"name": "Billing"}, by=ADMIN)
    with pytest.raises(errors.Conflict):
        teams.create({"name": "Billing"}, by=ADMIN)  # the name is taken
    with pytest.raises(errors.NotFound):
        teams.update(uuid.uuid4(), {"name": "Ghost"}, by=ADMIN)
    with pytest.raises(errors.NotFound):
        RoutingRules(db, clock).delete(uuid.uuid4(), by=ADMIN)
    assert [e["action"] for e in trail(db)] == ["create"]


def test_a_change_whose_audit_row_cannot_be_written_is_not_made(db, clock):
    """The two are one statement: an audit row the database refuses (no actor address) undoes the change."""
    nobody = Principal(email=None, role="admin", agent_id=None)  # type: ignore[arg-type]
    with pytest.raises(errors.DatabaseError):
        Teams(db, clock).create({"name": "Unrecorded"}, by=nobody)
    assert Teams(db, clock).list() == [] and trail(db) == []

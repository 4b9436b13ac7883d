"""RoutingRules CRUD and dry-run against the real database."""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.routing.rules import RoutingRules
from tests.factories import FACTORY


@pytest.fixture
def rules(db, clock):
    return RoutingRules(db, clock)


def test_crud_round_trip(rules, make_team, db):
    billing, support = make_team("billing"), make_team("support")
    r1 = rules.create({"name": "Billing words", "team_id": str(billing),
                       "conditions": {"keywords": ["Invoice", "refund"], "channels": ["email"]}}, by=FACTORY)
    r2 = rules.create({"name": "Everything else", "team_id": str(support)}, by=FACTORY)
    assert (r1.position, r2.position) == (10, 20)
    assert r1.conditions.keywords == ["invoice", "refund"]
    assert [r.id for r in rules.list()] == [r1.id, r2.id]
    moved = rules.update(r2.id, {"position": 5}, by=FACTORY)
    assert [r.id for r in rules.list()] == [r2.id, r1.id]
    assert moved.name == "Everything else" and moved.team_id == support
    off = rules.update(str(r1.id), {"is_active": False, "conditions": {"tags": ["vip"]}}, by=FACTORY)
    assert off.is_active is False and off.conditions.tags == ["vip"] and off.conditions.keywords == []
    assert rules.get(r1.id) == off
    rules.delete(r1.id, by=FACTORY)
    with pytest.raises(errors.NotFound):
        rules.get(r1.id)
    with pytest.raises(errors.NotFound):
        rules.delete(r1.id, by=FACTORY)


def test_bad_input_changes_nothing(rules, make_team, db):
    team = make_team()
    rules.create({"name": "dup", "team_id": str(team)}, by=FACTORY)
    before = db.query("SELECT to_jsonb(r) AS d FROM routing_rules r ORDER BY id")
    with pytest.raises(errors.Conflict, match="already exists"):
        rules.create({"name": "dup", "team_id": str(team)}, by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="team .* does not exist"):
        rules.create({"name": "ghost", "team_id": str(uuid.uuid4())}, by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="conditions.priorities"):
        rules.create({"name": "bad", "team_id": str(team), "conditions": {"priorities": ["asap"]}}, by=FACTORY)
    with pytest.raises(errors.ValidationFailed, match="not a routing rule id"):
        rules.get("nope")
    with pytest.raises(errors.NotFound):
        rules.update(uuid.uuid4(), {"position": 1}, by=FACTORY)
    assert db.query("SELECT to_jsonb(r) AS d FROM routing_rules r ORDER BY id") == before


def test_dry_run_first_match_then_default_team(rules, make_team, db):
    billing, vip, default = make_team("billing"), make_team("vip"), make_team("general", is_default=True)
    rules.create({"name": "enterprise", "team_id": str(vip), "conditions": {"tiers": ["enterprise"]}}, by=FACTORY)
    billing_rule = rules.create({"name": "billing", "team_id": str(billing),
                                 "conditions": {"recipients": ["billing@example.com"]}}, by=FACTORY)
    rules.create({"name": "keyword", "team_id": str(vip), "conditions": {"keywords": ["lawsuit"]}}, by=FACTORY)
    out = rules.dry_run({"channel": "email", "subject": "Invoice", "recipients": ["Billing@example.com"]})
    assert out["rule"].id == billing_rule.id and out["team_id"] == billing and out["matched_by"] == "rule"
    out = rules.dry_run({"channel": "web", "subject": "hello"})
    assert out == {"rule": None, "team_id": default, "matched_by": "default_team", "tier": "standard",
                   "tags": []}
    # The tier comes from the customer when not given.
    db.execute("INSERT INTO customers (email, tier) VALUES ('big@example.com', 'enterprise')")
    db.stats.calls = 0
    out = rules.dry_run({"channel": "web", "subject": "hi", "requester_email": "BIG@example.com",
                         "recipients": ["billing@example.com"]})
    assert out["team_id"] == vip and out["tier"] == "enterprise"
    assert db.stats.calls == 2


def test_dry_run_without_any_team(rules):
    assert rules.dry_run({"channel": "chat"})["team_id"] is None


def test_add_tags_are_cleaned_validated_and_shown_by_a_dry_run(db, clock, make_team):
    team = make_team("es")
    rules = RoutingRules(db, clock)
    rule = rules.create({"name": "es", "team_id": str(team), "conditions": {"keywords": ["hola"]},
                         "add_tags": [" Spanish ", "spanish", "VIP"]}, by=FACTORY)
    assert rule.add_tags == ["spanish", "vip"]
    for bad in ([""], ["x" * 51], ["t"] * 21):
        with pytest.raises(errors.ValidationFailed):
            rules.update(rule.id, {"add_tags": bad}, by=FACTORY)
    assert rules.get(rule.id).add_tags == ["spanish", "vip"]  # nothing changed
    assert rules.update(rule.id, {"add_tags": []}, by=FACTORY).add_tags == []
    rules.update(rule.id, {"add_tags": ["spanish"]}, by=FACTORY)
    run = rules.dry_run({"channel": "web", "body": "Hola!", "tags": ["order"]})
    assert run["team_id"] == team and run["tags"] == ["order", "spanish"]

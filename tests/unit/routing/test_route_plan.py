"""route_plan and shift decisions from a RoutingConfig built in memory (no database)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from helpdesk.routing.config import RoutingConfig, TeamInfo
from helpdesk.routing.intake import route_plan
from helpdesk.routing.models import Rule, RuleConditions
from helpdesk.tickets.models import NewTicket

MONDAY_10_NY = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
WEEKDAYS_NY = {"timezone": "America/New_York", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


def team(name: str, *, default: bool = False, schedule=None) -> TeamInfo:
    return TeamInfo(uuid.uuid4(), name, "push", default, schedule)


def rule(position: int, team_id, **conditions) -> Rule:
    return Rule(id=uuid.uuid4(), name=f"r{position}", position=position, is_active=True,
                conditions=RuleConditions.parse(conditions), team_id=team_id)


def ticket(**kw) -> NewTicket:
    return NewTicket.parse({"channel": "email", "subject": "s", "body": "b", "requester_email": "c@example.com", **kw})


def test_plan_per_tier_only_when_a_rule_looks_at_tiers():
    vip, general = team("vip"), team("general", default=True)
    config = RoutingConfig((rule(10, vip.id, tiers=["enterprise", "premium"]),), {vip.id: vip, general.id: general})
    plan = route_plan(config, ticket(), MONDAY_10_NY)
    assert plan["enterprise"]["team_id"] == plan["premium"]["team_id"] == str(vip.id)
    assert plan["standard"] == {"team_id": str(general.id), "on_shift": True, "rule_id": None, "tags": []}
    config = RoutingConfig((rule(10, vip.id, channels=["email"]),), {vip.id: vip})
    plan = route_plan(config, ticket(), MONDAY_10_NY)
    assert plan["standard"] is plan["enterprise"] and plan["standard"]["team_id"] == str(vip.id)


def test_explicit_team_wins_and_no_team_never_pushes():
    a, b = team("a"), team("b")
    config = RoutingConfig((rule(1, a.id),), {a.id: a, b.id: b})
    assert route_plan(config, ticket(team_id=str(b.id)), MONDAY_10_NY)["standard"]["team_id"] == str(b.id)
    empty = RoutingConfig((), {})
    assert route_plan(empty, ticket(), MONDAY_10_NY)["premium"] == {"team_id": None, "on_shift": False, "rule_id": None, "tags": []}


def test_shift_from_the_team_schedule():
    day, night, broken = team("day", schedule=WEEKDAYS_NY), team("night", schedule={"timezone": "UTC", "hours": {"sun": [["00:00", "24:00"]]}}), \
        team("broken", schedule={"timezone": "Mars/Olympus"})
    config = RoutingConfig((), {t.id: t for t in (day, night, broken)})
    assert config.on_shift(day.id, MONDAY_10_NY) is True
    assert config.on_shift(day.id, datetime(2026, 3, 2, 23, 0, tzinfo=timezone.utc)) is False
    assert config.on_shift(night.id, MONDAY_10_NY) is False
    assert config.on_shift(broken.id, MONDAY_10_NY) is True  # an unreadable schedule must not strand tickets
    assert config.on_shift(uuid.uuid4(), MONDAY_10_NY) is True  # unknown to the cache: let the database decide
    assert config.off_shift_teams(MONDAY_10_NY) == [str(night.id)]

"""The demo organisation of the local stack, seeded idempotently on every start.

Teams Orders, Billing and Technical with their support addresses, agents with skills (an admin
and a lead among them), a business-hours schedule, SLA policies, routing rules and a few KB
articles. Rows are matched by their natural keys (names, emails), so re-running changes nothing
and never overwrites what a user edited through the UI.

Core tables (0001_core.sql) are written with SQL through the Data API here (the local stack's own
seed, not domain code). Routing rules and KB articles belong to other modules: they are created
through `helpdesk.routing.rules.RoutingRules` / `helpdesk.admin.KbArticles` when those exist, and otherwise
skipped with a log line (re-run `python -m local` once they land).
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

from helpdesk.auth import Principal
from helpdesk.db.client import DataApi

log = logging.getLogger("local.seed")

SUPPORT_DOMAIN = "example.com"
ADMIN_EMAIL = "admin@example.com"
# Who the admin audit trail names for the settings the seed creates through the admin services.
SEED = Principal(email="seed@local.invalid", role="admin", agent_id=None)

BUSINESS_HOURS = {
    "name": "Business hours (New York)",
    "document": {
        "timezone": "America/New_York",
        "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "special_hours": {"2026-12-24": [["09:00", "12:00"]]},
        "holidays": ["2026-12-25", "2027-01-01"],
    },
}

# Technical (the catch-all support@) works around the clock, so a demo mail is pushed to an agent
# at any hour; Orders and Billing keep New York business hours, so SLA clocks show business time.
AROUND_THE_CLOCK = {
    "name": "Around the clock",
    "document": {"timezone": "UTC", "hours": {day: [["00:00", "24:00"]] for day in
                                              ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
}

TEAMS = [
    {"name": "Technical", "email_address": "support@example.com", "assignment_mode": "push", "schedule": AROUND_THE_CLOCK["name"]},
    {"name": "Orders", "email_address": "orders@example.com", "assignment_mode": "push", "schedule": BUSINESS_HOURS["name"]},
    {"name": "Billing", "email_address": "billing@example.com", "assignment_mode": "round_robin", "schedule": BUSINESS_HOURS["name"]},
]

AGENTS = [
    {"email": ADMIN_EMAIL, "name": "Ada Admin", "role": "admin", "skills": ["technical", "billing", "orders"],
     "capacity": 10, "teams": ["Technical", "Orders", "Billing"]},
    {"email": "tara@example.com", "name": "Tara Lead", "role": "lead", "skills": ["technical", "api", "integrations"],
     "capacity": 15, "teams": ["Technical"]},
    {"email": "tom@example.com", "name": "Tom Tech", "role": "agent", "skills": ["technical", "german"],
     "capacity": 10, "teams": ["Technical"]},
    {"email": "olivia@example.com", "name": "Olivia Orders", "role": "agent", "skills": ["orders", "returns"],
     "capacity": 12, "teams": ["Orders"]},
    {"email": "oscar@example.com", "name": "Oscar Orders", "role": "agent", "skills": ["orders", "shipping", "spanish"],
     "capacity": 12, "teams": ["Orders"]},
    {"email": "bella@example.com", "name": "Bella Billing", "role": "lead", "skills": ["billing", "refunds"],
     "capacity": 10, "teams": ["Billing"]},
    {"email": "ben@example.com", "name": "Ben Billing", "role": "agent", "skills": ["billing", "invoices"],
     "capacity": 10, "teams": ["Billing"]},
]

HOUR = 3600
SLA_POLICIES = [  # first match by position wins
    {"name": "Urgent", "position": 10, "priority": "urgent",
     "targets": {"first_response": {"seconds": 1 * HOUR, "business": False}, "resolution": {"seconds": 8 * HOUR, "business": False}}},
    {"name": "Enterprise", "position": 20, "tier": "enterprise",
     "targets": {"first_response": {"seconds": 1 * HOUR, "business": True}, "resolution": {"seconds": 16 * HOUR, "business": True}}},
    {"name": "High", "position": 30, "priority": "high",
     "targets": {"first_response": {"seconds": 2 * HOUR, "business": True}, "resolution": {"seconds": 24 * HOUR, "business": True}}},
    {"name": "Standard", "position": 100,
     "targets": {"first_response": {"seconds": 4 * HOUR, "business": True}, "resolution": {"seconds": 40 * HOUR, "business": True}}},
]

# helpdesk.routing.models.RuleIn: conditions AND across fields, any value within a field.
ROUTING_RULES = [
    {"name": "Billing address", "position": 10, "team": "Billing", "conditions": {"recipients": ["billing@example.com"]}},
    {"name": "Orders address", "position": 20, "team": "Orders", "conditions": {"recipients": ["orders@example.com"]}},
    {"name": "Billing words", "position": 30, "team": "Billing",
     "conditions": {"keywords": ["invoice", "refund", "charge", "payment", "billing"]}},
    {"name": "Order words", "position": 40, "team": "Orders",
     "conditions": {"keywords": ["order", "shipping", "delivery", "return", "tracking"]}},
    {"name": "Everything else", "position": 1000, "team": "Technical", "conditions": {}},
]

KB_ARTICLES = [
    {"title": "How do I reset my password?",
     "body": "Open the sign-in page, choose 'Forgot password' and follow the link we email you. The link is valid for 30 minutes.",
     "tags": ["account", "password", "login"]},
    {"title": "Where is my order?",
     "body": "Every shipped order has a tracking link in the confirmation mail. Orders ship within 2 business days; delivery takes 3-5 days.",
     "tags": ["orders", "shipping", "tracking"]},
    {"title": "How do refunds work?",
     "body": "Refunds go back to the original payment method within 5-10 business days after we receive the returned item.",
     "tags": ["billing", "refund", "returns"]},
    {"title": "Downloading invoices",
     "body": "Invoices are under Account > Billing > Invoices as PDF. Ask us to resend one to another address if needed.",
     "tags": ["billing", "invoice"]},
    {"title": "API rate limits",
     "body": "The API allows 100 requests per minute per key; responses carry X-RateLimit-Remaining. Back off on HTTP 429.",
     "tags": ["technical", "api"]},
]


def seed(db: DataApi, done: set[str] | None = None) -> dict[str, Any]:
    """Create what is missing; return a summary (counts, what was skipped, the sections done).

    `done` names the optional sections ("routing_rules", "kb_articles") seeded on an earlier
    start: they are not seeded again, so a rule or article the user deleted stays deleted."""
    done = set(done or ())
    summary: dict[str, Any] = {"skipped": [], "done": done}
    schedule_ids = {schedule["name"]: str(db.query_one(
        "WITH ins AS (INSERT INTO schedules (name, document) VALUES (:name, :doc::jsonb)"
        " ON CONFLICT (name) DO NOTHING RETURNING id)"
        " SELECT id FROM ins UNION ALL SELECT id FROM schedules WHERE name = :name LIMIT 1",
        {"name": schedule["name"], "doc": _json(schedule["document"])})["id"]) for schedule in (BUSINESS_HOURS, AROUND_THE_CLOCK)}

    team_ids: dict[str, str] = {}
    for team in TEAMS:
        row = db.query_one(
            "WITH ins AS (INSERT INTO teams (name, email_address, schedule_id, assignment_mode)"
            " VALUES (:name, :email, :schedule::uuid, :mode) ON CONFLICT DO NOTHING RETURNING id)"
            " SELECT id FROM ins UNION ALL SELECT id FROM teams WHERE name = :name LIMIT 1",
            {"name": team["name"], "email": team["email_address"], "schedule": schedule_ids[team["schedule"]],
             "mode": team["assignment_mode"]})
        if row is None:
            raise RuntimeError(f"team {team['name']}: another team already uses {team['email_address']}")
        team_ids[team["name"]] = str(row["id"])

    agent_ids: dict[str, str] = {}
    for agent in AGENTS:
        row = db.query_one(
            "WITH ins AS (INSERT INTO agents (email, name, role, skills, capacity)"
            " VALUES (:email, :name, :role, :skills::jsonb, :capacity) ON CONFLICT (email) DO NOTHING RETURNING id)"
            " SELECT id FROM ins UNION ALL SELECT id FROM agents WHERE email = :email LIMIT 1",
            {"email": agent["email"], "name": agent["name"], "role": agent["role"],
             "skills": _json(agent["skills"]), "capacity": agent["capacity"]})
        agent_ids[agent["email"]] = str(row["id"])
    members = [{"team": team_ids[t], "agent": agent_ids[a["email"]]} for a in AGENTS for t in a["teams"]]
    db.execute(
        "INSERT INTO team_members (team_id, agent_id)"
        " SELECT (m->>'team')::uuid, (m->>'agent')::uuid FROM jsonb_array_elements(:members::jsonb) m"
        " ON CONFLICT DO NOTHING", {"members": _json(members)})

    for policy in SLA_POLICIES:
        db.execute(
            # No schedule of their own: business time is the ticket's team's schedule.
            "INSERT INTO sla_policies (name, position, priority, tier, targets)"
            " VALUES (:name, :position, :priority::text, :tier::text, :targets::jsonb)"
            " ON CONFLICT (name) DO NOTHING",
            {"name": policy["name"], "position": policy["position"], "priority": policy.get("priority"),
             "tier": policy.get("tier"), "targets": _json(policy["targets"])})

    for section, run in (("routing_rules", lambda: _seed_routing_rules(db, team_ids, summary["skipped"])),
                         ("kb_articles", lambda: _seed_kb(db, summary["skipped"])),
                         ("slack_channel", lambda: _seed_slack_channel(db, team_ids, summary["skipped"]))):
        if section in done:
            continue
        created = run()
        summary[section] = created
        if created is not None:
            done.add(section)
    summary.update(teams=len(team_ids), agents=len(agent_ids), schedule_ids=schedule_ids, team_ids=team_ids)
    return summary


def agents(db: DataApi) -> list[dict[str, Any]]:
    """Every active agent (email, id, role): the users the stack writes tokens for."""
    return db.query("SELECT id, email, role FROM agents WHERE is_active ORDER BY email")


def support_domains(db: DataApi, default: str = SUPPORT_DOMAIN) -> set[str]:
    """The domains the SMTP front accepts mail for: the support domain and every team address's."""
    rows = db.query("SELECT DISTINCT lower(split_part(email_address, '@', 2)) AS domain FROM teams"
                    " WHERE email_address IS NOT NULL")
    return {default.lower(), *(r["domain"] for r in rows if r["domain"])}


def _seed_routing_rules(db: DataApi, team_ids: dict[str, str], skipped: list[str]) -> int | None:
    rules_module = _optional("helpdesk.routing.rules")
    if rules_module is None or not hasattr(rules_module, "RoutingRules"):
        skipped.append("routing rules: helpdesk.routing.rules not available yet")
        return None
    rules = rules_module.RoutingRules(db)
    existing = {_field(r, "name") for r in rules.list()}
    created = 0
    for rule in ROUTING_RULES:
        if rule["name"] in existing:
            continue
        data = {k: v for k, v in rule.items() if k != "team"} | {"team_id": team_ids[rule["team"]]}
        try:
            rules.create(data, by=SEED)
            created += 1
        except Exception as exc:  # another module's input model; report, never block the stack
            skipped.append(f"routing rule {rule['name']!r}: {type(exc).__name__}: {exc}")
    return created


def _seed_kb(db: DataApi, skipped: list[str]) -> int | None:
    admin = _optional("helpdesk.admin")
    if admin is None or not hasattr(admin, "KbArticles"):
        skipped.append("KB articles: helpdesk.admin.KbArticles not available yet")
        return None
    from helpdesk.wiring import clock

    store = admin.KbArticles(db, clock())
    try:
        existing = {_field(a, "title") for a in store.list(include_unpublished=True, limit=500)}
    except Exception as exc:
        skipped.append(f"KB articles: could not list them: {type(exc).__name__}: {exc}")
        return None
    created = 0
    for article in KB_ARTICLES:
        if article["title"] in existing:
            continue
        try:
            store.create(article, by=SEED)
            created += 1
        except Exception as exc:  # another module's input model; report, never block the stack
            skipped.append(f"KB article {article['title']!r}: {type(exc).__name__}: {exc}")
    return created


def _seed_slack_channel(db: DataApi, team_ids: dict[str, str], skipped: list[str]) -> int | None:
    """The demo Slack support channel (local.slack.DEMO_CHANNEL) connected to Technical, so
    `python -m local.slack_event "..."` opens a ticket."""
    from local.slack import DEMO_CHANNEL, DEMO_CHANNEL_NAME

    slack = _optional("helpdesk.intake.slack")
    if slack is None or not hasattr(slack, "connect_channel"):
        skipped.append("slack channel: helpdesk.intake.slack is not available yet")
        return None
    if any(c["channel_id"] == DEMO_CHANNEL for c in slack.list_channels(db)):
        return 0  # connected on an earlier start (or by an admin): left as it is
    from helpdesk.wiring import clock

    slack.connect_channel(db, clock(), DEMO_CHANNEL, SEED, name=DEMO_CHANNEL_NAME, team_id=team_ids["Technical"])
    return 1


def _optional(module: str):
    """The module, or None when it does not exist yet or fails to import (another engineer's
    work in progress must not stop the stack; the section is retried on the next start)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    except Exception as exc:
        log.warning("seed: %s does not import (%s: %s); skipping what needs it", module, type(exc).__name__, exc)
        return None


def _field(item: Any, name: str) -> Any:
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)

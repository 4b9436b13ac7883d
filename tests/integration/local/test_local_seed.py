"""local.seed on the real PostgreSQL: the demo org, idempotent, optional sections seeded once."""
from __future__ import annotations

from local import seed


def _counts(db) -> dict[str, int]:
    return {t: db.query_one(f"SELECT count(*) AS n FROM {t}")["n"]
            for t in ("schedules", "teams", "agents", "team_members", "sla_policies")}


def test_seed_creates_the_demo_org(db):
    summary = seed.seed(db)
    teams = {r["name"]: r["email_address"] for r in db.query("SELECT name, email_address FROM teams")}
    assert teams == {"Technical": "support@example.com", "Orders": "orders@example.com", "Billing": "billing@example.com"}
    admin = db.query_one("SELECT role, skills FROM agents WHERE email = 'admin@example.com'")
    assert admin["role"] == "admin"
    roles = {r["email"]: r["role"] for r in seed.agents(db)}
    assert "lead" in roles.values() and list(roles.values()).count("agent") >= 3
    per_team = {r["name"]: r["n"] for r in db.query(
        "SELECT t.name, count(*) AS n FROM team_members m JOIN teams t ON t.id = m.team_id GROUP BY t.name")}
    assert all(n >= 2 for n in per_team.values()), per_team
    assert db.query_one("SELECT count(*) AS n FROM sla_policies")["n"] == len(seed.SLA_POLICIES)
    schedules = {r["team"]: r["schedule"] for r in db.query(
        "SELECT t.name AS team, s.name AS schedule FROM teams t JOIN schedules s ON s.id = t.schedule_id")}
    assert schedules == {"Technical": "Around the clock", "Orders": seed.BUSINESS_HOURS["name"],
                         "Billing": seed.BUSINESS_HOURS["name"]}
    from helpdesk.sla import Schedule

    for row in db.query("SELECT document FROM schedules"):
        Schedule.parse(row["document"])  # the SLA engine accepts both documents
    assert summary["teams"] == 3
    assert seed.support_domains(db) == {"example.com"}


def test_seed_twice_changes_nothing_and_keeps_user_edits(db):
    first = seed.seed(db)
    db.execute("UPDATE agents SET name = 'Renamed' WHERE email = 'tom@example.com'")
    before = _counts(db)
    second = seed.seed(db, first["done"])
    assert _counts(db) == before
    assert second["team_ids"] == first["team_ids"]
    assert db.query_one("SELECT name FROM agents WHERE email = 'tom@example.com'")["name"] == "Renamed"


def test_optional_sections_are_not_reseeded_once_done(db):
    first = seed.seed(db)
    for section in first["done"]:
        assert section in ("routing_rules", "kb_articles", "slack_channel")
    if "routing_rules" in first["done"]:
        assert db.query_one("SELECT count(*) AS n FROM routing_rules")["n"] == len(seed.ROUTING_RULES)
        db.execute("DELETE FROM routing_rules WHERE name = 'Order words'")
        seed.seed(db, first["done"])
        assert db.query_one("SELECT count(*) AS n FROM routing_rules")["n"] == len(seed.ROUTING_RULES) - 1

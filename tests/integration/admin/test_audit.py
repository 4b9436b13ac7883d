"""The admin audit trail against the real PostgreSQL: a change that records itself (write_admin_audit,
migration 1257) writes its audit row in its own statement, so the two are one call and never apart."""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.admin import Teams
from helpdesk.admin.audit import AdminAudit
from helpdesk.auth import Principal

ADMIN = Principal(email="root@example.com", role="admin", agent_id=uuid.UUID(int=1))


def trail(db) -> list[dict]:
    return AdminAudit(db, None).list()  # type: ignore[arg-type]


def test_a_team_change_and_its_audit_row_are_one_call(db, clock):
    teams = Teams(db, clock)
    db.stats.calls = 0
    team = teams.create({"name": "Billing", "assignment_mode": "pull"}, by=ADMIN)
    teams.update(team["id"], {"is_default": True}, by=ADMIN)
    assert db.stats.calls == 2
    assert [(e["action"], e["resource"], e["resource_id"], e["data"]) for e in reversed(trail(db))] == [
        ("create", "team", team["id"], {"name": "Billing", "assignment_mode": "pull"}),
        ("update", "team", team["id"], {"is_default": True})]
    assert {(e["actor_email"], e["actor_role"], e["actor_id"]) for e in trail(db)} == {
        ("root@example.com", "admin", str(ADMIN.agent_id))}
    assert {e["occurred_at"] for e in trail(db)} == {clock.now()}


def test_a_refused_team_change_leaves_no_audit_row(db, clock):
    teams = Teams(db, clock)
    teams.create({"name": "Billing"}, by=ADMIN)
    with pytest.raises(errors.Conflict):
        teams.create({"name": "Billing"}, by=ADMIN)  # the name is taken
    with pytest.raises(errors.NotFound):
        teams.update(uuid.uuid4(), {"name": "Ghost"}, by=ADMIN)
    assert [e["action"] for e in trail(db)] == ["create"]


def test_a_team_change_whose_audit_row_cannot_be_written_is_not_made(db, clock):
    """The two are one statement: an audit row the database refuses (no actor address) undoes the change."""
    nobody = Principal(email=None, role="admin", agent_id=None)  # type: ignore[arg-type]
    with pytest.raises(errors.DatabaseError):
        Teams(db, clock).create({"name": "Unrecorded"}, by=nobody)
    assert Teams(db, clock).list() == [] and trail(db) == []

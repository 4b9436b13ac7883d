"""Fixtures for routing tests: teams, agents and memberships on the real PostgreSQL (local Data API)."""
from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from helpdesk.routing import config as routing_config

CLUSTER_ARN = "arn:aws:rds:us-east-1:000000000000:cluster:helpdesk-test"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:helpdesk-test"


def thread_db(rds_data_client):
    """A DataApi of its own for a worker thread (DataApi.stats is not shared), same backend."""
    from helpdesk.db.client import DataApi

    return DataApi(rds_data_client, resource_arn=CLUSTER_ARN, secret_arn=SECRET_ARN, database="helpdesk", sleep=lambda s: None)


@pytest.fixture(autouse=True)
def fresh_routing_cache():
    routing_config.invalidate()
    yield
    routing_config.invalidate()


@pytest.fixture
def make_team(factories):
    def make(name: str = "team", *, mode: str = "push", schedule: dict | None = None, is_default: bool = False,
             email: str | None = None) -> uuid.UUID:
        return factories.team(name, mode=mode, schedule=schedule, is_default=is_default, email=email)
    return make

@pytest.fixture
def make_agent(factories):
    def make(name: str = "agent", *, teams: list[uuid.UUID] = (), capacity: int = 10, skills: list[str] = (),
             active: bool = True) -> uuid.UUID:
        return factories.agent(name, teams=teams, capacity=capacity, skills=skills, active=active).id
    return make

def new_ticket(**kw: Any) -> dict[str, Any]:
    return {"channel": "email", "subject": "Help", "body": "Something broke", "requester_email": "c@example.com", **kw}


@pytest.fixture
def loads(db):
    """agent id -> (active_count, number of tickets they hold in active statuses)."""
    def take() -> dict[str, tuple[int, int]]:
        rows = db.query(
            "SELECT a.id, a.active_count, a.capacity, (SELECT count(*) FROM tickets t WHERE t.assignee_id = a.id "
            "AND t.status IN ('assigned', 'in_progress', 'reopened')) AS held FROM agents a")
        return {r["id"]: (r["active_count"], r["held"], r["capacity"]) for r in rows}
    return take


def run_threads(n: int, target) -> list[BaseException]:
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrapped(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return errors


@pytest.fixture
def capacity_guard(db):
    db.execute("ALTER TABLE agents ADD CONSTRAINT test_never_above_capacity CHECK (active_count <= capacity)")
    yield
    db.execute("ALTER TABLE agents DROP CONSTRAINT IF EXISTS test_never_above_capacity")


@pytest.fixture
def queue(db, clock):
    """Creates unassigned tickets in a team's queue through the core command (no push), a second apart."""
    from datetime import timedelta

    from helpdesk.tickets.commands import TicketCommands

    cmds = TicketCommands(db, clock)

    def make(team_id, n: int = 1, **kw):
        out = []
        for _ in range(n):
            out.append(cmds.create_ticket(new_ticket(team_id=str(team_id), **kw)).ticket)
            clock.advance(timedelta(seconds=1))
        return out
    return make

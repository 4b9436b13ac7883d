"""The insight statements mirror the state machine's status sets (helpdesk.tickets.states): a status
added there must be counted here too."""
from __future__ import annotations

import re

from helpdesk.db import insight as sql
from helpdesk.tickets.states import OPEN


def status_lists(statement: str) -> list[set[str]]:
    return [set(re.findall(r"'([a-z_]+)'", group)) for group in re.findall(r"status IN \(([^)]*)\)", statement)]


def test_in_flight_is_the_state_machines_open_statuses():
    for name in ("OPERATIONS_SNAPSHOT", "REPORT_BACKLOG"):
        lists = status_lists(getattr(sql, name))
        assert {s.value for s in OPEN} in lists, name


def test_backlog_is_in_flight_without_the_customers_turn():
    assert "waiting_on_customer" in {s.value for s in OPEN}
    assert "f.status <> 'waiting_on_customer'" in sql.OPERATIONS_SNAPSHOT
    assert sql.REPORT_BACKLOG.count("o.status <> 'waiting_on_customer'") >= 5

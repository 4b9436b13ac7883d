"""The sweep's operations snapshot: in flight by team and status, utilization, backlog age, time to
assignment, reopens, support hours; one Data API call a minute, emitted as EMF by the sweep."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from helpdesk.insight.metrics import SNAPSHOT_METRICS, operations_snapshot
from helpdesk.sla.metrics import last_full_minute
from helpdesk.tickets.models import Actor
from local.functions import LambdaContext

from .conftest import LEAD, open_ticket

UTC = timezone.utc


def by_name(points):
    out: dict[str, dict] = {}
    for p in points:
        key = tuple(d[1] for d in (p.dimension, p.second_dimension) if d)
        out.setdefault(p.name, {}).setdefault(key, []).append(p.value)
    return out


def snapshot(db, now, gauges=True):
    db.stats.calls = 0
    points = operations_snapshot(db, *last_full_minute(now.now() + timedelta(minutes=1)), gauges=gauges)
    assert db.stats.calls == 1
    return by_name(points)


def test_in_flight_backlog_utilization_and_time_to_assignment(db, cmds, now, desk):
    billing_new = open_ticket(cmds, desk["billing"])                     # 14:00, stays new
    now.advance(hours=1)
    billing_assigned = open_ticket(cmds, desk["billing"])                # 15:00
    waiting = open_ticket(cmds, desk["billing"])                         # 15:00, then waiting on the customer
    tech = open_ticket(cmds, desk["tech"])                               # 15:00
    now.advance(minutes=30)                                              # 15:30
    cmds.assign(billing_assigned.id, LEAD, agent_id=desk["ann"])
    cmds.assign(waiting.id, LEAD, agent_id=desk["bob"])
    cmds.transition(waiting.id, "in_progress", LEAD)
    cmds.transition(waiting.id, "waiting_on_customer", LEAD)
    cmds.assign(tech.id, LEAD, agent_id=desk["cy"])
    cmds.transition(tech.id, "in_progress", LEAD)
    cmds.transition(tech.id, "resolved", LEAD)

    s = snapshot(db, now)
    billing, tech_team = desk["Billing"], desk["Tech"]
    assert s["TicketsInFlight"] == {(billing, "new"): [1], (billing, "assigned"): [1],
                                    (billing, "waiting_on_customer"): [1]}  # resolved is no longer in flight
    # The backlog leaves out the customer's turn (waiting): Billing's new (1 h 31 min old at 15:31) and assigned (31 min)
    assert s["BacklogTickets"] == {(billing,): [2], (): [2]}
    assert s["BacklogOldestAgeSeconds"][(billing,)] == [91 * 60.0]
    assert s["BacklogMedianAgeSeconds"][(billing,)] == [(91 * 60 + 31 * 60) / 2]
    assert s["BacklogOldestAgeSeconds"][()] == [91 * 60.0]
    # Billing: Ann holds 1 active (assigned), Bob's ticket waits on the customer (not active): 1 / (4 + 6)
    assert s["AgentUtilization"] == {(billing,): [10.0], (tech_team,): [0.0]}
    # Three tickets got their first owner at 15:30, each 30 minutes after it was opened
    assert s["TimeToAssignment"] == {(): [1800.0, 1800.0, 1800.0]}
    assert s["TicketsResolved"] == {(): [1]} and s["TicketsReopened"] == {(): [0]}
    assert s["SupportOpen"] == {(): [1]}  # 11:30 in New York on a Monday
    assert set(s) == set(SNAPSHOT_METRICS)


def test_a_reassignment_is_not_a_second_time_to_assignment_and_a_reopen_counts(db, cmds, now, desk):
    ticket = open_ticket(cmds, desk["tech"])
    now.advance(minutes=10)
    cmds.assign(ticket.id, LEAD, agent_id=desk["cy"])
    assert snapshot(db, now)["TimeToAssignment"] == {(): [600.0]}
    now.advance(minutes=5)
    cmds.assign(ticket.id, LEAD, agent_id=desk["ann"])
    assert "TimeToAssignment" not in snapshot(db, now)
    cmds.transition(ticket.id, "in_progress", LEAD)
    cmds.transition(ticket.id, "resolved", LEAD)
    cmds.transition(ticket.id, "closed", LEAD)
    now.advance(days=1)
    cmds.receive_customer_message(ticket.id, {"body": "still broken", "author_type": "customer",
                                              "author_email": "kim@example.com", "channel": "email"},
                                  Actor(type="customer"))
    s = snapshot(db, now)
    assert s["TicketsReopened"] == {(): [1]} and s["TicketsResolved"] == {(): [0]}
    assert "TimeToAssignment" not in s  # the reopen's re-assignment is not a first assignment


def test_an_empty_desk_still_reports_its_backlog_and_whether_support_is_open(db, now, desk):
    s = snapshot(db, now)
    assert s["BacklogTickets"] == {(): [0]} and s["BacklogOldestAgeSeconds"] == {(): [0.0]}
    assert s["SupportOpen"] == {(): [1]}
    now.set(datetime(2026, 3, 9, 23, 0, tzinfo=UTC))  # 19:00 in New York: closed
    assert snapshot(db, now)["SupportOpen"] == {(): [0]}
    now.set(datetime(2026, 3, 14, 15, 0, tzinfo=UTC))  # Saturday
    assert snapshot(db, now)["SupportOpen"] == {(): [0]}


def test_without_a_scheduled_default_team_support_is_always_open(db, now, factories):
    factories.team("Anytime", is_default=True)
    now.set(datetime(2026, 3, 14, 3, 0, tzinfo=UTC))
    assert snapshot(db, now)["SupportOpen"] == {(): [1]}


def test_the_sweep_emits_the_snapshot_as_embedded_metrics(db, cmds, now, desk, monkeypatch, capsys):
    from functions.sweep import handler as sweep
    from helpdesk import wiring
    from helpdesk.events.publisher import DeferredPublisher

    open_ticket(cmds, desk["billing"])
    now.set(datetime(2026, 3, 9, 14, 5, 30, tzinfo=UTC))  # the window 14:04-14:05 ends on a fifth minute: gauges too
    monkeypatch.setattr(wiring, "data_api", lambda: db)
    monkeypatch.setattr(wiring, "clock", lambda settings=None: now)
    monkeypatch.setattr(wiring, "publisher", lambda settings=None: DeferredPublisher())
    report = sweep.handler({}, LambdaContext(function_name="sweep"))
    assert report["operations_metrics"] > 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    in_flight = [d for d in docs if "TicketsInFlight" in d]
    # (the sweep's back-fill ran first and may have pushed it to an agent)
    assert [(d["team"], d["service"]) for d in in_flight] == [(desk["Billing"], "helpdesk")]
    assert in_flight[0]["status"] in ("new", "assigned")
    assert in_flight[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Helpdesk"
    oldest = [d for d in docs if "BacklogOldestAgeSeconds" in d and "team" not in d]
    assert oldest and oldest[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert [d["SupportOpen"] for d in docs if "SupportOpen" in d] in ([1.0], [[1.0]])


def test_the_gauges_are_measured_every_fifth_minute_the_window_figures_every_minute(db, cmds, now, desk):
    from helpdesk.insight.metrics import gauges_due

    ticket = open_ticket(cmds, desk["tech"])
    now.advance(minutes=10)
    cmds.assign(ticket.id, LEAD, agent_id=desk["cy"])
    light = snapshot(db, now, gauges=False)
    assert set(light) == {"TimeToAssignment", "TicketsReopened", "TicketsResolved", "SupportOpen"}
    assert light["TimeToAssignment"] == {(): [600.0]}
    assert [m for m in range(60) if gauges_due(datetime(2026, 3, 9, 14, m, tzinfo=UTC))] == [0, 5, 10, 15, 20, 25, 30,
                                                                                           35, 40, 45, 50, 55]

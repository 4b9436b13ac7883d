"""The sweep: warnings, breaches with escalation, auto-close and leftover deadlines; each event exactly once,
also when two sweeps overlap; Data API calls bounded whatever the number of open tickets."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from helpdesk.events.publisher import RecordingPublisher
from helpdesk.idle import IdleSkip
from helpdesk.sla.sweep import SweepSettings, run_sweep
from helpdesk.tickets.models import Actor

UTC = timezone.utc
SYSTEM = Actor(type="system")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def outbox_types(db, ticket_id=None) -> Counter:
    rows = db.query("SELECT event_type, ticket_id FROM outbox WHERE event_type LIKE 'sla.%' OR payload ->> 'to' = 'closed'")
    return Counter(r["event_type"] for r in rows if ticket_id is None or r["ticket_id"] == str(ticket_id))


def test_warning_then_breach_each_once_with_priority_raised(db, now, publisher, standard_policy, open_ticket, clocks):
    ticket = open_ticket()  # Friday 17:00 EST: first response due Monday 10:00 EDT (14:00Z), warning at 13:30Z
    now.set(utc(2026, 3, 7, 16, 0))  # Saturday: nothing is due
    assert run_sweep(db, now, publisher)["warnings"] == 0
    now.set(utc(2026, 3, 9, 13, 31))
    result = run_sweep(db, now, publisher)
    assert (result["warnings"], result["breaches"]) == (1, 0)
    assert [e["event_type"] for e in result["events"]] == ["sla.warning"]
    assert result["events"][0]["payload"]["kind"] == "first_response"
    assert result["events_published"] == 1  # published and acknowledged in the follow-up
    assert run_sweep(db, now, publisher)["warnings"] == 0
    now.set(utc(2026, 3, 9, 14, 0))
    result = run_sweep(db, now, publisher)
    assert result["breaches"] == 1
    event = result["events"][0]
    assert event["event_type"] == "sla.breached"
    assert (event["payload"]["priority_from"], event["payload"]["priority_to"]) == ("normal", "high")
    assert "team_lead" in event["payload"]["notify"]
    row = db.query_one("SELECT priority, escalated_at FROM tickets WHERE id = :id::uuid", {"id": ticket.id})
    assert row["priority"] == "high" and row["escalated_at"] == now.now()
    assert clocks(ticket.id)["first_response"]["breached_at"] == now.now()
    now.advance(hours=1)
    assert run_sweep(db, now, publisher)["breaches"] == 0
    assert outbox_types(db, ticket.id) == Counter({"sla.warning": 1, "sla.breached": 1})
    # The resolution clock breaches later: the priority goes up one more step, to urgent, and stays there.
    now.set(utc(2026, 3, 9, 21, 0))
    assert run_sweep(db, now, publisher)["breaches"] == 1
    assert db.query_one("SELECT priority FROM tickets WHERE id = :id::uuid", {"id": ticket.id})["priority"] == "urgent"


def test_late_sweep_breaches_without_a_stale_warning(db, now, publisher, standard_policy, open_ticket):
    ticket = open_ticket()
    now.set(utc(2026, 3, 9, 22, 0))  # both clocks long past due, no sweep ran in between
    result = run_sweep(db, now, publisher)
    assert (result["breaches"], result["warnings"]) == (2, 0)
    assert outbox_types(db, ticket.id) == Counter({"sla.breached": 1})  # one event per ticket per sweep
    assert len(result["events"][0]["payload"]["clocks"]) == 2


def test_paused_and_met_clocks_never_breach(db, cmds, now, publisher, standard_policy, open_ticket, agent, agent_actor):
    now.set(utc(2026, 3, 9, 13, 0))
    ticket = open_ticket()
    cmds.assign(ticket.id, agent_actor, agent_id=agent)
    cmds.add_message(ticket.id, {"body": "hi", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
    cmds.transition(ticket.id, "in_progress", agent_actor)
    cmds.transition(ticket.id, "waiting_on_customer", agent_actor)
    now.set(utc(2026, 3, 20, 13, 0))
    assert run_sweep(db, now, publisher)["breaches"] == 0


def test_breach_moves_an_unassigned_ticket_to_the_escalation_team(db, now, publisher, team, standard_policy, open_ticket):
    tier2 = db.query_one("INSERT INTO teams (name) VALUES ('tier 2') RETURNING id")["id"]
    db.execute("UPDATE teams SET escalation_team_id = :e::uuid WHERE id = :t::uuid", {"e": tier2, "t": team})
    ticket = open_ticket()
    now.set(utc(2026, 3, 9, 14, 0))
    event = run_sweep(db, now, publisher)["events"][0]
    assert event["payload"]["escalated_to_team_id"] == tier2 and event["payload"]["previous_team_id"] == str(team)
    assert db.query_one("SELECT team_id FROM tickets WHERE id = :id::uuid", {"id": ticket.id})["team_id"] == tier2
    assert db.query_one("SELECT reason, team_id FROM assignments WHERE ticket_id = :id::uuid ORDER BY id DESC LIMIT 1",
                        {"id": ticket.id}) == {"reason": "escalation", "team_id": tier2}


def test_auto_close_after_72_hours_without_a_customer_reply(db, cmds, now, publisher, open_ticket, agent, agent_actor):
    now.set(utc(2026, 3, 9, 13, 0))
    quiet, answered = open_ticket(), open_ticket()
    for t in (quiet, answered):
        cmds.assign(t.id, agent_actor, agent_id=agent)
        cmds.transition(t.id, "in_progress", agent_actor)
        cmds.transition(t.id, "resolved", agent_actor)
    now.set(utc(2026, 3, 10, 13, 0))
    cmds.receive_customer_message(answered.id, {"body": "not fixed", "author_type": "customer",
                                                "author_email": "kim@example.com"})
    now.set(utc(2026, 3, 12, 12, 59))
    assert run_sweep(db, now, publisher)["auto_closed"] == 0
    now.set(utc(2026, 3, 12, 13, 0))
    result = run_sweep(db, now, publisher)
    assert result["auto_closed"] == 1
    status = {r["id"]: r["status"] for r in db.query("SELECT id, status FROM tickets")}
    assert (status[str(quiet.id)], status[str(answered.id)]) == ("closed", "in_progress")
    assert result["events"][0]["payload"]["reason"] == "no customer reply for 72 hours"
    assert run_sweep(db, now, publisher)["auto_closed"] == 0


def test_leftover_deadlines_are_recomputed(db, now, publisher, standard_policy, open_ticket, clocks):
    ticket = open_ticket()
    # As if the command's follow-up statement never ran (the process died after the commit).
    db.execute("UPDATE sla_targets SET due_at = NULL, warn_at = NULL, recompute_from = :at::timestamptz",
               {"at": now.now()})
    now.advance(minutes=1)
    result = run_sweep(db, now, publisher)
    assert result["deadlines_recomputed"] == 2
    c = clocks(ticket.id)
    assert c["first_response"]["due_at"] == utc(2026, 3, 9, 14, 0) and c["first_response"]["recompute_from"] is None
    assert result["next_due_at"] == utc(2026, 3, 9, 13, 30)


def test_overlapping_sweeps_emit_each_event_exactly_once(db, now, bulk_tickets):
    bulk_tickets(300, due=utc(2026, 3, 6, 21, 0), now=utc(2026, 3, 6, 12, 0))
    publishers = [RecordingPublisher(), RecordingPublisher()]
    results: list[dict] = []
    barrier = threading.Barrier(2)

    def sweep(p):
        barrier.wait()
        results.append(run_sweep(db, now, p, settings=SweepSettings(batch=25, max_rounds=20)))

    threads = [threading.Thread(target=sweep, args=(p,)) for p in publishers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["breaches"] for r in results) == 300
    per_ticket = Counter(r["ticket_id"] for r in db.query("SELECT ticket_id FROM outbox WHERE event_type = 'sla.breached'"))
    assert len(per_ticket) == 300 and set(per_ticket.values()) == {1}
    published = [e["ticket_id"] for p in publishers for e in p.published]
    assert sorted(published) == sorted(per_ticket)
    assert db.query_one("SELECT count(*) AS n FROM tickets WHERE priority = 'high'")["n"] == 300


def test_calls_per_sweep_do_not_depend_on_open_tickets(db, now, publisher, bulk_tickets):
    def calls(n_open: int) -> int:
        db.execute("TRUNCATE outbox, sla_targets, tickets, customers CASCADE")
        bulk_tickets(n_open, due=utc(2026, 3, 20, 12, 0), now=utc(2026, 3, 6, 12, 0))  # not due yet
        bulk_tickets(5, due=utc(2026, 3, 6, 21, 0), now=utc(2026, 3, 6, 12, 0))  # due
        db.stats.calls = 0
        assert run_sweep(db, now, publisher)["breaches"] == 5
        return db.stats.calls

    assert calls(10) == calls(2000) == 5  # breach, warn, auto-close, status/pending, publish ack


def test_handler_runs_every_job_and_reports_missing_ones(db, now, monkeypatch):
    import functions.sweep.handler as sweep_handler
    from helpdesk import wiring

    monkeypatch.setattr(wiring, "data_api", lambda: db)
    monkeypatch.setattr(wiring, "clock", lambda: now)
    monkeypatch.setattr(wiring, "publisher", lambda: RecordingPublisher())
    context = SimpleNamespace(function_name="sweep", memory_limit_in_mb=256, aws_request_id="r1",
                              invoked_function_arn="arn:aws:lambda:us-east-1:0:function:sweep")
    report = sweep_handler.handler({}, context)
    assert report["sla"]["breaches"] == 0 and "error" not in report["sla"]
    assert set(report) == {"sla", "outbox_relay", "out_of_office_handover", "queue_backfill", "metrics",
                           "operations_metrics"}
    for job in ("outbox_relay", "out_of_office_handover", "queue_backfill"):
        assert isinstance(report[job], int) or "not available" in report[job]["error"] or "Error" in report[job]["error"]
    # Idle skipping: off by default; with a budget, a warm function skips until the next due instant.
    db.stats.calls = 0
    assert "skipped" not in sweep_handler.handler({}, context) and db.stats.calls > 0
    monkeypatch.setenv("SWEEP_MAX_IDLE_SECONDS", "900")
    monkeypatch.setattr(sweep_handler, "_idle", IdleSkip())
    first = sweep_handler.handler({}, context)
    db.stats.calls = 0
    second = sweep_handler.handler({}, context)
    if first["outbox_relay"] == 0:  # nothing relayed, nothing due: the database is left alone
        assert second["skipped"] is True and db.stats.calls == 0
        now.advance(seconds=901)
        assert "skipped" not in sweep_handler.handler({}, context)
    else:
        assert "skipped" not in second


def test_a_full_batch_of_events_fits_the_data_api_limits(db, now, publisher, bulk_tickets):
    bulk_tickets(600, due=utc(2026, 3, 6, 21, 0), now=utc(2026, 3, 6, 12, 0))
    db.stats.calls = 0
    result = run_sweep(db, now, publisher)  # default batch 500: events come back one per row (64 KB row limit)
    assert result["breaches"] == 600 and len(publisher.published) == 600
    assert db.stats.calls == 6  # breaches in two batches, warn, auto-close, status/pending, publish ack


def test_sweep_racing_commands_on_the_same_tickets(db, now, bulk_tickets):
    """A sweep breaching while agents resolve the same tickets: no deadlock, no lost update, every clock
    ends met or breached-then-met, and a breach event exists exactly for the clocks marked breached."""
    from helpdesk.tickets.commands import TicketCommands

    bulk_tickets(120, due=utc(2026, 3, 6, 21, 0), now=utc(2026, 3, 6, 12, 0))
    ids = [r["id"] for r in db.query("SELECT id FROM tickets ORDER BY number")]
    cmds = TicketCommands(db, now)
    errors_seen: list[BaseException] = []
    barrier = threading.Barrier(3)

    def sweeper():
        barrier.wait()
        try:
            for _ in range(8):
                run_sweep(db, now, RecordingPublisher(), settings=SweepSettings(batch=10, max_rounds=2))
        except BaseException as exc:  # noqa: BLE001
            errors_seen.append(exc)

    def resolver(part):
        barrier.wait()
        try:
            for ticket_id in part:
                cmds.transition(ticket_id, "resolved", SYSTEM)
        except BaseException as exc:  # noqa: BLE001
            errors_seen.append(exc)

    threads = [threading.Thread(target=sweeper), threading.Thread(target=resolver, args=(ids[::2],)),
               threading.Thread(target=resolver, args=(ids[1::2],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors_seen
    run_sweep(db, now, RecordingPublisher())
    rows = db.query("SELECT state, breached_at IS NOT NULL AS breached FROM sla_targets")
    assert {r["state"] for r in rows} == {"met"}
    breached = sum(r["breached"] for r in rows)
    events = db.query_one("SELECT count(*) AS n FROM outbox WHERE event_type = 'sla.breached'")["n"]
    assert events == breached

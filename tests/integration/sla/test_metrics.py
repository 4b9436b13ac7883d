"""The sweep's per-minute dashboard metrics, read from one minute of rows in one call."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from helpdesk.sla.metrics import breach_points, last_full_minute, window_metrics
from local.functions import LambdaContext

UTC = timezone.utc


def by_name(points):
    out: dict[str, list] = {}
    for p in points:
        out.setdefault(p.name, []).append(p)
    return out


def test_window_counts_created_tickets_by_channel_and_first_responses_in_business_time(
        db, cmds, now, standard_policy, open_ticket, agent, agent_actor):
    # Friday 17:00 New York, after hours: two email tickets and one chat ticket.
    first = open_ticket()
    open_ticket()
    open_ticket(channel="chat")
    created = by_name(window_metrics(db, *last_full_minute(now.now() + timedelta(minutes=1))))
    assert sorted((p.dimension, p.value) for p in created["TicketsCreated"]) == [
        (("channel", "chat"), 1), (("channel", "email"), 2)]
    assert "FirstResponseTime" not in created

    # Monday 09:30 New York (daylight time since Sunday): 30 business minutes after the ticket.
    now.set(datetime(2026, 3, 9, 13, 30, 10, tzinfo=UTC))
    cmds.assign(first.id, agent_actor, agent_id=agent)
    cmds.add_message(first.id, {"body": "On it", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
    db.stats.calls = 0
    met = by_name(window_metrics(db, *last_full_minute(now.now() + timedelta(minutes=1))))
    assert db.stats.calls == 1
    assert [(p.dimension, p.value) for p in met["SlaTargetsMet"]] == [(("target", "first_response"), 1)]
    assert [p.value for p in met["FirstResponseTime"]] == [1810.0]  # 09:00-09:30:10 counted, the weekend not
    assert "TicketsCreated" not in met


OUTBOX_METRICS = {"OutboxBacklog", "OutboxOldestAgeSeconds", "OutboxParked"}


def test_a_window_outside_the_activity_has_only_the_outbox_backlog(db, open_ticket, now, standard_policy):
    open_ticket()
    points = window_metrics(db, *last_full_minute(now.now() + timedelta(hours=1)))
    assert {p.name for p in points} == OUTBOX_METRICS


def test_outbox_backlog_and_oldest_age_in_the_same_call(db, open_ticket, now, standard_policy):
    empty = by_name(window_metrics(db, *last_full_minute(now.now())))
    assert [(p.name, p.value) for name in sorted(OUTBOX_METRICS) for p in empty[name]] == [
        ("OutboxBacklog", 0), ("OutboxOldestAgeSeconds", 0.0), ("OutboxParked", 0)]
    open_ticket()  # its events wait in the outbox (nobody relays them here)
    pending = db.query_one("SELECT count(*) AS n, min(occurred_at) AS oldest FROM outbox WHERE published_at IS NULL")
    assert pending["n"] >= 1
    now.advance(minutes=15)
    since, until = last_full_minute(now.now())
    db.stats.calls = 0
    points = by_name(window_metrics(db, since, until))
    assert db.stats.calls == 1
    oldest = pending["oldest"] if isinstance(pending["oldest"], datetime) else datetime.fromisoformat(pending["oldest"])
    assert [p.value for p in points["OutboxBacklog"]] == [pending["n"]]
    assert [p.value for p in points["OutboxOldestAgeSeconds"]] == [(until - oldest).total_seconds()]
    assert points["OutboxOldestAgeSeconds"][0].value > 600  # past the 10-minute alarm threshold
    # published and parked rows leave the backlog; parked ones are counted on their own
    first = db.query_one("SELECT id FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT 1")["id"]
    db.execute("UPDATE outbox SET dead_at = :now::timestamptz WHERE id = :id::uuid", {"now": now.now(), "id": first})
    db.execute("UPDATE outbox SET published_at = :now::timestamptz WHERE published_at IS NULL AND dead_at IS NULL",
               {"now": now.now()})
    after = by_name(window_metrics(db, since, until))
    assert [(p.name, p.value) for name in sorted(OUTBOX_METRICS) for p in after[name]] == [
        ("OutboxBacklog", 0), ("OutboxOldestAgeSeconds", 0.0), ("OutboxParked", 1)]


def test_breach_points_count_each_breached_clock_by_target():
    events = [{"event_type": "sla.breached", "payload": {"kind": "first_response", "clocks": [
                  {"kind": "first_response"}, {"kind": "resolution"}]}},
              {"event_type": "sla.breached", "payload": {"kind": "resolution"}},
              {"event_type": "sla.warning", "payload": {"kind": "resolution"}}]
    assert [(p.dimension, p.value) for p in breach_points(events)] == [
        (("target", "first_response"), 1), (("target", "resolution"), 2)]


def test_sweep_handler_emits_embedded_metrics(db, now, standard_policy, open_ticket, monkeypatch, capsys):
    from functions.sweep import handler as sweep
    from helpdesk import wiring
    from helpdesk.events.publisher import DeferredPublisher

    open_ticket()
    now.advance(minutes=1)
    monkeypatch.setattr(wiring, "data_api", lambda: db)
    monkeypatch.setattr(wiring, "clock", lambda settings=None: now)
    monkeypatch.setattr(wiring, "publisher", lambda settings=None: DeferredPublisher())
    report = sweep.handler({}, LambdaContext(function_name="sweep"))
    assert report["metrics"] == 4  # TicketsCreated (email) + the three outbox metrics
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    emf = [x for x in lines if x.get("TicketsCreated") == [1.0] or x.get("TicketsCreated") == 1.0]
    assert emf and emf[0]["channel"] == "email" and emf[0]["service"] == "helpdesk"
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Helpdesk"
    backlog = [x for x in lines if "OutboxOldestAgeSeconds" in x]
    assert backlog and backlog[0]["service"] == "helpdesk"
    assert backlog[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "OutboxOldestAgeSeconds", "Unit": "Seconds"}]

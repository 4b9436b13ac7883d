"""The sweep's per-minute dashboard metrics, read from one minute of rows in one call."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from helpdesk.sla.metrics import breach_points, last_full_minute, window_metrics

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


def test_a_window_outside_the_activity_is_empty(db, open_ticket, now, standard_policy):
    open_ticket()
    assert window_metrics(db, *last_full_minute(now.now() + timedelta(hours=1))) == []


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
    report = sweep.run_jobs(db, now, DeferredPublisher())
    assert report["metrics"] == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    emf = [x for x in lines if x.get("TicketsCreated") == [1.0] or x.get("TicketsCreated") == 1.0]
    assert emf and emf[0]["channel"] == "email" and emf[0]["service"] == "helpdesk"
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Helpdesk"

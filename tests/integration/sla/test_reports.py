"""sla_report with known numbers: business time, waiting on the customer subtracted, spam left out,
p50/p95 (linear interpolation) beside the mean, all in one Data API call."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.sla.reports import sla_report
from helpdesk.tickets.models import Actor

UTC = timezone.utc
NOW = datetime(2026, 3, 12, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def scenario(db, cmds, now, standard_policy, team, open_ticket, agent, agent_actor):
    team2 = db.query_one("INSERT INTO teams (name) VALUES ('no schedule') RETURNING id")["id"]

    def reply(ticket_id):
        cmds.add_message(ticket_id, {"body": "hello", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)

    def work(ticket_id):
        cmds.assign(ticket_id, agent_actor, agent_id=agent)
        cmds.transition(ticket_id, "in_progress", agent_actor)

    # T1: Monday 09:00 EDT; first reply 09:30 (1,800 s); resolved 11:00 (7,200 s)
    now.set(utc(2026, 3, 9, 13, 0)); t1 = open_ticket().id
    now.set(utc(2026, 3, 9, 13, 30)); reply(t1); work(t1)
    now.set(utc(2026, 3, 9, 15, 0)); cmds.transition(t1, "resolved", agent_actor)
    # T3: Monday 10:00; first reply 13:00 (10,800 s, after its 11:00 deadline); unresolved
    now.set(utc(2026, 3, 9, 14, 0)); t3 = open_ticket().id
    now.set(utc(2026, 3, 9, 17, 0)); reply(t3)
    # T5 (other team, no schedule: 24/7): Monday 13:00Z, reply 15:00Z (7,200 s, late)
    now.set(utc(2026, 3, 9, 13, 0)); t5 = open_ticket(team_id=team2).id
    now.set(utc(2026, 3, 9, 15, 0)); reply(t5)
    # T4: spam, left out
    t4 = open_ticket().id
    cmds.transition(t4, "spam", agent_actor)
    # T2: Monday 16:00 EDT; reply Tuesday 10:00 (2 business hours, late); waiting 10:30-14:30; resolved 15:00:
    # 1h Monday + 6h Tuesday - 4h waiting = 10,800 s
    now.set(utc(2026, 3, 9, 20, 0)); t2 = open_ticket().id
    now.set(utc(2026, 3, 10, 14, 0)); reply(t2); work(t2)
    now.set(utc(2026, 3, 10, 14, 30)); cmds.transition(t2, "waiting_on_customer", agent_actor)
    now.set(utc(2026, 3, 10, 18, 30))
    cmds.receive_customer_message(t2, {"body": "done", "author_type": "customer", "author_email": "kim@example.com"})
    now.set(utc(2026, 3, 10, 19, 0)); cmds.transition(t2, "resolved", agent_actor)
    return {"team": str(team), "team2": team2}


def test_report_with_known_numbers(db, scenario):
    db.stats.calls = 0
    report = sla_report(db, since=utc(2026, 3, 9), until=utc(2026, 3, 11), now=NOW)
    assert db.stats.calls == 1
    teams = {t["team_id"]: t for t in report["teams"]}
    main = teams[scenario["team"]]
    assert main["tickets"] == 3  # the spam ticket is not counted
    assert main["first_response"] == {"count": 3, "p50": 7200, "p95": pytest.approx(10440), "mean": 6600}
    assert main["resolution"] == {"count": 2, "p50": 9000, "p95": pytest.approx(10620), "mean": 9000}
    assert main["breach_rate"] == pytest.approx(2 / 3)  # T3 and T2 answered after the first-response deadline
    assert main["by_priority"]["normal"]["first_response"]["count"] == 3
    other = teams[scenario["team2"]]
    assert other["first_response"]["p50"] == 7200 and other["breach_rate"] == 1
    assert report["overall"]["first_response"]["count"] == 4
    assert report["overall"]["first_response"]["mean"] == pytest.approx((1800 + 7200 + 10800 + 7200) / 4)
    only = sla_report(db, since=utc(2026, 3, 9), until=utc(2026, 3, 11), now=NOW, team_id=scenario["team2"])
    assert [t["team_id"] for t in only["teams"]] == [scenario["team2"]]
    assert sla_report(db, since=utc(2026, 3, 11), until=utc(2026, 3, 12), now=NOW)["overall"]["tickets"] == 0


def test_report_is_one_call_whatever_the_number_of_tickets(db, scenario, bulk_tickets, team):
    bulk_tickets(2500, due=utc(2026, 3, 12), now=utc(2026, 3, 9, 12), team_id=team)
    db.stats.calls = 0
    report = sla_report(db, since=utc(2026, 3, 9), until=utc(2026, 3, 11), now=NOW)
    assert report["overall"]["tickets"] == 2504 and db.stats.calls == 1


def test_report_input_validation(db):
    with pytest.raises(errors.ValidationFailed, match="after since"):
        sla_report(db, since=utc(2026, 3, 9), until=utc(2026, 3, 9), now=NOW)
    with pytest.raises(errors.ValidationFailed, match="time zone"):
        sla_report(db, since=datetime(2026, 3, 9), until=utc(2026, 3, 10), now=NOW)

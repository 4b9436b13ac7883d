"""The leads' reports against hand-computed figures: volume by period, channel and team (spam left
out, periods local to a time zone), the backlog and its age, and per agent (first response and
resolution in business time with waiting subtracted, p50/p95 beside the mean; reopen rate)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.insight.reports import (agents_csv, agents_report, backlog_csv, backlog_report, period_starts,
                                      volume_csv, volume_report)
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

from .conftest import LEAD, open_ticket

UTC = timezone.utc
SINCE, UNTIL = datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 13, tzinfo=UTC)
THURSDAY_NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def week(db, cmds, now, desk):
    """Billing runs 09:00-17:00 New York (EDT, UTC-4, this week); Tech is 24/7 (no schedule).

    T1 Billing email Mon 13:00Z (09:00 local); Ann replies 13:30Z (FR 1,800 s); resolved 15:00Z (7,200 s)
    T2 Billing web   Mon 20:00Z (16:00 local); Ann replies Tue 14:00Z (1 h Mon + 1 h Tue = 7,200 s); waiting
       Tue 14:30Z-18:30Z (4 h); resolved Tue 19:00Z: 1 h Mon + 6 h Tue - 4 h waiting = 10,800 s
    T4 Billing email Mon, spam: left out everywhere
    T6 Tech api      Tue 03:00Z (Mon 23:00 in New York); new
    T3 Tech chat     Tue 10:00Z; Cy replies 12:00Z (7,200 s); resolved 14:00Z; closed Wed; the customer writes
       Thu 10:00Z: reopened (now in progress)
    T5 Tech email    Wed 09:00Z; new
    """
    ann, cy = Actor(type="agent", id=desk["ann"], role="agent"), Actor(type="agent", id=desk["cy"], role="agent")

    def reply(ticket_id, who):
        cmds.add_message(ticket_id, {"body": "on it", "author_type": "agent", "author_agent_id": str(who.id)}, who)

    now.set(utc(2026, 3, 9, 13, 0)); t1 = open_ticket(cmds, desk["billing"]).id
    now.set(utc(2026, 3, 9, 13, 30)); cmds.assign(t1, LEAD, agent_id=desk["ann"]); reply(t1, ann)
    cmds.transition(t1, "in_progress", ann)
    now.set(utc(2026, 3, 9, 15, 0)); cmds.transition(t1, "resolved", ann)
    t4 = open_ticket(cmds, desk["billing"]).id
    cmds.transition(t4, "spam", LEAD)
    now.set(utc(2026, 3, 9, 20, 0)); t2 = open_ticket(cmds, desk["billing"], channel="web").id
    now.set(utc(2026, 3, 10, 3, 0)); open_ticket(cmds, desk["tech"], channel="api")
    now.set(utc(2026, 3, 10, 10, 0)); t3 = open_ticket(cmds, desk["tech"], channel="chat").id
    now.set(utc(2026, 3, 10, 12, 0)); cmds.assign(t3, LEAD, agent_id=desk["cy"]); reply(t3, cy)
    cmds.transition(t3, "in_progress", cy)
    now.set(utc(2026, 3, 10, 14, 0)); cmds.assign(t2, LEAD, agent_id=desk["ann"]); reply(t2, ann)
    cmds.transition(t2, "in_progress", ann); cmds.transition(t3, "resolved", cy)
    now.set(utc(2026, 3, 10, 14, 30)); cmds.transition(t2, "waiting_on_customer", ann)
    now.set(utc(2026, 3, 10, 18, 30))
    cmds.receive_customer_message(t2, {"body": "done", "author_type": "customer", "author_email": "kim@example.com"})
    now.set(utc(2026, 3, 10, 19, 0)); cmds.transition(t2, "resolved", ann)
    now.set(utc(2026, 3, 11, 9, 0)); open_ticket(cmds, desk["tech"])
    cmds.transition(t3, "closed", LEAD)
    now.set(utc(2026, 3, 12, 10, 0))
    cmds.receive_customer_message(t3, {"body": "broken again", "author_type": "customer", "author_email": "kim@example.com"})
    now.set(THURSDAY_NOON)
    return desk


def test_volume_by_day_channel_and_team(db, week):
    db.stats.calls = 0
    report = volume_report(db, since=SINCE, until=UNTIL)
    assert db.stats.calls == 1
    assert report["periods"] == ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"]
    assert report["total"] == [2, 2, 1, 0]  # the spam ticket is not demand
    assert {c["channel"]: c["tickets"] for c in report["by_channel"]} == {
        "api": [0, 1, 0, 0], "chat": [0, 1, 0, 0], "email": [1, 0, 1, 0], "web": [1, 0, 0, 0]}
    assert {t["team_name"]: (t["tickets"], t["sum"]) for t in report["by_team"]} == {
        week["Billing"]: ([2, 0, 0, 0], 2), week["Tech"]: ([0, 2, 1, 0], 3)}


def test_volume_periods_are_local_to_the_time_zone_asked_for(db, week):
    report = volume_report(db, since=SINCE, until=UNTIL, timezone="America/New_York")
    # New York days: 03-08 (the first hours of Monday UTC) .. 03-12; the api ticket came Monday 23:00 there
    assert report["periods"] == ["2026-03-08", "2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"]
    assert report["total"] == [0, 3, 1, 1, 0]
    weekly = volume_report(db, since=SINCE, until=UNTIL, unit="week")
    assert weekly["periods"] == ["2026-03-09"] and weekly["total"] == [5]


def test_volume_csv_has_a_row_per_period_and_breakdown(db, week):
    text = volume_csv(volume_report(db, since=SINCE, until=UNTIL))
    lines = text.splitlines()
    assert lines[0] == "period,breakdown,name,tickets"
    assert "2026-03-09,total,all,2" in lines and "2026-03-10,channel,chat,1" in lines
    assert f"2026-03-11,team,{week['Tech']},1" in lines
    assert len(lines) == 1 + 4 * (1 + 4 + 2)


def test_backlog_by_team_with_its_age(db, week):
    db.stats.calls = 0
    report = backlog_report(db, now=THURSDAY_NOON)
    assert db.stats.calls == 1
    [tech] = report["teams"]  # Billing has nothing in flight
    assert tech["team_name"] == week["Tech"]
    assert {k: tech[k] for k in ("in_flight", "new", "in_progress", "waiting_on_customer", "backlog", "unassigned")} == {
        "in_flight": 3, "new": 2, "in_progress": 1, "waiting_on_customer": 0, "backlog": 3, "unassigned": 2}
    # ages at Thu 12:00Z: T6 57 h, T3 50 h, T5 27 h
    assert tech["oldest_age_seconds"] == 57 * 3600
    assert tech["p50_age_seconds"] == 50 * 3600
    assert tech["p95_age_seconds"] == pytest.approx(50 * 3600 + 0.9 * 7 * 3600)
    assert (tech["older_than_1d"], tech["older_than_3d"], tech["older_than_7d"]) == (3, 0, 0)
    assert report["overall"]["backlog"] == 3 and report["overall"]["oldest_age_seconds"] == 57 * 3600
    assert backlog_csv(report).splitlines()[-1].startswith("All teams,3,2,0,1,0,0,3,2,205200")


def test_waiting_tickets_are_in_flight_but_not_backlog(db, cmds, now, desk):
    ticket = open_ticket(cmds, desk["billing"]).id
    cmds.assign(ticket, LEAD, agent_id=desk["bob"])
    cmds.transition(ticket, "in_progress", LEAD)
    cmds.transition(ticket, "waiting_on_customer", LEAD)
    [billing] = backlog_report(db, now=now.now())["teams"]
    assert (billing["in_flight"], billing["waiting_on_customer"], billing["backlog"]) == (1, 1, 0)
    assert billing["oldest_age_seconds"] is None


def test_agents_handled_reopen_rate_and_business_time(db, week):
    report = agents_report(db, since=SINCE, until=UNTIL, now=THURSDAY_NOON)
    by_name = {a["agent_name"]: a for a in report["agents"]}
    assert set(by_name) == {"Ann", "Cy"}
    ann, cy = by_name["Ann"], by_name["Cy"]
    assert (ann["handled"], ann["solved"], ann["reopened"], ann["reopen_rate"]) == (2, 2, 0, 0.0)
    assert ann["first_response"] == {"count": 2, "p50": 4500.0, "p95": pytest.approx(6930.0), "mean": 4500.0}
    assert ann["resolution"] == {"count": 2, "p50": 9000.0, "p95": pytest.approx(10620.0), "mean": 9000.0}
    assert (cy["handled"], cy["solved"], cy["reopened"], cy["reopen_rate"]) == (1, 0, 1, 1.0)
    assert cy["first_response"]["p50"] == 7200.0  # 24/7: wall time
    # Reopened by the customer's mail and open again: not resolved, so no time to resolution (yet)
    assert cy["resolution"] == {"count": 0, "p50": None, "p95": None, "mean": None}
    assert ann["satisfaction"] is None  # the lifecycle issue's ratings go here
    lines = agents_csv(report).splitlines()
    assert lines[0].startswith("agent,email,handled,solved,reopened,reopen_rate,first_response_count")
    assert lines[1].startswith(f"Ann,{ann['agent_email']},2,2,0,0,2,4500,6930,4500,2,9000,10620,9000,")


def test_a_reopened_ticket_is_resolved_when_it_is_solved_again(db, cmds, now, week):
    """T3 (Tech, 24/7), opened Tue 10:00Z, resolved Tue 14:00Z, closed, reopened by the customer Thu 10:00Z:
    solved again Thu 12:00Z, its resolution is that one, 50 h after it was opened, in both reports."""
    from helpdesk.sla.reports import sla_report

    cy = Actor(type="agent", id=week["cy"], role="agent")
    [t3] = db.query("SELECT id FROM tickets WHERE channel = 'chat'")
    cmds.transition(t3["id"], "resolved", cy)
    [agent] = [a for a in agents_report(db, since=SINCE, until=UNTIL, now=THURSDAY_NOON)["agents"] if a["agent_name"] == "Cy"]
    assert agent["resolution"] == {"count": 1, "p50": 50 * 3600.0, "p95": 50 * 3600.0, "mean": 50 * 3600.0}
    [tech] = [t for t in sla_report(db, since=SINCE, until=UNTIL, now=THURSDAY_NOON)["teams"]
              if t["team_id"] == str(week["tech"])]
    assert tech["resolution"] == agent["resolution"]


@pytest.mark.parametrize("call, message", [
    (lambda db: volume_report(db, since=UNTIL, until=SINCE), "must be after since"),
    (lambda db: volume_report(db, since=SINCE, until=datetime(2026, 9, 1, tzinfo=UTC)), "at most 92 days"),
    (lambda db: volume_report(db, since=SINCE, until=UNTIL, unit="hour"), "not one of day, week, month"),
    (lambda db: volume_report(db, since=SINCE, until=UNTIL, timezone="Mars/Olympus"), "not an IANA time zone"),
    (lambda db: agents_report(db, since=datetime(2026, 3, 9), until=UNTIL, now=THURSDAY_NOON), "aware"),
])
def test_bad_input_is_refused_before_any_query(db, call, message):
    db.stats.calls = 0
    with pytest.raises(errors.ValidationFailed) as error:
        call(db)
    assert message in str(error.value) and db.stats.calls == 0


def test_period_starts_for_weeks_and_months():
    from zoneinfo import ZoneInfo

    assert period_starts(utc(2026, 1, 31), utc(2026, 3, 2), "month", ZoneInfo("UTC")) == [
        "2026-01-01", "2026-02-01", "2026-03-01"]
    assert period_starts(utc(2026, 12, 15), utc(2027, 1, 2), "month", ZoneInfo("UTC")) == ["2026-12-01", "2027-01-01"]
    assert period_starts(utc(2026, 3, 11), utc(2026, 3, 17), "week", ZoneInfo("UTC")) == ["2026-03-09", "2026-03-16"]


def test_agents_report_is_one_call_and_agrees_with_the_sla_report(db, week):
    """Ann owns every measured Billing ticket: her figures are Billing's in the SLA report."""
    from helpdesk.sla.reports import sla_report

    db.stats.calls = 0
    [ann] = [a for a in agents_report(db, since=SINCE, until=UNTIL, now=THURSDAY_NOON)["agents"] if a["agent_name"] == "Ann"]
    assert db.stats.calls == 1
    [billing] = [t for t in sla_report(db, since=SINCE, until=UNTIL, now=THURSDAY_NOON)["teams"]
                 if t["team_id"] == str(week["billing"])]
    assert ann["first_response"] == billing["first_response"] and ann["resolution"] == billing["resolution"]


def test_a_public_holiday_of_the_schedules_country_is_not_business_time(db, factories, now):
    """Billing closes on US public holidays: a ticket opened before the 4th of July weekend (observed
    Friday 2026-07-03) and answered on Monday waits one business hour, not nine."""
    from helpdesk.insight import business_time

    business_time._COUNTRIES.discard("US")  # a process that never met the US calendar
    team = factories.team("Holidays", schedule={"timezone": "America/New_York", "holiday_country": "US",
                                                "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    ann = factories.agent("Ann", teams=[team]).id
    cmds = TicketCommands(db, now)
    now.set(utc(2026, 7, 2, 20, 0))  # Thursday 16:00 in New York
    ticket = open_ticket(cmds, team).id
    now.set(utc(2026, 7, 6, 13, 0))  # Monday 09:00
    cmds.assign(ticket, LEAD, agent_id=ann)
    cmds.add_message(ticket, {"body": "hello", "author_type": "agent", "author_agent_id": str(ann)},
                     Actor(type="agent", id=ann, role="agent"))
    period = {"since": utc(2026, 7, 1), "until": utc(2026, 7, 8), "now": now.now()}
    db.stats.calls = 0
    [agent] = agents_report(db, **period)["agents"]
    assert agent["first_response"]["p50"] == 3600.0
    assert db.stats.calls == 2  # the first report to meet the US calendar fetches it, then asks again
    db.stats.calls = 0
    agents_report(db, **period)
    assert db.stats.calls == 1

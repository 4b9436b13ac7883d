"""Notifier: who hears what, on which channel, exactly once per (event, recipient, channel)."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.clock import FixedClock
from helpdesk.db import notify as notify_sql
from helpdesk.events.schemas import Event
from helpdesk.notify.notifier import Notifier, RetryLater
from helpdesk.notify.preferences import NotificationPreferences

from .conftest import mail_text, sent_mail

AT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def make_ticket(db, *, assignee=None, team=None, subject="Printer on fire") -> tuple[uuid.UUID, int]:
    customer = db.query_one("INSERT INTO customers (email) VALUES (:e) RETURNING id", {"e": f"c{uuid.uuid4().hex[:6]}@x.org"})["id"]
    row = db.query_one("""INSERT INTO tickets (id, subject, channel, requester_id, assignee_id, team_id, status, created_at, updated_at)
                          VALUES (:id::uuid, :s, 'email', :c::uuid, :a::uuid, :t::uuid, :st, :at::timestamptz, :at::timestamptz)
                          RETURNING id, number""",
                       {"id": uuid.uuid4(), "s": subject, "c": customer, "a": assignee, "t": team,
                        "st": "assigned" if assignee else "new", "at": AT})
    return uuid.UUID(row["id"]), row["number"]


def event(type_: str, ticket_id, payload: dict, *, actor=None, db=None) -> Event:
    e = Event.model_validate({"id": uuid.uuid4(), "type": type_, "ticket_id": ticket_id, "occurred_at": AT, "payload": payload})
    if db is not None:  # the audit row names the actor
        db.execute("""INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, actor_id, occurred_at)
                      VALUES (:e::uuid, :t::uuid, :ty, :at, :a::uuid, :o::timestamptz)""",
                   {"e": e.id, "t": ticket_id, "ty": type_, "at": "agent" if actor else "system", "a": actor, "o": AT})
    return e


def assigned(ticket_id, number, agent, reason="manual"):
    return event("ticket.assigned", ticket_id, {"agent_id": str(agent), "reason": reason, "number": number})


def deliveries(db):
    return db.query("SELECT agent_id, channel, status, attempts FROM notification_deliveries ORDER BY agent_id, channel")


def test_assignment_notifies_by_email_and_slack_once_even_when_redelivered(db, notifier, make_agent, slack_stub):
    agent = make_agent("ann", slack="U0ANN")
    ticket, number = make_ticket(db, assignee=agent)
    e = assigned(ticket, number, agent)
    db.stats.calls = 0
    outcome = notifier.handle(e)
    assert outcome.sent == 2 and db.stats.calls == 3  # recipients, claim, settle
    mail = sent_mail()
    assert len(mail) == 1
    raw = mail_text(mail[0])
    assert f"[TKT-{number}] assigned to you: Printer on fire" in raw and "Auto-Submitted: auto-generated" in raw
    assert mail[0].source == "Helpdesk <notifications@example.com>"
    assert f"/#/ticket/{ticket}" in raw
    assert [p["channel"] for p in slack_stub.posts] == ["U0ANN"] and slack_stub.posts[0]["path"] == "/api/chat.postMessage"
    assert slack_stub.auth == ["Bearer xoxb-test-token"]
    # SQS delivers the same event again (at-least-once): nobody is told twice.
    again = notifier.handle(e)
    assert (again.sent, again.already_done) == (0, 2)
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1
    assert {d["status"] for d in deliveries(db)} == {"sent"}


def test_no_slack_user_means_email_only(db, notifier, make_agent, slack_stub):
    agent = make_agent("bo")
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).sent == 1
    assert slack_stub.posts == [] and len(sent_mail()) == 1


def test_self_assignment_and_pull_notify_nobody(db, notifier, make_agent):
    agent = make_agent("cy", slack="U0CY")
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(event("ticket.assigned", ticket, {"agent_id": str(agent), "reason": "manual", "number": number},
                                 actor=agent, db=db)).sent == 0
    db.stats.calls = 0
    assert notifier.handle(assigned(ticket, number, agent, reason="pulled")).sent == 0
    assert db.stats.calls == 0
    assert sent_mail() == [] and deliveries(db) == []


def test_customer_reply_notifies_assignee_agent_reply_nobody(db, notifier, make_agent, slack_stub):
    agent = make_agent("di", slack="U0DI")
    ticket, number = make_ticket(db, assignee=agent)
    base = {"message_id": str(uuid.uuid4()), "visibility": "public", "channel": "email", "number": number,
            "assignee_id": str(agent)}
    db.stats.calls = 0
    assert notifier.handle(event("ticket.replied", ticket, {**base, "author_type": "agent"})).sent == 0
    assert db.stats.calls == 0
    assert notifier.handle(event("ticket.replied", ticket, {**base, "author_type": "customer"})).sent == 2
    assert "new customer reply" in mail_text(sent_mail()[0])
    # events nobody is told about cost nothing
    assert notifier.handle(event("ticket.status_changed", ticket, {"from": "new", "to": "spam", "number": number})).sent == 0


def test_breach_tells_assignee_and_team_leads_warning_unassigned_tells_leads(db, notifier, make_agent, make_team):
    team, other = make_team("t1"), make_team("t2")
    lead = make_agent("lead", role="lead", team=team)
    make_agent("member", team=team)  # not a lead: not told
    make_agent("other-lead", role="lead", team=other)
    agent = make_agent("eve", team=team)
    ticket, number = make_ticket(db, assignee=agent, team=team)
    breach = event("sla.breached", ticket, {"kind": "first_response", "number": number, "team_id": str(team),
                                            "assignee_id": str(agent), "priority_from": "normal", "priority_to": "high",
                                            "clocks": [{"kind": "first_response", "due_at": AT.isoformat()}],
                                            "notify": ["assignee", "team_lead"]})
    assert notifier.handle(breach).sent == 2
    told = {m.destinations[0].split("-")[0] for m in sent_mail()}
    assert told == {"lead", "eve"}
    assert "Priority raised to high" in mail_text(sent_mail()[0])
    unassigned, n2 = make_ticket(db, team=team)
    warning = event("sla.warning", unassigned, {"kind": "resolution", "due_at": (AT + timedelta(hours=1)).isoformat(),
                                                "number": n2, "team_id": str(team)})
    assert notifier.handle(warning).sent == 1
    assert "SLA warning: resolution due Mon 02 Mar 16:00 (UTC)" in mail_text(sent_mail()[-1])


def test_preferences_choose_channels_per_event_type(db, clock, notifier, make_agent, slack_stub):
    agent = make_agent("fay", slack="U0FAY")
    prefs = NotificationPreferences(db, clock)
    prefs.put(agent, {"channels": {"ticket.assigned": ["slack"], "ticket.replied": []}})
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).sent == 1
    assert sent_mail() == [] and len(slack_stub.posts) == 1
    reply = event("ticket.replied", ticket, {"message_id": str(uuid.uuid4()), "author_type": "customer", "visibility": "public",
                                             "channel": "web", "number": number, "assignee_id": str(agent)})
    assert notifier.handle(reply).sent == 0 and len(slack_stub.posts) == 1


def test_quiet_hours_defer_until_they_end_then_deliver_once(db, notifier, make_agent, slack_stub):
    agent = make_agent("gus", slack="U0GUS")
    # 15:00Z is 10:00 in New York: quiet 09:00-12:00 local ends at 17:00Z.
    NotificationPreferences(db, notifier.clock).put(agent, {"timezone": "America/New_York", "quiet_start": "09:00",
                                                            "quiet_end": "12:00"})
    ticket, number = make_ticket(db, assignee=agent)
    e = assigned(ticket, number, agent)
    outcome = notifier.handle(e)
    assert (outcome.sent, outcome.deferred) == (0, 2)
    assert notifier.handle(e).already_done == 2  # redelivery while deferred: still nothing
    early = Notifier(db, FixedClock(AT + timedelta(hours=1, minutes=59)), notifier.senders)
    assert early.deliver_due().sent == 0
    late = Notifier(db, FixedClock(AT + timedelta(hours=2)), notifier.senders)
    assert late.deliver_due().sent == 2
    assert late.deliver_due().sent == 0
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1
    assert {d["status"] for d in deliveries(db)} == {"sent"}


def test_quiet_hours_drop_suppresses(db, notifier, make_agent):
    agent = make_agent("hal")
    NotificationPreferences(db, notifier.clock).put(agent, {"timezone": "Europe/Berlin", "quiet_start": "15:00",
                                                            "quiet_end": "08:00", "quiet_mode": "drop"})
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).suppressed == 1
    assert Notifier(db, FixedClock(AT + timedelta(days=1)), notifier.senders).deliver_due().sent == 0
    assert sent_mail() == [] and [d["status"] for d in deliveries(db)] == ["suppressed"]


def test_slack_outage_retries_only_slack_and_email_is_not_repeated(db, notifier, make_agent, slack_stub):
    agent = make_agent("ivy", slack="U0IVY")
    ticket, number = make_ticket(db, assignee=agent)
    e = assigned(ticket, number, agent)
    slack_stub.fail["U0IVY"] = (503, "service_unavailable")
    with pytest.raises(RetryLater, match="slack"):
        notifier.handle(e)
    assert len(sent_mail()) == 1
    assert {d["channel"]: d["status"] for d in deliveries(db)} == {"email": "sent", "slack": "failed"}
    slack_stub.fail.clear()
    outcome = notifier.handle(e)
    assert (outcome.sent, outcome.already_done) == (1, 1)
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1


def test_permanent_slack_error_is_recorded_not_retried(db, notifier, make_agent, slack_stub):
    agent = make_agent("jo", slack="U0GONE")
    slack_stub.fail["U0GONE"] = (200, "user_not_found")
    ticket, number = make_ticket(db, assignee=agent)
    outcome = notifier.handle(assigned(ticket, number, agent))
    assert (outcome.sent, outcome.rejected) == (1, 1)
    assert {d["channel"]: d["status"] for d in deliveries(db)} == {"email": "sent", "slack": "rejected"}


def test_a_claim_held_by_a_dead_worker_is_taken_over_after_its_lease(db, notifier, make_agent, slack_stub):
    agent = make_agent("kim")
    ticket, number = make_ticket(db, assignee=agent)
    e = assigned(ticket, number, agent)

    class Crash(Exception):
        pass

    class DyingNotifier(Notifier):
        def _send(self, *args):  # the process dies after the claim, before the settle
            raise Crash("worker died mid-send")

    with pytest.raises(Crash):
        DyingNotifier(db, notifier.clock, notifier.senders).handle(e)
    assert [d["status"] for d in deliveries(db)] == ["sending"]
    with pytest.raises(RetryLater, match="in flight elsewhere"):
        notifier.handle(e)  # redelivered within the lease: not sent twice concurrently
    assert sent_mail() == []
    after = Notifier(db, FixedClock(AT + timedelta(seconds=31)), notifier.senders)
    assert after.handle(e).sent == 1
    assert len(sent_mail()) == 1


def test_preferences_validation_names_the_problem(db, clock, make_agent):
    from helpdesk import errors

    prefs = NotificationPreferences(db, clock)
    agent = make_agent("lu")
    with pytest.raises(errors.ValidationFailed, match="unknown IANA timezone 'Mars/Olympus'"):
        prefs.put(agent, {"timezone": "Mars/Olympus"})
    with pytest.raises(errors.ValidationFailed, match="unknown event type.*ticket.created.*allowed: ticket.assigned"):
        prefs.put(agent, {"channels": {"ticket.created": ["email"]}})
    with pytest.raises(errors.ValidationFailed, match="channels.ticket.assigned.0"):
        prefs.put(agent, {"channels": {"ticket.assigned": ["pigeon"]}})
    with pytest.raises(errors.ValidationFailed, match="both or neither"):
        prefs.put(agent, {"quiet_start": "22:00"})
    with pytest.raises(errors.NotFound):
        prefs.put(uuid.uuid4(), {})
    saved = prefs.put(agent, {"timezone": "Asia/Tokyo", "quiet_start": "22:00", "quiet_end": "07:00"})
    assert prefs.get(agent) == saved
    assert prefs.get(uuid.uuid4()).timezone == "UTC"


def test_concurrent_duplicates_send_once(db, notifier, make_agent, slack_stub, rds_data_client):
    import threading

    from tests.conftest import make_data_api

    agent = make_agent("max", slack="U0MAX")
    ticket, number = make_ticket(db, assignee=agent)
    e = assigned(ticket, number, agent)
    outcomes: list[str] = []

    def worker():
        own = Notifier(make_data_api(rds_data_client), notifier.clock, notifier.senders)
        try:
            outcomes.append(f"sent {own.handle(e).sent}")
        except RetryLater:
            outcomes.append("retry later")

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1
    assert sum(int(o.split()[1]) for o in outcomes if o.startswith("sent")) == 2


def test_prune_keeps_recent_and_unfinished_deliveries(db, notifier, make_agent):
    from helpdesk.notify.notifier import prune_deliveries

    agent = make_agent("ned")
    ticket, number = make_ticket(db, assignee=agent)
    notifier.handle(assigned(ticket, number, agent))
    notifier.handle(customer_reply(ticket, number, agent))  # opens a coalescing window
    assert prune_deliveries(db, notifier.clock) == 0
    assert db.query_one("SELECT count(*) AS n FROM notification_windows")["n"] == 1
    assert prune_deliveries(db, FixedClock(AT + timedelta(days=91))) == 2
    assert db.query_one("SELECT count(*) AS n FROM notification_windows")["n"] == 0  # long closed: forgotten


@pytest.mark.parametrize("due", [3, 300])
def test_the_scheduled_run_costs_the_same_calls_whatever_is_due(db, notifier, make_agent, due):
    from helpdesk.notify.notifier import DELIVER_DUE_MAX_CALLS

    agent = make_agent("joy")
    NotificationPreferences(db, notifier.clock).put(agent, {"timezone": "America/New_York", "quiet_start": "09:00",
                                                            "quiet_end": "12:00"})
    ticket, number = make_ticket(db, assignee=agent)
    assert notifier.handle(assigned(ticket, number, agent)).deferred == 1
    db.execute("""INSERT INTO notification_deliveries (event_id, agent_id, channel, event_type, ticket_id, status,
                                                       deliver_after, message, created_at, updated_at)
                  SELECT gen_random_uuid(), agent_id, channel, event_type, ticket_id, status, deliver_after, message,
                         created_at, updated_at
                  FROM notification_deliveries, generate_series(2, :n) WHERE status = 'deferred'""", {"n": due})
    late = Notifier(db, FixedClock(AT + timedelta(hours=2)), notifier.senders)
    db.stats.calls = 0
    assert late.deliver_due().sent == min(due, 100)  # one run's limit; the rest on the next
    assert db.stats.calls == 2 <= DELIVER_DUE_MAX_CALLS  # claim + settle


def test_a_subject_with_line_breaks_is_notified_on_one_header_line(db, notifier, make_agent):
    # Issue 22: CR/LF in a ticket subject made the notification mail fail to build (retried into the DLQ).
    agent = make_agent("eve")
    ticket, number = make_ticket(db, assignee=agent, subject="Help\r\nBcc: victim@evil.test\r\n\r\nbody")
    assert notifier.handle(assigned(ticket, number, agent)).sent == 1
    headers = mail_text(sent_mail()[0]).replace("\r\n", "\n").split("\n\n", 1)[0]
    assert f"[TKT-{number}] assigned to you: Help Bcc: victim@evil.test body" in headers
    assert "\nBcc:" not in headers


def test_a_burst_of_customer_replies_is_coalesced_into_one_notification(db, clock, notifier, make_agent, slack_stub):
    # Issue 22: 30 portal replies in 0.9 s sent the agent 30 mails.
    agent = make_agent("fay", slack="UFAY0001")
    ticket, number = make_ticket(db, assignee=agent)
    other, other_number = make_ticket(db, assignee=agent)

    def reply(ticket_id, number):
        return customer_reply(ticket_id, number, agent)

    outcomes = [notifier.handle(reply(ticket, number)) for _ in range(30)]
    assert sum(o.sent for o in outcomes) == 2 and sum(o.coalesced for o in outcomes) == 58  # email + slack once
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1
    assert notifier.handle(reply(other, other_number)).sent == 2  # another ticket is news
    # After the window the next reply is news again.
    later = Notifier(db, FixedClock(clock.now() + timedelta(minutes=3)), notifier.senders,
                     web_base_url=notifier.web_base_url)
    assert later.handle(reply(ticket, number)).sent == 2
    # Other kinds of event are never coalesced.
    assert notifier.handle(assigned(ticket, number, agent)).sent == 2
    assert notifier.handle(assigned(ticket, number, agent, reason="rule")).sent == 2


def customer_reply(ticket_id, number, agent) -> Event:
    return event("ticket.replied", ticket_id, {"message_id": str(uuid.uuid4()), "visibility": "public", "channel": "web",
                                               "number": number, "assignee_id": str(agent), "author_type": "customer"})


class ClaimCommitsLate:
    """One invocation's Data API whose delivery claim has run but commits only when `release` is set: what
    two overlapping claim calls look like to the database (each statement commits when it ends)."""

    def __init__(self, api) -> None:
        self.api, self.claimed, self.release = api, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.api, name)

    def execute(self, sql, params=None, **kw):
        if sql != notify_sql.CLAIM_DELIVERIES:
            return self.api.execute(sql, params, **kw)
        with self.api.transaction() as tx:
            result = tx.execute(sql, params)
            self.claimed.set()
            assert self.release.wait(10)
        return result


def test_two_invocations_claiming_one_burst_at_once_send_it_once(db, clock, notifier, make_agent, slack_stub,
                                                                  rds_data_client):
    """Two notifier invocations take two customer replies to one ticket at the same moment: the second
    claims while the first's claim is not yet committed. Sending once is the database's decision: the
    second claim waits for the first and is coalesced."""
    from tests.conftest import make_data_api

    agent = make_agent("gus", slack="UGUS0001")
    ticket, number = make_ticket(db, assignee=agent)
    first_db = ClaimCommitsLate(make_data_api(rds_data_client))
    outcomes: dict[str, object] = {}

    def handle(name, api) -> None:
        try:
            outcomes[name] = Notifier(api, clock, notifier.senders, web_base_url=notifier.web_base_url).handle(
                customer_reply(ticket, number, agent))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes[name] = exc

    first = threading.Thread(target=handle, args=("first", first_db))
    second = threading.Thread(target=handle, args=("second", make_data_api(rds_data_client)))
    first.start()
    assert first_db.claimed.wait(10)
    second.start()
    second.join(timeout=1.0)  # it ends here only if it did not wait for the first claim
    first_db.release.set()
    first.join(10)
    second.join(10)
    sent = sum(o.sent for o in outcomes.values())
    coalesced = sum(o.coalesced for o in outcomes.values())
    assert (sent, coalesced) == (2, 2), outcomes  # email + Slack once, the other reply's two coalesced
    assert len(sent_mail()) == 1 and len(slack_stub.posts) == 1


def test_invocations_racing_on_many_tickets_notify_once_per_ticket(db, clock, notifier, make_agent, slack_stub,
                                                                   rds_data_client):
    """Without any pause: pairs of invocations released together by a barrier, one pair per ticket."""
    from tests.conftest import make_data_api

    agent = make_agent("hal")
    tickets = [make_ticket(db, assignee=agent) for _ in range(12)]
    apis = [make_data_api(rds_data_client) for _ in range(2)]
    sent = [[0] * len(tickets) for _ in apis]
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            for k, (ticket, number) in enumerate(tickets):
                barrier.wait(10)
                sent[i][k] = Notifier(apis[i], clock, notifier.senders).handle(customer_reply(ticket, number, agent)).sent
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert [a + b for a, b in zip(*sent)] == [1] * len(tickets)  # one mail per ticket, whoever sent it
    assert len(sent_mail()) == len(tickets)

"""Outbox -> SNS -> SQS: nothing lost when SNS is down, nothing sent twice by the relay."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

from helpdesk.clock import FixedClock
from helpdesk.events.outbox import mark_processed, relay_pending, relay_round
from helpdesk.events.publisher import DeferredPublisher, RecordingPublisher
from helpdesk.events.schemas import parse_event
from helpdesk.events.sns import SnsPublisher
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

NO_GRACE = timedelta(0)  # the tests relay rows their command just wrote
NEW_TICKET = {"channel": "api", "subject": "Printer on fire", "body": "It is on fire.", "requester_email": "ann@example.org"}


def pending(db) -> list[dict]:
    return db.query("SELECT id, event_type, attempts, claimed_until, dead_at FROM outbox WHERE published_at IS NULL ORDER BY seq")


def test_sns_down_ticket_still_created_then_relayed_exactly_once(db, clock, topology, flaky_sns):
    flaky_sns.down = True
    cmds = TicketCommands(db, clock, SnsPublisher(flaky_sns, topology.topic_arn))
    result = cmds.create_ticket(NEW_TICKET)
    assert result.ticket is not None and result.ticket.status == "new"
    assert flaky_sns.calls == 1
    assert [r["event_type"] for r in pending(db)] == ["ticket.created"]
    assert topology.drain() == []

    # SNS is back; the sweep's relay publishes the leftover once.
    flaky_sns.down = False
    publisher = SnsPublisher(flaky_sns, topology.topic_arn)
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 1
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 0
    assert pending(db) == []
    messages = topology.drain()
    assert len(messages) == 1
    event = parse_event(messages[0]["Body"])  # SNS envelope (raw delivery off)
    assert event.type == "ticket.created" and event.ticket_id == result.ticket.id
    assert event.payload.subject == "Printer on fire"
    assert json.loads(messages[0]["Body"])["MessageAttributes"]["event_type"]["Value"] == "ticket.created"

    # At-least-once: a relay whose settle was lost sends the row again; a consumer that dedupes by
    # event id (processed_events) acts once on all copies.
    db.execute("UPDATE outbox SET published_at = NULL")
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 1
    copies = messages + topology.drain()
    assert len(copies) == 2
    acted = [e.id for e in map(lambda m: parse_event(m["Body"]), copies) if mark_processed(db, "test-consumer", e.id, clock)]
    assert acted == [event.id]


def test_inline_publish_marks_rows_and_relay_sends_nothing(db, clock, topology):
    cmds = TicketCommands(db, clock, SnsPublisher(topology.sns, topology.topic_arn))
    ticket = cmds.create_ticket(NEW_TICKET).ticket
    cmds.transition(ticket.id, "spam", Actor(type="system"))
    assert pending(db) == []
    assert relay_pending(db, SnsPublisher(topology.sns, topology.topic_arn), clock=clock, grace=NO_GRACE) == 0
    types = [parse_event(m["Body"]).type for m in topology.drain()]
    assert sorted(types) == ["ticket.created", "ticket.status_changed"]


def test_relay_is_bounded_oldest_first_and_batches_by_ten(db, clock, topology):
    cmds = TicketCommands(db, clock, DeferredPublisher())
    ids = [cmds.create_ticket({**NEW_TICKET, "subject": f"t{i}"}).ticket.id for i in range(23)]
    calls: list[int] = []

    class CountingSns:
        def publish_batch(self, **kw):
            calls.append(len(kw["PublishBatchRequestEntries"]))
            return topology.sns.publish_batch(**kw)

    publisher = SnsPublisher(CountingSns(), topology.topic_arn)
    db.stats.calls = 0
    assert relay_pending(db, publisher, limit=15, clock=clock, grace=NO_GRACE) == 15
    assert db.stats.calls == 2  # claim + settle
    assert calls == [10, 5]
    first = [parse_event(m["Body"]).ticket_id for m in topology.drain(max_rounds=10)]
    assert sorted(first, key=ids.index) == ids[:15]
    assert relay_pending(db, publisher, limit=15, clock=clock, grace=NO_GRACE) == 8
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 0


def test_grace_period_leaves_fresh_rows_to_their_command(db, clock):
    TicketCommands(db, clock, DeferredPublisher()).create_ticket(NEW_TICKET)
    rec = RecordingPublisher()
    assert relay_pending(db, rec, clock=clock) == 0  # default grace: 5 s of database time
    db.execute("UPDATE outbox SET created_at = now() - interval '6 seconds'")
    assert relay_pending(db, rec, clock=clock) == 1


def test_application_clock_does_not_hide_rows(db):
    # The local dev clock can run days ahead of the system clock: occurred_at is in the "future".
    ahead = FixedClock(datetime.now(timezone.utc) + timedelta(days=3))
    TicketCommands(db, ahead, DeferredPublisher()).create_ticket(NEW_TICKET)
    db.execute("UPDATE outbox SET created_at = now() - interval '6 seconds'")
    assert relay_pending(db, RecordingPublisher()) == 1


def test_failed_publish_backs_off_then_succeeds(db, clock, topology, flaky_sns):
    TicketCommands(db, clock, DeferredPublisher()).create_ticket(NEW_TICKET)
    publisher = SnsPublisher(flaky_sns, topology.topic_arn)
    flaky_sns.down = True
    r = relay_round(db, publisher, clock=clock, grace=NO_GRACE)
    assert (r.claimed, r.published, r.retried) == (1, 0, 1)
    row = db.query_one("SELECT attempts, extract(epoch FROM claimed_until - now()) AS wait FROM outbox")
    assert row["attempts"] == 1 and 25 <= float(row["wait"]) <= 30  # 30 s backoff
    flaky_sns.down = False
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 0  # still backing off
    db.execute("UPDATE outbox SET claimed_until = now() - interval '1 second'")  # 30 s later
    assert relay_pending(db, publisher, clock=clock, grace=NO_GRACE) == 1
    assert len(topology.drain()) == 1


def test_partial_batch_rejection_leaves_only_rejected_pending(db, clock, topology):
    cmds = TicketCommands(db, clock, DeferredPublisher())
    for i in range(3):
        cmds.create_ticket({**NEW_TICKET, "subject": f"t{i}"})
    rows = pending(db)
    reject = str(rows[1]["id"])

    class PartlyFailingSns:
        def publish_batch(self, TopicArn, PublishBatchRequestEntries):
            keep = [e for e in PublishBatchRequestEntries if e["Id"] != reject]
            ok = topology.sns.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=keep)
            return {"Successful": ok["Successful"],
                    "Failed": [{"Id": reject, "Code": "InternalError", "Message": "boom", "SenderFault": False}]}

    assert relay_pending(db, SnsPublisher(PartlyFailingSns(), topology.topic_arn), clock=clock, grace=NO_GRACE) == 2
    assert [str(r["id"]) for r in pending(db)] == [reject]


def test_invalid_row_is_parked_not_blocking(db, clock):
    TicketCommands(db, clock, DeferredPublisher()).create_ticket(NEW_TICKET)
    db.execute("INSERT INTO outbox (id, event_type, payload, occurred_at) VALUES (:id::uuid, 'ticket.exploded', '{}', :at::timestamptz)",
               {"id": uuid.uuid4(), "at": clock.now()})
    rec = RecordingPublisher()
    r = relay_round(db, rec, clock=clock, grace=NO_GRACE)
    assert (r.published, r.parked) == (1, 1)
    parked = db.query_one("SELECT event_type, last_error FROM outbox WHERE dead_at IS NOT NULL")
    assert parked["event_type"] == "ticket.exploded" and "unknown event type 'ticket.exploded'" in parked["last_error"]
    assert relay_pending(db, rec, clock=clock, grace=NO_GRACE) == 0


def test_concurrent_relays_do_not_double_send(db, clock, rds_data_client):
    from tests.conftest import make_data_api  # noqa: F401 - same DataApi factory as the fixture

    cmds = TicketCommands(db, clock, DeferredPublisher())
    for i in range(40):
        cmds.create_ticket({**NEW_TICKET, "subject": f"t{i}"})
    seen: list[str] = []
    lock = threading.Lock()

    class SlowRecorder:
        def publish(self, events):
            with lock:
                seen.extend(str(e["id"]) for e in events)
            return [str(e["id"]) for e in events]

    def run():
        api = make_data_api(rds_data_client)
        relay_pending(api, SlowRecorder(), limit=7, clock=clock, grace=NO_GRACE)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 40
    assert pending(db) == []


def test_rows_held_by_a_dead_relay_are_released_by_the_lease(db, clock):
    from helpdesk.db import events as sql

    TicketCommands(db, clock, DeferredPublisher()).create_ticket(NEW_TICKET)
    # a relay claimed the row and died before publishing or settling
    assert len(db.execute(sql.CLAIM_PENDING, {"grace_seconds": 0.0, "lease_seconds": 120.0, "limit": 10}).rows) == 1
    rec = RecordingPublisher()
    assert relay_pending(db, rec, clock=clock, grace=NO_GRACE) == 0
    db.execute("UPDATE outbox SET claimed_until = now() - interval '1 second'")  # two minutes later
    assert relay_pending(db, rec, clock=clock, grace=NO_GRACE) == 1
    assert db.query_one("SELECT attempts FROM outbox")["attempts"] == 2


def test_health_and_pruning(db, clock):
    from helpdesk.events.outbox import outbox_health, prune_processed, prune_published

    cmds = TicketCommands(db, clock, DeferredPublisher())
    for i in range(3):
        cmds.create_ticket({**NEW_TICKET, "subject": f"t{i}"})
    health = outbox_health(db)
    assert (health["pending"], health["parked"], health["oldest_pending"]) == (3, 0, clock.now())
    assert relay_pending(db, RecordingPublisher(), clock=clock, grace=NO_GRACE, limit=2) == 2
    assert outbox_health(db)["pending"] == 1
    assert prune_published(db, FixedClock(clock.now() + timedelta(days=6))) == 0
    assert prune_published(db, FixedClock(clock.now() + timedelta(days=8))) == 2
    mark_processed(db, "c", uuid.uuid4(), clock)
    assert prune_processed(db, FixedClock(clock.now() + timedelta(days=31))) == 1

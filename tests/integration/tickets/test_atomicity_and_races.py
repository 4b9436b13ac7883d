"""Each command is one atomic unit (a failure at its very last write leaves nothing behind), and
compare-and-set: concurrent conflicting commands cannot both win."""
from __future__ import annotations

import random
import threading
import uuid

import pytest

from helpdesk import errors
from helpdesk.db.tickets.create import CREATE_TICKET
from helpdesk.tickets import states
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

AGENT = Actor(type="agent", id=uuid.UUID(int=7), role="agent")
# The audit insert is the LAST write of every statement; an actor type outside its CHECK makes it fail
# after the ticket, message, assignment, SLA and outbox rows were written within the same statement.
BROKEN = Actor.model_construct(type="robot", id=None, role=None)


def new_ticket(**kw) -> dict:
    return {"channel": "web", "subject": "s", "body": "b", "requester_email": "ann@example.com", **kw}


def test_create_fails_late_and_writes_nothing(db, cmds, snapshot):
    before = snapshot()
    with pytest.raises(errors.CheckViolation) as info:
        cmds.create_ticket(new_ticket(participants=["x@example.com"], inbound_message_id="<a@b>", channel="email"),
                           BROKEN, idempotency_key="k")
    assert info.value.extra["constraint"] == "ticket_audit_actor_type_check"
    assert snapshot() == before


def test_create_fails_on_a_late_check_in_participants(db, snapshot):
    before = snapshot()
    params = {"ticket_id": uuid.uuid4(), "now": __import__("datetime").datetime.now(__import__("datetime").timezone.utc),
              "requester_email": "new@example.com", "requester_name": None, "subject": "s", "priority": "normal",
              "channel": "web", "team_id": None, "tags": [], "parent_ticket_id": None, "possible_followup_of": None,
              "channel_thread_id": None, "body": "b", "body_full": None, "body_html": None, "inbound_message_id": None,
              "attachments": [], "metadata": {}, "participants": ["NOT-LOWER@EXAMPLE.COM"], "idem_scope": "api",
              "idem_key": None, "idem_hash": "h", "actor_type": "customer", "actor_id": None, "route": None,
              "sla_plan": None}
    with pytest.raises(errors.CheckViolation, match="ticket_participants"):
        db.execute(CREATE_TICKET, params)
    assert snapshot() == before  # not even the customer upsert survived


def test_add_message_fails_late_and_writes_nothing(db, cmds, clock, snapshot, make_agent):
    t = cmds.create_ticket(new_ticket()).ticket
    agent = make_agent()
    cmds.assign(t.id, AGENT, agent_id=agent)
    cmds.transition(t.id, "in_progress", AGENT)
    cmds.transition(t.id, "resolved", AGENT)
    cmds.transition(t.id, "closed", AGENT)
    clock.advance(days=1)
    before = snapshot()
    with pytest.raises(errors.CheckViolation):  # a reopening customer message: status, counters, message, audit x3
        cmds.add_message(t.id, {"body": "again", "author_type": "customer", "inbound_message_id": "<r@x>", "channel": "email"}, BROKEN)
    assert snapshot() == before


def test_transition_assign_merge_fail_late_and_write_nothing(db, cmds, snapshot, make_agent):
    a = cmds.create_ticket(new_ticket()).ticket
    b = cmds.create_ticket(new_ticket()).ticket
    agent = make_agent()
    cmds.assign(a.id, AGENT, agent_id=agent)
    before = snapshot()
    with pytest.raises(errors.CheckViolation):
        cmds.transition(a.id, "new", BROKEN)  # would unassign, write history, drop the agent's load
    with pytest.raises(errors.CheckViolation):
        cmds.assign(b.id, BROKEN, agent_id=agent)
    with pytest.raises(errors.CheckViolation):
        cmds.merge(a.id, b.id, BROKEN)  # would move messages and participants
    assert snapshot() == before


# -- races -----------------------------------------------------------------------------------
def _run_together(*fns):
    barrier = threading.Barrier(len(fns))
    outcomes: list = [None] * len(fns)

    def run(i, fn):
        barrier.wait()
        try:
            outcomes[i] = fn()
        except errors.HelpdeskError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_conflicting_transitions_exactly_one_wins(db, cmds, make_agent):
    agent = make_agent()
    for _ in range(8):
        t = cmds.create_ticket(new_ticket()).ticket
        cmds.assign(t.id, AGENT, agent_id=agent)
        cmds.transition(t.id, "in_progress", AGENT)
        outcomes = _run_together(
            lambda: cmds.transition(t.id, "resolved", AGENT, expected_status="in_progress"),
            lambda: cmds.transition(t.id, "waiting_on_customer", AGENT, expected_status="in_progress"),
        )
        winners = [o for o in outcomes if not isinstance(o, Exception)]
        losers = [o for o in outcomes if isinstance(o, Exception)]
        assert len(winners) == 1 and len(losers) == 1
        assert isinstance(losers[0], errors.Conflict)
        assert losers[0].extra["current_status"] == winners[0].ticket.status
        final = db.query_one("SELECT status FROM tickets WHERE id = :id::uuid", {"id": t.id})["status"]
        assert final == winners[0].ticket.status
        changes = db.query("SELECT count(*) AS c FROM ticket_audit WHERE ticket_id = :id::uuid AND from_status = 'in_progress'",
                           {"id": t.id})
        assert changes[0]["c"] == 1


def test_concurrent_merges_in_opposite_directions(db, cmds):
    for _ in range(5):
        a = cmds.create_ticket(new_ticket()).ticket
        b = cmds.create_ticket(new_ticket()).ticket
        outcomes = _run_together(lambda: cmds.merge(a.id, b.id, AGENT), lambda: cmds.merge(b.id, a.id, AGENT))
        assert sum(not isinstance(o, Exception) for o in outcomes) == 1
        statuses = sorted(r["status"] for r in db.query("SELECT status FROM tickets WHERE id IN (:a::uuid, :b::uuid)", {"a": a.id, "b": b.id}))
        assert statuses == ["merged", "new"]


def test_twenty_threads_of_random_transitions_stay_in_the_table(db, clock, make_agent):
    cmds = TicketCommands(db, clock)
    agent = make_agent()
    original = cmds.create_ticket(new_ticket()).ticket
    t = cmds.create_ticket(new_ticket()).ticket
    # statuses a bare change may reach (assigned and merged have their own commands)
    targets = [s.value for s in states.Status if s not in states.ENTERED_BY_COMMAND]
    unexpected: list[BaseException] = []
    barrier = threading.Barrier(20)

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        barrier.wait()
        for _ in range(15):
            try:
                if rnd.random() < 0.2:
                    cmds.assign(t.id, AGENT, agent_id=agent)
                else:
                    target = rnd.choice(targets)
                    cmds.transition(t.id, target, AGENT,
                                    duplicate_of=original.id if target == "duplicate" else None)
            except (errors.InvalidTransition, errors.Conflict):
                pass
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not unexpected, unexpected[:3]
    trail = db.query("SELECT from_status, to_status FROM ticket_audit WHERE ticket_id = :id::uuid "
                     "AND event_type = 'ticket.status_changed' ORDER BY id", {"id": t.id})
    assert trail, "no transition succeeded"
    current = "new"
    for step in trail:
        assert step["from_status"] == current, "the audit trail must chain"
        assert states.can_transition(step["from_status"], step["to_status"]), step
        current = step["to_status"]
    row = db.query_one("SELECT status, assignee_id FROM tickets WHERE id = :id::uuid", {"id": t.id})
    assert row["status"] == current
    expected_load = int(row["assignee_id"] is not None and row["status"] in ("assigned", "in_progress", "reopened"))
    assert db.query_one("SELECT active_count FROM agents")["active_count"] == expected_load

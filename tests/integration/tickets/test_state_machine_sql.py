"""The state machine's one home is helpdesk.tickets.states; the database enforces the same table.

Whichever statement changes a ticket's status (a command, the sweep, routing, a hand-written UPDATE),
the trigger from migration 1160 refuses a move the table does not allow.
"""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.tickets import states
from helpdesk.tickets.models import Actor

AGENT = Actor(type="agent", id=uuid.UUID(int=7), role="agent")


def new_ticket(**kw) -> dict:
    return {"channel": "email", "subject": "Printer on fire", "body": "Smoke everywhere.",
            "requester_email": "ann@example.com", **kw}


def test_the_database_table_is_the_python_table(db):
    rows = db.query("SELECT from_status, to_status, via FROM ticket_transitions")
    in_db = {(r["from_status"], r["to_status"]): r["via"] for r in rows}
    expected = {(src.value, dst.value): None for src, nxt in states.TRANSITIONS.items() for dst in nxt}
    expected.update({(src.value, dst.value): via.value for (src, dst), via in states.COMPOSITE_MOVES.items()})
    assert in_db == expected


def test_a_raw_update_outside_the_table_is_refused(db, cmds):
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    with pytest.raises(errors.CheckViolation) as info:
        db.execute("UPDATE tickets SET status = 'closed' WHERE id = :t::uuid", {"t": ticket.id})
    assert "cannot move from new to closed" in str(info.value)
    assert db.query_one("SELECT status FROM tickets WHERE id = :t::uuid", {"t": ticket.id})["status"] == "new"


def test_closed_to_in_progress_only_through_a_reopen(db, cmds, make_agent):
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    cmds.assign(ticket.id, AGENT, agent_id=make_agent())
    for status in ("in_progress", "resolved", "closed"):
        cmds.transition(ticket.id, status, AGENT)
    with pytest.raises(errors.CheckViolation):
        db.execute("UPDATE tickets SET status = 'in_progress' WHERE id = :t::uuid", {"t": ticket.id})
    # a customer reply within the window reopens: one row update, both steps audited
    result = cmds.add_message(ticket.id, {"body": "still smoking", "author_type": "customer",
                                          "visibility": "public"}, Actor(type="customer"))
    assert (result.ticket.status, result.ticket.reopen_count) == ("in_progress", 1)


@pytest.mark.parametrize("stale, update", [
    ("resolved_at", "UPDATE tickets SET status = 'in_progress' WHERE id = :t::uuid"),
    ("resolved_at", "UPDATE tickets SET status = 'reopened', reopen_count = reopen_count + 1, closed_at = NULL "
                    "WHERE id = :t::uuid"),
    ("closed_at", "UPDATE tickets SET status = 'reopened', reopen_count = reopen_count + 1, resolved_at = NULL "
                  "WHERE id = :t::uuid"),
])
def test_a_ticket_out_of_solved_cannot_keep_its_resolution(db, cmds, make_agent, stale, update):
    """Whichever statement moves a ticket out of resolved or closed, the database refuses to leave it
    reporting as solved (resolved_at) or closed (closed_at)."""
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    cmds.assign(ticket.id, AGENT, agent_id=make_agent())
    for status in ("in_progress", "resolved") + (("closed",) if "reopened" in update else ()):
        cmds.transition(ticket.id, status, AGENT)
    with pytest.raises(errors.CheckViolation) as info:
        db.execute(update, {"t": ticket.id})
    assert stale in str(info.value)


@pytest.mark.parametrize("src_path", [(), ("in_progress",), ("in_progress", "waiting_on_customer")])
def test_spam_and_duplicate_from_every_open_status(db, cmds, make_agent, src_path):
    agent = make_agent()
    original = cmds.create_ticket(new_ticket(subject="the first report"), Actor(type="customer")).ticket
    spam = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    dup = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    for t in (spam, dup):
        cmds.assign(t.id, AGENT, agent_id=agent)
        for status in src_path:
            cmds.transition(t.id, status, AGENT)
    assert cmds.transition(spam.id, "spam", AGENT).ticket.status == "spam"
    result = cmds.transition(dup.id, "duplicate", AGENT, duplicate_of=original.ref)
    assert result.ticket.status == "duplicate"
    assert db.query_one("SELECT duplicate_of_id FROM tickets WHERE id = :t::uuid", {"t": dup.id})["duplicate_of_id"] == str(original.id)
    assert result.events[-1]["payload"]["duplicate_of"] == str(original.id)
    # the agent's capacity is freed by both
    assert db.query_one("SELECT active_count FROM agents WHERE id = :a::uuid", {"a": agent})["active_count"] == 0


def test_duplicate_names_an_existing_other_ticket(db, cmds, snapshot):
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    before = snapshot()
    with pytest.raises(errors.ValidationFailed, match="duplicate_of is required"):
        cmds.transition(ticket.id, "duplicate", AGENT)
    with pytest.raises(errors.ValidationFailed, match="only with status duplicate"):
        cmds.transition(ticket.id, "spam", AGENT, duplicate_of=ticket.id)
    with pytest.raises(errors.ValidationFailed, match="no such ticket"):
        cmds.transition(ticket.id, "duplicate", AGENT, duplicate_of="TKT-999")
    with pytest.raises(errors.ValidationFailed, match="be another ticket"):
        cmds.transition(ticket.id, "duplicate", AGENT, duplicate_of=ticket.id)
    assert snapshot() == before


@pytest.mark.parametrize("status", ["assigned", "merged"])
def test_statuses_entered_by_their_command_refuse_a_bare_change(cmds, status):
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    with pytest.raises(errors.ValidationFailed, match=f"status {status} is reached only by"):
        cmds.transition(ticket.id, status, AGENT)


def test_assigning_a_reopened_ticket_to_someone_new_makes_it_assigned(db, cmds, make_agent):
    first, second = make_agent("first"), make_agent("second")
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    cmds.assign(ticket.id, AGENT, agent_id=first)
    for status in ("in_progress", "resolved", "closed", "reopened"):
        cmds.transition(ticket.id, status, AGENT)
    assert cmds.assign(ticket.id, AGENT, agent_id=first).ticket.status == "reopened"  # same owner: unchanged
    assert cmds.assign(ticket.id, AGENT, agent_id=second).ticket.status == "assigned"


@pytest.mark.parametrize("reopened", [False, True])
def test_a_public_reply_on_a_ticket_nobody_owns_assigns_it_to_the_replier(db, cmds, make_agent, reopened):
    agent = make_agent()
    ticket = cmds.create_ticket(new_ticket(), Actor(type="customer")).ticket
    if reopened:
        cmds.assign(ticket.id, AGENT, agent_id=agent)
        for status in ("in_progress", "resolved", "closed", "reopened"):
            cmds.transition(ticket.id, status, AGENT)
        # reopened with nobody owning it (the owner left): a raw clear of the assignee, status unchanged
        db.execute("UPDATE tickets SET assignee_id = NULL WHERE id = :t::uuid", {"t": ticket.id})
    actor = Actor(type="agent", id=agent, role="agent")
    note = cmds.add_message(ticket.id, {"body": "looking", "author_type": "agent", "author_agent_id": agent,
                                        "visibility": "internal"}, actor)
    assert note.ticket.assignee_id is None  # an internal note claims nothing
    result = cmds.add_message(ticket.id, {"body": "On it!", "author_type": "agent", "author_agent_id": agent,
                                          "visibility": "public"}, actor)
    assert (result.ticket.status, result.ticket.assignee_id) == ("assigned", agent)
    types = [e["event_type"] for e in result.events]
    assert "ticket.assigned" in types and "ticket.status_changed" in types
    history = db.query("SELECT agent_id, reason FROM assignments WHERE ticket_id = :t::uuid ORDER BY id", {"t": ticket.id})
    assert history[-1] == {"agent_id": str(agent), "reason": "manual"}
    # the next public reply on an owned ticket changes nothing about ownership
    again = cmds.add_message(ticket.id, {"body": "More.", "author_type": "agent", "author_agent_id": agent,
                                         "visibility": "public"}, actor)
    assert (again.ticket.status, again.ticket.assignee_id) == ("assigned", agent)

"""The tag change command: one statement writes the tags, the audit row and `ticket.tags_changed`;
a change that changes nothing writes nothing; bad tags and too many tags change nothing."""
from __future__ import annotations

import pytest

from helpdesk import errors
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.events.schemas import Event
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import MAX_TAGS, Actor

AGENT = Actor(type="agent")


def new_ticket(cmds, **over):
    return cmds.create_ticket({"channel": "api", "subject": "Tags", "body": "b", "requester_email": "t@customer.test",
                               **over}).ticket


def test_add_and_remove_in_one_call_with_the_event_and_audit(db, clock):
    cmds = TicketCommands(db, clock, RecordingPublisher())
    ticket = new_ticket(cmds, tags=["printer", "vip"])
    db.stats.calls = 0
    result = cmds.change_tags(ticket.id, AGENT, add=["Urgent", "printer"], remove=["vip"])
    assert db.stats.calls == 2  # the change, and the follow-up marking the published event
    assert result.ticket.tags == ["printer", "urgent"] and result.ticket.version == ticket.version + 1
    [event] = result.events
    parsed = Event.from_outbox_row(event)
    assert parsed.type == "ticket.tags_changed"
    assert (parsed.payload.tags, parsed.payload.added, parsed.payload.removed) == (["printer", "urgent"], ["urgent"], ["vip"])
    audit = db.query("SELECT actor_type, data FROM ticket_audit WHERE event_type = 'ticket.tags_changed'")
    assert [a["actor_type"] for a in audit] == ["agent"]


def test_a_change_that_changes_nothing_writes_nothing(db, cmds):
    ticket = new_ticket(cmds, tags=["a"])
    result = cmds.change_tags(ticket.id, AGENT, add=["A"], remove=["b"])
    assert result.events == [] and result.ticket.version == ticket.version
    assert db.query_one("SELECT count(*) AS n FROM outbox WHERE event_type = 'ticket.tags_changed'")["n"] == 0


def test_bad_tags_and_too_many_tags_change_nothing(db, cmds, snapshot):
    ticket = new_ticket(cmds)
    before = snapshot()
    with pytest.raises(errors.ValidationFailed, match="1 to 50 characters"):
        cmds.change_tags(ticket.id, AGENT, add=["x" * 51])
    with pytest.raises(errors.ValidationFailed, match=f"at most {MAX_TAGS} tags"):
        cmds.change_tags(ticket.id, AGENT, add=[f"t{i}" for i in range(MAX_TAGS + 1)])
    assert snapshot() == before


def test_merged_and_missing_tickets(db, cmds):
    source, target = new_ticket(cmds), new_ticket(cmds)
    cmds.merge(source.id, target.id, AGENT)
    with pytest.raises(errors.Gone):
        cmds.change_tags(source.id, AGENT, add=["x"])
    with pytest.raises(errors.NotFound):
        cmds.change_tags("TKT-999", AGENT, add=["x"])

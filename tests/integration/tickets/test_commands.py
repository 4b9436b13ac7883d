"""Every ticket command through the Data API client on a real PostgreSQL: behaviour, atomicity, call counts."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from helpdesk import errors
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import MAX_BODY, MAX_SUBJECT, Actor

AGENT = Actor(type="agent", id=uuid.UUID(int=7), role="agent")
CUSTOMER = Actor(type="customer")
SYSTEM = Actor.system()


def new_ticket(**kw) -> dict:
    return {"channel": "email", "subject": "Cannot log in", "body": "It says error 42.",
            "requester_email": "ann@example.com", **kw}


def msg(author_type="customer", visibility="public", body="hello", **kw) -> dict:
    return {"body": body, "author_type": author_type, "visibility": visibility, **kw}


def audit(db, ticket_id) -> list[dict]:
    return db.query("SELECT event_type, from_status, to_status, actor_type FROM ticket_audit WHERE ticket_id = :t::uuid ORDER BY id",
                    {"t": ticket_id})


def status_changes(db, ticket_id) -> list[tuple[str, str]]:
    return [(a["from_status"], a["to_status"]) for a in audit(db, ticket_id) if a["event_type"] == "ticket.status_changed"]


def calls(db) -> int:
    n = db.stats.calls
    db.stats.calls = 0
    return n


def to_status(cmds, ticket_id, *path, agent_id=None):
    """Walk a ticket along a path of statuses (assigning an agent on the way to 'assigned')."""
    for status in path:
        if status == "assigned" and agent_id is not None:
            cmds.assign(ticket_id, AGENT, agent_id=agent_id)
        else:
            cmds.transition(ticket_id, status, AGENT)


# -- create ----------------------------------------------------------------------------------
def test_create_writes_everything_in_one_call(db, cmds, clock):
    result = cmds.create_ticket(new_ticket(participants=["Cc@Example.com"], tags=["Login"]), CUSTOMER)
    assert calls(db) == 1  # no publisher accepted events, no SLA policy: no follow-up
    t = result.ticket
    assert (t.number, t.ref, t.status, t.priority, t.message_count, t.tags) == (1, "TKT-1", "new", "normal", 1, ["login"])
    assert t.created_at == clock.now()
    assert [e["event_type"] for e in result.events] == ["ticket.created"]
    assert audit(db, t.id) == [{"event_type": "ticket.created", "from_status": None, "to_status": "new", "actor_type": "customer"}]
    assert db.query_one("SELECT count(*) AS c FROM outbox WHERE published_at IS NULL")["c"] == 1
    assert {r["email"] for r in db.query("SELECT email FROM ticket_participants")} == {"ann@example.com", "cc@example.com"}
    m = db.query_one("SELECT author_type, visibility, body FROM ticket_messages")
    assert m == {"author_type": "customer", "visibility": "public", "body": "It says error 42."}


def test_create_with_publisher_costs_one_follow_up(db, clock):
    publisher = RecordingPublisher()
    result = TicketCommands(db, clock, publisher).create_ticket(new_ticket())
    assert calls(db) == 2  # the statement, then marking the published outbox rows
    assert [e["id"] for e in publisher.published] == [e["id"] for e in result.events]
    assert db.query_one("SELECT count(*) AS c FROM outbox WHERE published_at IS NULL")["c"] == 0


def test_create_with_24x7_sla_fills_deadlines_in_the_follow_up(db, cmds, clock):
    db.execute("INSERT INTO sla_policies (name, targets) VALUES ('default', :t::jsonb)",
               {"t": {"first_response": {"seconds": 3600, "business": False}, "resolution": {"seconds": 86400, "business": False}}})
    calls(db)
    result = cmds.create_ticket(new_ticket())
    assert calls(db) == 2  # the statement, then the deadlines
    rows = {r["kind"]: r for r in db.query("SELECT kind, due_at, warn_at, recompute_from, state FROM sla_targets")}
    assert rows["first_response"]["due_at"] == clock.now() + timedelta(hours=1)
    assert rows["first_response"]["warn_at"] == clock.now() + timedelta(minutes=30)
    assert rows["resolution"]["due_at"] == clock.now() + timedelta(days=1)
    assert all(r["recompute_from"] is None and r["state"] == "running" for r in rows.values())
    # The first public agent reply meets first_response in the same single statement.
    agent_id = uuid.UUID(db.query_one("INSERT INTO agents (email, name) VALUES ('a@x.io', 'A') RETURNING id")["id"])
    calls(db)
    cmds.add_message(result.ticket.id, msg("agent", author_agent_id=agent_id), AGENT)
    assert calls(db) == 1
    assert db.query_one("SELECT state, met_at FROM sla_targets WHERE kind = 'first_response'") == {"state": "met", "met_at": clock.now()}


def test_create_unknown_team_is_a_validation_error_and_changes_nothing(db, cmds, snapshot):
    before = snapshot()
    with pytest.raises(errors.ValidationFailed, match="unknown reference"):
        cmds.create_ticket(new_ticket(team_id=str(uuid.uuid4())))
    assert snapshot() == before


def test_refs_are_sequential_and_resolvable(db, cmds):
    ids = [cmds.create_ticket(new_ticket()).ticket for _ in range(3)]
    assert [t.ref for t in ids] == ["TKT-1", "TKT-2", "TKT-3"]
    calls(db)
    assert cmds.get_ticket("tkt-2").ticket["id"] == str(ids[1].id)
    assert calls(db) == 1


def test_refs_unique_under_concurrent_creates(db, cmds):
    numbers: list[int] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(20)

    def create(i: int) -> None:
        try:
            barrier.wait()
            numbers.append(cmds.create_ticket(new_ticket(requester_email=f"c{i % 3}@example.com")).ticket.number)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert sorted(numbers) == list(range(1, 21))
    assert db.query_one("SELECT count(*) AS c FROM customers")["c"] == 3  # same requester upserted, not duplicated


# -- idempotency and redelivery ----------------------------------------------------------------
def test_idempotency_key_replay_and_conflict(db, cmds, snapshot):
    first = cmds.create_ticket(new_ticket(), idempotency_key="k-1")
    before = snapshot()
    again = cmds.create_ticket(new_ticket(), idempotency_key="k-1")
    assert again.replayed and again.ticket.id == first.ticket.id
    with pytest.raises(errors.Conflict, match="different request body"):
        cmds.create_ticket(new_ticket(body="something else"), idempotency_key="k-1")
    after = snapshot()
    assert after == before
    # Another scope is another key space.
    assert not cmds.create_ticket(new_ticket(), idempotency_key="k-1", idempotency_scope="web").replayed


def test_concurrent_creates_with_one_key_make_one_ticket(db, cmds):
    results = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        try:
            barrier.wait()
            results.append(cmds.create_ticket(new_ticket(), idempotency_key="same"))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len({r.ticket.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert db.query_one("SELECT count(*) AS c FROM tickets")["c"] == 1
    assert db.query_one("SELECT count(*) AS c FROM ticket_messages")["c"] == 1


def test_redelivered_inbound_mail_is_a_no_op(db, cmds, snapshot):
    first = cmds.create_ticket(new_ticket(inbound_message_id="<m1@mail.example.com>"))
    before = snapshot()
    again = cmds.create_ticket(new_ticket(inbound_message_id="<m1@mail.example.com>"))
    assert again.replayed and again.ticket.id == first.ticket.id
    assert snapshot() == before
    reply = msg(inbound_message_id="<m2@mail.example.com>", channel="email", author_email="ann@example.com")
    cmds.add_message(first.ticket.id, reply, CUSTOMER)
    before = snapshot()
    dup = cmds.add_message(first.ticket.id, reply, CUSTOMER)
    assert dup.replayed and dup.ticket.id == first.ticket.id
    assert snapshot() == before
    assert db.query_one("SELECT count(*) AS c FROM email_message_ids")["c"] == 2


# -- messages ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("author_type", "visibility", "channel"), [
    ("customer", "public", "email"), ("agent", "public", "api"), ("agent", "internal", "api"),
    ("system", "internal", "system"), ("system", "public", "system"),
])
def test_add_message_one_call(db, cmds, make_agent, author_type, visibility, channel):
    t = cmds.create_ticket(new_ticket()).ticket
    agent_id = make_agent()
    extra = {"author_agent_id": agent_id} if author_type == "agent" else {}
    calls(db)
    result = cmds.add_message(t.id, msg(author_type, visibility, channel=channel, **extra),
                              AGENT if author_type == "agent" else Actor(type=author_type))
    assert calls(db) == 1
    assert (result.message.author_type, result.message.visibility, result.message.channel) == (author_type, visibility, channel)
    assert result.ticket.message_count == 2 and result.ticket.version == 2
    kinds = [e["event_type"] for e in result.events]
    assert kinds[0] == "ticket.replied"
    assert ("outbound.requested" in kinds) == (author_type == "agent" and visibility == "public")


def test_agent_message_needs_agent_id(cmds):
    t = cmds.create_ticket(new_ticket()).ticket
    with pytest.raises(errors.ValidationFailed, match="author_agent_id"):
        cmds.add_message(t.id, msg("agent"), AGENT)


def test_first_response_only_on_first_public_agent_message(db, cmds, clock, make_agent):
    agent_id = make_agent()
    t = cmds.create_ticket(new_ticket()).ticket
    for m in (msg("agent", "internal", author_agent_id=agent_id), msg("customer"), msg("system", "internal", channel="system")):
        clock.advance(minutes=5)
        assert cmds.add_message(t.id, m, AGENT).ticket.first_response_at is None
    clock.advance(minutes=5)
    first_at = clock.now()
    assert cmds.add_message(t.id, msg("agent", author_agent_id=agent_id), AGENT).ticket.first_response_at == first_at
    clock.advance(minutes=5)
    assert cmds.add_message(t.id, msg("agent", author_agent_id=agent_id), AGENT).ticket.first_response_at == first_at


def test_text_with_sql_and_html_is_verbatim(db, cmds):
    nasty = "Robert'); DROP TABLE tickets;-- <script>alert('x')</script> :id::uuid %s %(x)s $$ $tag$ \\ \" \U0001F600 \u202e"
    t = cmds.create_ticket(new_ticket(subject=nasty[:MAX_SUBJECT], body=nasty, body_html=f"<p>{nasty}</p>")).ticket
    assert t.subject == nasty
    cmds.add_message(t.id, msg(body=nasty + " reply"), CUSTOMER)
    view = cmds.get_ticket(t.id)
    assert view.ticket["subject"] == nasty
    assert [m["body"] for m in view.messages] == [nasty + " reply", nasty]
    assert db.query_one("SELECT body_html FROM ticket_messages ORDER BY position LIMIT 1")["body_html"] == f"<p>{nasty}</p>"
    assert db.query_one("SELECT count(*) AS c FROM tickets")["c"] == 1


def test_add_message_unknown_ticket(cmds, snapshot):
    before = snapshot()
    with pytest.raises(errors.NotFound):
        cmds.add_message(uuid.uuid4(), msg(), CUSTOMER)
    with pytest.raises(errors.NotFound):
        cmds.add_message("TKT-999", msg(), CUSTOMER)
    with pytest.raises(errors.ValidationFailed, match="TKT-42"):
        cmds.add_message("ticket-one", msg(), CUSTOMER)
    assert snapshot() == before


# -- customer-message rules ---------------------------------------------------------------------
@pytest.mark.parametrize("waiting_status", ["waiting_on_customer", "resolved"])
def test_customer_message_resumes(db, cmds, make_agent, waiting_status):
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, "assigned", "in_progress", waiting_status, agent_id=make_agent())
    calls(db)
    result = cmds.add_message(t.id, msg(), CUSTOMER)
    assert calls(db) == 1
    assert result.ticket.status == "in_progress" and result.ticket.resolved_at is None
    assert status_changes(db, t.id)[-1] == (waiting_status, "in_progress")


@pytest.mark.parametrize("author", ["agent", "system"])
def test_non_customer_message_does_not_resume(db, cmds, make_agent, author):
    agent_id = make_agent()
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, "assigned", "in_progress", "waiting_on_customer", agent_id=agent_id)
    m = msg(author, "internal", author_agent_id=agent_id) if author == "agent" else msg("system", "internal", channel="system")
    assert cmds.add_message(t.id, m, AGENT).ticket.status == "waiting_on_customer"


def test_customer_message_within_7_days_reopens(db, cmds, clock, make_agent):
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, "assigned", "in_progress", "resolved", "closed", agent_id=make_agent())
    clock.advance(days=6, hours=23)
    n_audit = len(audit(db, t.id))
    calls(db)
    result = cmds.add_message(t.id, msg(), CUSTOMER)
    assert calls(db) == 1
    assert result.ticket.status == "in_progress"
    assert result.ticket.reopen_count == 1 and result.ticket.closed_at is None
    new_rows = audit(db, t.id)[n_audit:]
    assert [(a["from_status"], a["to_status"]) for a in new_rows if a["event_type"] == "ticket.status_changed"] == [
        ("closed", "reopened"), ("reopened", "in_progress")]


# Every way out of solved (a customer's message, an agent reopening; "not solved" and triggers go through
# these commands) leaves the ticket unresolved: it no longer reports as solved, and its next resolve is
# the one the reports, the solved mail and the sweep's auto-close count from.
@pytest.mark.parametrize("settled", ["resolved", "closed"])
@pytest.mark.parametrize("reopened_by", ["customer_message", "agent"])
def test_a_reopened_ticket_is_no_longer_resolved(db, cmds, clock, make_agent, settled, reopened_by):
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, *("assigned", "in_progress", "resolved", "closed")[:3 if settled == "resolved" else 4],
              agent_id=make_agent())
    clock.advance(days=1)
    if reopened_by == "customer_message":
        cmds.add_message(t.id, msg(body="It broke again"), CUSTOMER)
    else:
        to_status(cmds, t.id, "in_progress" if settled == "resolved" else "reopened")
    row = db.query_one("SELECT status, resolved_at, closed_at FROM tickets WHERE id = :t::uuid", {"t": t.id})
    assert row["status"] in ("in_progress", "reopened")
    assert (row["resolved_at"], row["closed_at"]) == (None, None)
    clock.advance(hours=5)
    if row["status"] == "reopened":
        to_status(cmds, t.id, "in_progress")
    assert cmds.transition(t.id, "resolved", AGENT).ticket.resolved_at == clock.now()


def test_customer_message_after_7_days_is_refused_by_add_message(db, cmds, clock, make_agent, snapshot):
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, "assigned", "in_progress", "resolved", "closed", agent_id=make_agent())
    clock.advance(days=7, seconds=1)
    before = snapshot()
    with pytest.raises(errors.Conflict) as info:
        cmds.add_message(t.id, msg(), CUSTOMER)
    assert "follow-up" in info.value.detail and info.value.extra["reason"] == "reopen_window_passed"
    assert snapshot() == before


def test_receive_customer_message_opens_follow_up_after_7_days(db, cmds, clock, make_agent, make_team):
    team = make_team()
    t = cmds.create_ticket(new_ticket(team_id=str(team), priority="high")).ticket
    to_status(cmds, t.id, "assigned", "in_progress", "resolved", "closed", agent_id=make_agent())
    clock.advance(days=30)
    calls(db)
    m = msg(body="It broke again", channel="email", author_email="ann@example.com", inbound_message_id="<late@x>")
    result = cmds.receive_customer_message(t.ref, m)
    assert calls(db) == 3  # resolve TKT ref, the refused message, the follow-up ticket
    follow = result.ticket
    assert follow.id != t.id and result.followup_of == t.id
    assert (follow.parent_ticket_id, follow.status, follow.subject, follow.priority, follow.team_id) == (t.id, "new", t.subject, "high", team)
    old = db.query_one("SELECT status, reopen_count, message_count FROM tickets WHERE id = :id::uuid", {"id": t.id})
    assert old == {"status": "closed", "reopen_count": 0, "message_count": 1}
    # A redelivery of the same mail does not open a second follow-up.
    again = cmds.receive_customer_message(t.id, m)
    assert again.replayed and again.ticket.id == follow.id
    assert db.query_one("SELECT count(*) AS c FROM tickets")["c"] == 2


def test_receive_customer_message_within_window_and_on_merged(db, cmds, make_agent):
    a = cmds.create_ticket(new_ticket()).ticket
    b = cmds.create_ticket(new_ticket()).ticket
    cmds.merge(a.id, b.id, AGENT)
    calls(db)
    result = cmds.receive_customer_message(a.id, msg(body="more"))
    assert calls(db) == 2  # the merged source answers, then the target takes the message
    assert result.ticket.id == b.id and result.followup_of is None
    with pytest.raises(errors.ValidationFailed):
        cmds.receive_customer_message(b.id, msg("system", "internal", channel="system"))


# -- transition ------------------------------------------------------------------------------
def test_transition_one_call_and_audit(db, cmds, make_agent):
    t = cmds.create_ticket(new_ticket()).ticket
    cmds.assign(t.id, AGENT, agent_id=make_agent())
    calls(db)
    result = cmds.transition(t.id, "in_progress", AGENT, reason="on it")
    assert calls(db) == 1
    assert result.ticket.status == "in_progress"
    assert status_changes(db, t.id) == [("new", "assigned"), ("assigned", "in_progress")]
    ev = result.events[0]
    assert ev["payload"]["reason"] == "on it" and ev["event_type"] == "ticket.status_changed"


def test_invalid_transition_names_allowed_and_changes_nothing(db, cmds, snapshot):
    t = cmds.create_ticket(new_ticket()).ticket
    before = snapshot()
    with pytest.raises(errors.InvalidTransition) as info:
        cmds.transition(t.id, "closed", AGENT)
    assert info.value.extra == {"from": "new", "to": "closed", "allowed": ["assigned", "duplicate", "merged", "spam"]}
    with pytest.raises(errors.InvalidTransition, match="unknown status 'open'"):
        cmds.transition(t.id, "open", AGENT)
    with pytest.raises(errors.ValidationFailed, match="merge"):
        cmds.transition(t.id, "merged", AGENT)
    with pytest.raises(errors.NotFound):
        cmds.transition(uuid.uuid4(), "spam", AGENT)
    with pytest.raises(errors.ValidationFailed, match="1000"):
        cmds.transition(t.id, "spam", AGENT, reason="x" * 1001)
    assert snapshot() == before


def test_terminal_and_spam_round_trip(db, cmds):
    original = cmds.create_ticket(new_ticket()).ticket
    t = cmds.create_ticket(new_ticket()).ticket
    cmds.transition(t.id, "spam", AGENT)
    cmds.transition(t.id, "new", AGENT)
    cmds.transition(t.id, "duplicate", AGENT, duplicate_of=original.id)
    with pytest.raises(errors.InvalidTransition) as info:
        cmds.transition(t.id, "new", AGENT)
    assert info.value.extra["allowed"] == [] and "terminal" in info.value.detail


def test_expected_status_mismatch_is_conflict(db, cmds, snapshot):
    t = cmds.create_ticket(new_ticket()).ticket
    cmds.transition(t.id, "spam", AGENT)
    before = snapshot()
    with pytest.raises(errors.Conflict) as info:
        cmds.transition(t.id, "in_progress", AGENT, expected_status="assigned")
    assert info.value.extra["current_status"] == "spam"
    assert snapshot() == before


def test_close_and_reopen_by_transition(db, cmds, make_agent):
    t = cmds.create_ticket(new_ticket()).ticket
    to_status(cmds, t.id, "assigned", "in_progress", "resolved", "closed", "reopened", "in_progress", agent_id=make_agent())
    row = db.query_one("SELECT status, reopen_count, closed_at, resolved_at FROM tickets")
    assert row == {"status": "in_progress", "reopen_count": 1, "closed_at": None, "resolved_at": None}


# -- assign ----------------------------------------------------------------------------------
def test_assign_agent_team_and_load(db, cmds, make_agent, make_team):
    a1, a2, team = make_agent("one"), make_agent("two"), make_team()
    t = cmds.create_ticket(new_ticket()).ticket
    calls(db)
    result = cmds.assign(t.id, AGENT, agent_id=a1)
    assert calls(db) == 1
    assert (result.ticket.status, result.ticket.assignee_id) == ("assigned", a1)
    load = lambda: {r["id"]: r["active_count"] for r in db.query("SELECT id::text AS id, active_count FROM agents")}  # noqa: E731
    assert load() == {str(a1): 1, str(a2): 0}
    cmds.transition(t.id, "in_progress", AGENT)
    result = cmds.assign(t.id, AGENT, agent_id=a2)  # reassigned: in_progress -> assigned
    assert (result.ticket.status, result.ticket.assignee_id) == ("assigned", a2)
    assert load() == {str(a1): 0, str(a2): 1}
    result = cmds.assign(t.id, AGENT, team_id=team)  # back to a team queue
    assert (result.ticket.status, result.ticket.assignee_id, result.ticket.team_id) == ("new", None, team)
    assert load() == {str(a1): 0, str(a2): 0}
    assert status_changes(db, t.id) == [("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "assigned"),
                                        ("assigned", "new")]
    history = db.query("SELECT agent_id, reason FROM assignments ORDER BY id")
    assert [h["agent_id"] for h in history] == [str(a1), str(a2), None]


def test_assign_bad_input_changes_nothing(db, cmds, make_agent, make_team, snapshot):
    t = cmds.create_ticket(new_ticket()).ticket
    a = make_agent()
    before = snapshot()
    with pytest.raises(errors.ValidationFailed, match="agent_id or team_id"):
        cmds.assign(t.id, AGENT)
    with pytest.raises(errors.ValidationFailed, match="does not exist"):
        cmds.assign(t.id, AGENT, agent_id=uuid.uuid4())
    with pytest.raises(errors.ValidationFailed, match="team .* does not exist"):
        cmds.assign(t.id, AGENT, team_id=uuid.uuid4())
    with pytest.raises(errors.ValidationFailed, match="allowed: manual"):
        cmds.assign(t.id, AGENT, agent_id=a, reason="because")
    with pytest.raises(errors.NotFound):
        cmds.assign(uuid.uuid4(), AGENT, agent_id=a)
    assert snapshot() == before
    cmds.transition(t.id, "spam", AGENT)
    before = snapshot()
    with pytest.raises(errors.InvalidTransition) as info:
        cmds.assign(t.id, AGENT, agent_id=a)
    assert info.value.extra["from"] == "spam" and "new" in info.value.extra["allowed"]
    assert snapshot() == before


# -- merge -----------------------------------------------------------------------------------
def test_merge_moves_messages_and_answers_gone(db, cmds, make_agent):
    agent = make_agent()
    src = cmds.create_ticket(new_ticket(requester_email="bob@example.com")).ticket
    dst = cmds.create_ticket(new_ticket()).ticket
    cmds.assign(src.id, AGENT, agent_id=agent)
    cmds.add_message(src.id, msg(body="second"), CUSTOMER)
    with pytest.raises(errors.Conflict, match="different requesters"):  # bob's ticket into ann's: confirm first
        cmds.merge(src.id, dst.id, AGENT)
    calls(db)
    result = cmds.merge(src.id, dst.ref, AGENT, allow_other_requester=True)
    assert calls(db) == 2  # resolving TKT ref + the merge; with two UUIDs it is one
    assert result.ticket.id == dst.id and result.ticket.message_count == 3
    assert db.query_one("SELECT active_count FROM agents")["active_count"] == 0
    assert {r["email"] for r in db.query("SELECT email FROM ticket_participants WHERE ticket_id = :t::uuid", {"t": dst.id})} == {
        "ann@example.com", "bob@example.com"}
    for call in (lambda: cmds.get_ticket(src.id), lambda: cmds.add_message(src.id, msg(), CUSTOMER),
                 lambda: cmds.transition(src.id, "in_progress", AGENT), lambda: cmds.assign(src.id, AGENT, agent_id=agent),
                 lambda: cmds.merge(src.id, dst.id, AGENT)):
        with pytest.raises(errors.Gone) as info:
            call()
        assert info.value.extra["merged_into"] == str(dst.id)
    view = cmds.get_ticket(dst.id)
    assert [m["body"] for m in view.messages] == ["second", "It says error 42.", "It says error 42."]
    # follow_merged delivers to the target
    assert cmds.add_message(src.id, msg(), CUSTOMER, follow_merged=True).ticket.id == dst.id
    assert status_changes(db, src.id)[-1] == ("assigned", "merged")


def test_merge_chains_stay_one_hop(db, cmds):
    a, b, c = (cmds.create_ticket(new_ticket()).ticket for _ in range(3))
    cmds.merge(a.id, b.id, AGENT)
    cmds.merge(b.id, c.id, AGENT)
    assert db.query_one("SELECT merged_into_id FROM tickets WHERE id = :id::uuid", {"id": a.id})["merged_into_id"] == str(c.id)
    assert db.query_one("SELECT message_count FROM tickets WHERE id = :id::uuid", {"id": c.id})["message_count"] == 3


def test_merge_bad_input_changes_nothing(db, cmds, snapshot):
    a, b = (cmds.create_ticket(new_ticket()).ticket for _ in range(2))
    cmds.transition(b.id, "spam", AGENT)
    before = snapshot()
    with pytest.raises(errors.ValidationFailed, match="itself"):
        cmds.merge(a.id, a.id, AGENT)
    with pytest.raises(errors.ValidationFailed, match="it is spam"):
        cmds.merge(a.id, b.id, AGENT)
    with pytest.raises(errors.ValidationFailed, match="not found"):
        cmds.merge(a.id, uuid.uuid4(), AGENT)
    with pytest.raises(errors.NotFound):
        cmds.merge(uuid.uuid4(), a.id, AGENT)
    with pytest.raises(errors.InvalidTransition) as info:
        cmds.merge(b.id, a.id, AGENT)  # spam cannot be merged
    assert info.value.extra["from"] == "spam"
    assert snapshot() == before


# -- reads -----------------------------------------------------------------------------------
def test_get_ticket_with_latest_50_messages_in_one_call(db, cmds, make_agent):
    agent = make_agent()
    t = cmds.create_ticket(new_ticket()).ticket
    for i in range(60):
        m = msg("agent", "internal", body=f"note {i}", author_agent_id=agent) if i % 10 == 0 else msg(body=f"m {i}")
        cmds.add_message(t.id, m, AGENT)
    calls(db)
    view = cmds.get_ticket(t.id)
    assert calls(db) == 1
    assert len(view.messages) == 50 and view.messages[0]["body"] == "note 59"[:0] + "m 59"
    positions = [m["position"] for m in view.messages]
    assert positions == sorted(positions, reverse=True)
    assert view.ticket["message_count"] == 61 and view.ticket["sla"] == []
    public = cmds.get_ticket(t.ref, include_internal=False)
    assert all(m["visibility"] == "public" for m in public.messages) and len(public.messages) == 50
    assert calls(db) == 1
    # Pagination continues from the oldest one shown.
    older = cmds.list_messages(t.id, include_internal=True, before=positions[-1], limit=50)
    assert calls(db) == 1
    assert len(older) == 11 and older[-1]["body"] == "It says error 42."
    with pytest.raises(errors.NotFound):
        cmds.get_ticket(uuid.uuid4())
    with pytest.raises(errors.NotFound):
        cmds.get_ticket("TKT-404")


def test_get_ticket_stays_under_the_response_limit_with_huge_messages(db, cmds):
    t = cmds.create_ticket(new_ticket()).ticket
    worst = ("\U0001F600\"\\\n" * (MAX_BODY // 4))[:MAX_BODY]  # 4-byte chars and characters JSON must escape
    for _ in range(55):
        calls(db)
        result = cmds.add_message(t.id, msg(body=worst, body_full=worst * 5), CUSTOMER)
        assert calls(db) == 1  # the answer fits the 64 KB row limit (it used to fail AFTER the commit)
        assert result.message.body == worst
    assert db.query_one("SELECT count(*) AS c FROM ticket_messages WHERE body = :b", {"b": worst})["c"] == 55
    calls(db)
    view = cmds.get_ticket(t.id)
    assert calls(db) == 1 and len(view.messages) == 50
    assert all(m["body_truncated"] and worst.startswith(m["body"]) for m in view.messages)
    page = cmds.list_messages(t.id, include_internal=True, limit=100)
    assert len(page) == 56


# -- never more than 2 calls -------------------------------------------------------------------
def test_every_command_costs_at_most_two_calls_with_a_publisher(db, clock, make_agent):
    cmds = TicketCommands(db, clock, RecordingPublisher())
    agent = make_agent()
    costs = {}
    calls(db)
    t = cmds.create_ticket(new_ticket()).ticket
    costs["create"] = calls(db)
    other = cmds.create_ticket(new_ticket()).ticket
    calls(db)
    cmds.add_message(t.id, msg(), CUSTOMER)
    costs["add_message"] = calls(db)
    cmds.assign(t.id, AGENT, agent_id=agent)
    costs["assign"] = calls(db)
    cmds.transition(t.id, "in_progress", AGENT)
    costs["transition"] = calls(db)
    cmds.merge(other.id, t.id, AGENT)
    costs["merge"] = calls(db)
    cmds.get_ticket(t.id)
    costs["get_ticket"] = calls(db)
    assert costs == {"create": 2, "add_message": 2, "assign": 2, "transition": 2, "merge": 2, "get_ticket": 1}


def test_a_failed_follow_up_does_not_fail_the_committed_command(db, clock, data_api_backend):
    class OutageAfterPublish:
        """Publishes, then the database goes away before the follow-up statement."""

        def publish(self, events):
            data_api_backend.resume_after(3600)
            return [str(e["id"]) for e in events]

    try:
        result = TicketCommands(db, clock, OutageAfterPublish()).create_ticket(new_ticket())
    finally:
        data_api_backend.resume_after(0)
    assert result.ticket.number == 1  # the caller is told the truth: the ticket exists
    assert db.query_one("SELECT count(*) AS c FROM outbox WHERE published_at IS NULL")["c"] == 1  # the relay finishes it

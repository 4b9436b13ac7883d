"""Random command sequences against the real database, with the invariants checked after every step:
every status change is in the table, the audit trail replays to the current status, no message is
lost or duplicated (merged ones included), and each agent's active_count matches their tickets."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from helpdesk import errors
from helpdesk.clock import FixedClock
from helpdesk.tickets import states
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from tests.conftest import DATA_TABLES

# statuses a bare change may reach (assigned and merged are entered by their own commands)
STATUSES = [s.value for s in states.Status if s not in states.ENTERED_BY_COMMAND]
EXPECTED_REFUSALS = (errors.InvalidTransition, errors.Conflict, errors.Gone, errors.ValidationFailed)


def reset(db) -> None:
    tables = [r["tablename"] for r in db.query(DATA_TABLES)]
    db.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.mark.slow
def test_random_command_sequences_keep_the_invariants(db):
    class TicketMachine(RuleBasedStateMachine):
        tickets = Bundle("tickets")

        @initialize()
        def setup(self) -> None:
            reset(db)
            self.clock = FixedClock(datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
            self.cmds = TicketCommands(db, self.clock)
            self.agents = [uuid.UUID(db.query_one("INSERT INTO agents (email, name) VALUES (:e, 'A') RETURNING id",
                                                  {"e": f"a{i}@example.com"})["id"]) for i in range(2)]
            self.sent: list[str] = []  # every message body that a command accepted
            self.counter = 0

        def token(self) -> str:
            self.counter += 1
            return f"message #{self.counter} <b>'; --"

        @rule(target=tickets, requester=st.sampled_from(["ann@example.com", "bob@example.com"]))
        def create(self, requester):
            body = self.token()
            result = self.cmds.create_ticket({"channel": "email", "subject": "s", "body": body, "requester_email": requester})
            self.sent.append(body)
            return result.ticket.id

        @rule(ticket=tickets, kind=st.sampled_from(["customer", "agent_public", "agent_internal", "system"]))
        def message(self, ticket, kind):
            body = self.token()
            if kind == "customer":
                call = lambda: self.cmds.receive_customer_message(ticket, {"body": body, "author_type": "customer"})  # noqa: E731
            elif kind == "system":
                call = lambda: self.cmds.add_message(ticket, {"body": body, "author_type": "system", "visibility": "internal",  # noqa: E731
                                                              "channel": "system"}, Actor.system())
            else:
                vis = "public" if kind == "agent_public" else "internal"
                agent = Actor(type="agent", id=self.agents[0])
                call = lambda: self.cmds.add_message(ticket, {"body": body, "author_type": "agent", "visibility": vis,  # noqa: E731
                                                              "author_agent_id": str(self.agents[0])}, agent)
            try:
                call()
            except EXPECTED_REFUSALS:
                return
            self.sent.append(body)

        @rule(ticket=tickets, other=tickets, status=st.sampled_from(STATUSES), guarded=st.booleans())
        def transition(self, ticket, other, status, guarded):
            current = db.query_one("SELECT status FROM tickets WHERE id = :id::uuid", {"id": ticket})["status"]
            original = db.query_one("SELECT status FROM tickets WHERE id = :id::uuid", {"id": other})["status"]
            duplicate_of = other if status == "duplicate" else None
            try:
                self.cmds.transition(ticket, status, Actor.system(), expected_status=current if guarded else None,
                                     duplicate_of=duplicate_of)
            except EXPECTED_REFUSALS:
                bad_original = duplicate_of is not None and (other == ticket or original == "merged")
                assert not states.can_transition(current, status) or current == "merged" or guarded or bad_original
                return
            assert states.can_transition(current, status)

        @rule(ticket=tickets, agent=st.integers(0, 1), to_team=st.booleans())
        def assign(self, ticket, agent, to_team):
            try:
                if to_team:
                    team = db.query_one("INSERT INTO teams (name) VALUES (:n) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
                                        "RETURNING id", {"n": "queue"})["id"]
                    self.cmds.assign(ticket, Actor.system(), team_id=uuid.UUID(team))
                else:
                    self.cmds.assign(ticket, Actor.system(), agent_id=self.agents[agent])
            except EXPECTED_REFUSALS:
                pass

        @rule(src=tickets, dst=tickets, confirm=st.booleans())
        def merge(self, src, dst, confirm):
            try:  # unconfirmed merges of ann's and bob's tickets are refused (Conflict)
                self.cmds.merge(src, dst, Actor.system(), allow_other_requester=confirm)
            except EXPECTED_REFUSALS + (errors.NotFound,):
                pass

        @rule(hours=st.sampled_from([1, 24, 24 * 3, 24 * 8]))
        def advance_clock(self, hours):
            self.clock.advance(timedelta(hours=hours))

        @invariant()
        def statuses_only_through_the_table_and_audit_replays(self):
            if not hasattr(self, "cmds"):
                return
            rows = db.query("""
                SELECT t.id, t.status, coalesce(jsonb_agg(jsonb_build_array(a.from_status, a.to_status) ORDER BY a.id)
                       FILTER (WHERE a.id IS NOT NULL), '[]') AS trail
                FROM tickets t LEFT JOIN ticket_audit a ON a.ticket_id = t.id AND a.event_type = 'ticket.status_changed'
                GROUP BY t.id, t.status""")
            for row in rows:
                current = "new"
                for frm, to in row["trail"]:
                    assert frm == current, (row["id"], row["trail"])
                    assert states.can_transition(frm, to), (frm, to)
                    current = to
                assert current == row["status"], (row["id"], row["trail"], row["status"])

        @invariant()
        def every_message_stored_once_and_counted(self):
            if not hasattr(self, "cmds"):
                return
            stored = db.query("""
                SELECT m.body, m.ticket_id, t.status, t.merged_into_id FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id""")
            assert sorted(r["body"] for r in stored) == sorted(self.sent)
            assert all(r["status"] != "merged" for r in stored), "a merged ticket kept messages"
            counts = db.query("""
                SELECT t.id, t.message_count, (SELECT count(*) FROM ticket_messages m WHERE m.ticket_id = t.id) AS actual
                FROM tickets t""")
            assert all(c["message_count"] == c["actual"] for c in counts), counts

        @invariant()
        def agent_load_matches_tickets(self):
            if not hasattr(self, "cmds"):
                return
            bad = db.query("""
                SELECT a.id, a.active_count, (SELECT count(*) FROM tickets t WHERE t.assignee_id = a.id
                       AND t.status IN ('assigned', 'in_progress', 'reopened')) AS actual
                FROM agents a""")
            assert all(r["active_count"] == r["actual"] for r in bad), bad

    run_state_machine_as_test(TicketMachine, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]))

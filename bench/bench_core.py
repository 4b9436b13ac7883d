"""Data API calls per ticket command, measured with DataApi.stats on the local Data API and a fresh database.

Run: .venv/bin/python bench/bench_core.py

Three set-ups, because the follow-up statement (publish acknowledgement + SLA deadlines) is the
only thing that varies: no publisher and no SLA policy; an inline publisher; an inline publisher
and a 24/7 SLA policy. Targets (issue 2): create 1, add message 1, transition 1, get ticket with
its latest 50 messages 1; never more than 2.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first


from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.events.publisher import DeferredPublisher, RecordingPublisher  # noqa: E402
from helpdesk.tickets.commands import TicketCommands  # noqa: E402
from helpdesk.tickets.models import Actor  # noqa: E402

AGENT = Actor(type="agent", id=uuid.uuid4())
CUSTOMER = Actor(type="customer")
SETUPS = ("no publisher, no SLA", "publisher", "publisher + SLA")
TARGETS = {"create ticket": 1, "add message (customer)": 1, "add message (agent, public)": 1, "transition": 1,
           "assign": 1, "merge": 1, "get ticket + 50 messages": 1}


def measure(db: DataApi, setup: str) -> dict[str, tuple[int, float]]:
    db.execute("TRUNCATE tickets, ticket_messages, email_message_ids, ticket_participants, attachments, assignments, "
               "sla_targets, ticket_audit, outbox, idempotency_keys, customers, agents, teams, sla_policies CASCADE")
    if setup == SETUPS[2]:
        db.execute("INSERT INTO sla_policies (name, targets) VALUES ('24x7', :t::jsonb)",
                   {"t": {"first_response": {"seconds": 3600, "business": False}, "resolution": {"seconds": 86400, "business": False}}})
    clock = FixedClock(datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
    cmds = TicketCommands(db, clock, RecordingPublisher() if setup != SETUPS[0] else DeferredPublisher())
    agent_id = uuid.UUID(db.query_one("INSERT INTO agents (email, name) VALUES ('bench@example.com', 'B') RETURNING id")["id"])
    new = {"channel": "email", "subject": "Bench", "body": "body", "requester_email": "c@example.com"}
    out: dict[str, tuple[int, float]] = {}

    def timed(name, fn):
        db.stats.calls = 0
        start = time.perf_counter()
        result = fn()
        out[name] = (db.stats.calls, (time.perf_counter() - start) * 1000)
        if os.environ.get("BENCH_DEBUG"):
            print(name, dict(db.stats.by_operation))
        db.stats.by_operation.clear()
        return result

    ticket = timed("create ticket", lambda: cmds.create_ticket(new)).ticket
    other = cmds.create_ticket(new).ticket
    for i in range(55):
        cmds.add_message(ticket.id, {"body": f"filler {i}", "author_type": "customer"}, CUSTOMER)
    timed("add message (customer)", lambda: cmds.add_message(ticket.id, {"body": "hi", "author_type": "customer"}, CUSTOMER))
    timed("assign", lambda: cmds.assign(ticket.id, AGENT, agent_id=agent_id))
    timed("transition", lambda: cmds.transition(ticket.id, "in_progress", AGENT))
    timed("add message (agent, public)", lambda: cmds.add_message(
        ticket.id, {"body": "answer", "author_type": "agent", "author_agent_id": str(agent_id)}, AGENT))
    timed("merge", lambda: cmds.merge(other.id, ticket.id, AGENT))
    view = timed("get ticket + 50 messages", lambda: cmds.get_ticket(ticket.id))
    assert len(view.messages) == 50
    return out


def main() -> None:
    with scratch_database("helpdesk_bench_core") as scratch:
        db = scratch.data_api()
        results = {setup: measure(db, setup) for setup in SETUPS}

    width = max(map(len, TARGETS)) + 2
    print("Data API calls per command (local Data API, fresh database; ms = local wall time, not AWS latency)")
    print(f"{'command':<{width}}{'target':>7}" + "".join(f"{s:>24}" for s in SETUPS))
    worst = 0
    for command, target in TARGETS.items():
        cells = []
        for setup in SETUPS:
            n, ms = results[setup][command]
            worst = max(worst, n)
            cells.append(f"{n} ({ms:6.1f} ms)")
        print(f"{command:<{width}}{target:>7}" + "".join(f"{c:>24}" for c in cells))
    print(f"max calls for any command: {worst} (limit 2)")
    print("The +1 is the follow-up statement: it marks published outbox rows and fills SLA deadlines "
          "computed in business time; without a publisher and SLA policy every command is 1 call.")
    if worst > 2:
        raise SystemExit("a command needed more than 2 Data API calls")


if __name__ == "__main__":
    main()

"""Triggers benchmark: triggers evaluated per second with 100 rules, and Data API calls per trigger
evaluation (one outbox event run through the engine).

Run: .venv/bin/python bench/bench_triggers.py                 # 100 rules, 300 tickets
     .venv/bin/python bench/bench_triggers.py --tickets 50    # a quick run

1. The evaluator alone (pure Python, helpdesk.triggers.evaluate.plan): 100 active rules of 2-4
   conditions each (channel, status, priority, tier, tags, words in subject or body over ~1,500
   characters, hours since created), evaluated on varied tickets; rules/s = plans/s x rules on the event.
2. The engine (helpdesk.triggers.engine.TriggerEngine.handle) on the local Data API (real PostgreSQL
   through boto3's rds-data client, in this process) for the ticket.created event of each ticket:
   events where no rule fires, and events where 3 rules fire (tags, priority; their own events are
   evaluated too, as the queue would deliver them). Data API calls are counted exactly; on AWS add
   10-100 ms per call.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first

from helpdesk.auth import Principal  # noqa: E402
from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.events.publisher import RecordingPublisher  # noqa: E402
from helpdesk.events.schemas import Event  # noqa: E402
from helpdesk.tickets.commands import TicketCommands  # noqa: E402
from helpdesk.triggers import evaluate  # noqa: E402
from helpdesk.triggers.deliver import TriggerDelivery  # noqa: E402
from helpdesk.triggers.engine import TriggerEngine  # noqa: E402
from helpdesk.triggers.store import Triggers, active_triggers  # noqa: E402

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
BENCH_ADMIN = Principal(email="bench.admin@bench.test", role="admin", agent_id=None)
RULES = 100
FIRING = 3  # rules that fire on a ticket mentioning "outage"
WORDS = ["refund", "invoice", "password", "login", "crash", "slow", "cancel", "upgrade", "export", "api", "billing",
         "shipping", "broken", "error", "timeout", "vpn", "printer", "license", "renewal", "discount"]
FILLER = ("Hello team, we have been using the product for a while and mostly it works. Today something odd "
          "happened when my colleague opened the dashboard from the office network, and the numbers looked "
          "different from yesterday's export. Could you have a look when you have a moment? ")


def rule(i: int, rng: random.Random) -> dict:
    conditions = [
        {"field": "subject_or_body", "op": "contains_any", "value": [f"{rng.choice(WORDS)}-{i}", f"code {i}x",
                                                                       f"ticket phrase {i}"]},
        {"field": "priority", "op": "at_least", "value": rng.choice(["normal", "high"])},
    ]
    if i % 2:
        conditions.append({"field": "channel", "op": "in", "value": ["email", "web"]})
    if i % 3 == 0:
        conditions.append({"field": "tags", "op": "includes_none", "value": [f"done-{i}"]})
    any_of = [{"field": "tier", "op": "in", "value": ["premium", "enterprise"]},
              {"field": "hours_since_created", "op": "less_than", "value": 48}]
    return {"name": f"rule {i:03d}", "position": i, "events": ["ticket_created", "ticket_updated", "customer_replied"],
            "conditions": {"all": conditions, "any": any_of},
            "actions": [{"type": "add_tags", "value": [f"rule-{i}"]}]}


def firing_rule(i: int) -> dict:
    actions = [{"type": "add_tags", "value": ["outage"]}] if i == 0 else (
        [{"type": "set_priority", "value": "urgent"}] if i == 1 else [{"type": "add_tags", "value": ["paged"]}])
    return {"name": f"firing {i}", "position": 1000 + i, "events": ["ticket_created", "ticket_updated"],
            "conditions": {"all": [{"field": "subject_or_body", "op": "contains_any", "value": ["outage", "is down"]}]},
            "actions": actions}


def ticket_text(i: int, rng: random.Random, *, outage: bool) -> tuple[str, str]:
    subject = f"{rng.choice(WORDS).title()} question {i}" + (" - service outage" if outage else "")
    body = FILLER * 5 + " ".join(rng.choice(WORDS) for _ in range(30)) + (" The portal is down." if outage else "")
    return subject, body


def bench_pure(rules: list, n: int) -> None:
    rng = random.Random(11)
    tickets = []
    for i in range(n):
        subject, body = ticket_text(i, rng, outage=i % 5 == 0)
        tickets.append({"id": "00000000-0000-4000-8000-000000000000", "number": i, "subject": subject, "body": body,
                        "status": "new", "priority": rng.choice(["low", "normal", "high"]), "channel": "email",
                        "tags": [], "tier": rng.choice(["standard", "premium"]), "created_at": NOW - timedelta(hours=3),
                        "updated_at": NOW})
    for doc in tickets[:20]:  # warm
        evaluate.plan(rules, evaluate.TicketFacts.from_doc(doc), "ticket_created", NOW)
    began = time.perf_counter()
    fired = 0
    for doc in tickets:
        fired += len(evaluate.plan(rules, evaluate.TicketFacts.from_doc(doc), "ticket_created", NOW).firing)
    seconds = time.perf_counter() - began
    per_event = len(rules)
    print(f"evaluator (pure): {n:,} events x {per_event} rules in {seconds:.3f} s: {n / seconds:,.0f} events/s, "
          f"{n * per_event / seconds:,.0f} rules evaluated/s ({fired / n:.1f} fire per event)")


def bench_engine(n: int, keep: bool) -> None:
    rng = random.Random(5)
    with scratch_database("helpdesk_bench_triggers", keep=keep) as scratch:
        db = scratch.data_api()
        clock = FixedClock(NOW)
        store = Triggers(db, clock)
        for i in range(RULES - FIRING):
            store.create(rule(i, rng), by=BENCH_ADMIN)
        for i in range(FIRING):
            store.create(firing_rule(i), by=BENCH_ADMIN)
        rules = list(active_triggers(db).triggers)
        print(f"{len(rules)} active rules ({FIRING} fire on an outage ticket)")
        bench_pure(rules, max(n * 10, 1000))
        published = RecordingPublisher()
        commands = TicketCommands(db, clock, published)
        delivery = TriggerDelivery(ses_client=None, clock=clock, support_domain="example.com", signing_keys=None,
                                   web_base_url="")
        engine = TriggerEngine(db, clock, delivery, publisher=published)
        for outage in (False, True):
            events = []
            for i in range(n):
                subject, body = ticket_text(i, rng, outage=outage)
                commands.create_ticket({"channel": "email", "subject": subject, "body": body, "priority": "normal",
                                        "requester_email": f"customer{i % 50}@example.com"})
                events += [Event.from_outbox_row(r) for r in published.published if r["event_type"] == "ticket.created"]
                published.published.clear()
            active_triggers(db)  # the process's copy, as a warm notifier has it
            calls, times, chained_calls, chained = [], [], 0, 0
            for event in events:
                db.stats.calls = 0
                began = time.perf_counter()
                engine.handle(event)
                times.append(time.perf_counter() - began)
                calls.append(db.stats.calls)
                while published.published:  # the events the actions wrote, as the queue delivers them
                    follow = Event.from_outbox_row(published.published.pop(0))
                    db.stats.calls = 0
                    engine.handle(follow)
                    chained_calls += db.stats.calls
                    chained += 1
            label = f"{FIRING} rules fire (tags, priority)" if outage else "no rule fires"
            print(f"engine, {label}: {n} events, p50 {statistics.median(times) * 1000:.2f} ms, "
                  f"p95 {sorted(times)[int(len(times) * 0.95) - 1] * 1000:.2f} ms, "
                  f"{n / sum(times):,.0f} events/s, {n * len(rules) / sum(times):,.0f} rules evaluated/s, "
                  f"Data API calls per event: {statistics.mean(calls):.2f} (max {max(calls)})"
                  + (f"; then {chained} events written by the actions: {chained_calls / max(chained, 1):.2f} calls "
                     "each (the chain's rules already fired)" if chained else ""))
        db.stats.calls = 0
        from helpdesk.triggers.store import ActiveTriggers

        loaded = ActiveTriggers.load(db)
        print(f"loading the {len(loaded.triggers)} active rules (once per {30:.0f} s per process): "
              f"{loaded.calls} Data API call(s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=300, help="tickets per engine scenario (default 300)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    bench_engine(args.tickets, args.keep)


if __name__ == "__main__":
    main()

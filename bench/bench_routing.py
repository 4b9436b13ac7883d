"""Routing benchmark: pull claims per second with 50 concurrent claimers, Data API calls per claim, and
push-assignment latency with 2,000 agents and 150,000 open tickets.

Run: .venv/bin/python bench/bench_routing.py                    # 150,000 open tickets (the issue's target)
     .venv/bin/python bench/bench_routing.py --scale 20000      # a quick run

Everything runs on a fresh database on the local Data API (real PostgreSQL behind boto3's rds-data
client, in this process). Claims: a pull-only team of 50 agents and --queue queued tickets; 50 threads,
each with its own DataApi, claim until the queue is empty. The same claim statement is also run from 50
raw psycopg connections (no boto3, no Data API emulation) to show what the database itself sustains:
on 2 CPUs the Python client side, not PostgreSQL, is the bottleneck of the first figure.

Push: 2,000 agents (100 teams of 20, plus one team holding all 2,000), --scale open tickets spread over
them (loaded with generate_series; agents' active_count computed once), then sequential
open_ticket calls (create + route + push in one statement) into a 20-agent team and into the
2,000-agent team, and push_assign / claim of queued tickets at that scale. On AWS add 10-100 ms per call.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first

from helpdesk.clock import FixedClock  # noqa: E402

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
CLAIMERS = 50

QUEUE = """
WITH c AS (INSERT INTO customers (email) VALUES (:email) RETURNING id)
INSERT INTO tickets (id, subject, priority, channel, requester_id, team_id, created_at, updated_at)
SELECT gen_random_uuid(), 'queued ' || g, (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4], 'api', c.id,
       :team::uuid, :now::timestamptz - make_interval(secs => g), :now::timestamptz
FROM c, generate_series(1, :n) g
"""

# 2,000 agents: 100 teams of 20 (push), and team "all" with every agent (push).
ORG = """
WITH teams_made AS (
    INSERT INTO teams (name, assignment_mode) SELECT 'team ' || g, 'push' FROM generate_series(1, 100) g RETURNING id, name
),
big AS (INSERT INTO teams (name, assignment_mode) VALUES ('all', 'push') RETURNING id),
agents_made AS (
    INSERT INTO agents (email, name, capacity, skills)
    SELECT 'agent' || g || '@example.com', 'Agent ' || g, 80,
           CASE WHEN g % 10 = 0 THEN '["spanish"]'::jsonb ELSE '[]'::jsonb END
    FROM generate_series(1, 2000) g
    RETURNING id, email
),
numbered AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM agents_made),
team_numbered AS (SELECT id, row_number() OVER (ORDER BY name) AS n FROM teams_made),
m1 AS (
    INSERT INTO team_members (team_id, agent_id)
    SELECT tn.id, a.id FROM numbered a JOIN team_numbered tn ON tn.n = (a.n - 1) / 20 + 1
)
INSERT INTO team_members (team_id, agent_id) SELECT big.id, a.id FROM numbered a, big
"""

# N open tickets: 90% held by agents in active or waiting statuses, 10% queued in the 100 teams.
LOAD = """
WITH c AS (INSERT INTO customers (email) VALUES ('bench-routing@example.com') RETURNING id),
agent_list AS (SELECT m.agent_id, m.team_id, row_number() OVER (ORDER BY m.agent_id) - 1 AS k
               FROM team_members m JOIN teams t ON t.id = m.team_id WHERE t.name <> 'all'),
team_list AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM teams WHERE name <> 'all')
INSERT INTO tickets (id, subject, priority, status, channel, requester_id, team_id, assignee_id, created_at, updated_at)
SELECT gen_random_uuid(), 'open ' || g, (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN 'new' ELSE (ARRAY['assigned', 'in_progress', 'waiting_on_customer', 'reopened'])[1 + g % 4] END,
       'email', c.id,
       CASE WHEN g % 10 = 0 THEN tl.id ELSE al.team_id END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE al.agent_id END,
       :now::timestamptz - make_interval(secs => g), :now::timestamptz
FROM c, generate_series(1, :n) g
JOIN agent_list al ON al.k = g % 2000
JOIN team_list tl ON tl.k = (g / 10) % 100
"""

RECOUNT = """
UPDATE agents a SET active_count = coalesce(x.n, 0)
FROM (SELECT a2.id, (SELECT count(*) FROM tickets t WHERE t.assignee_id = a2.id
                     AND t.status IN ('assigned', 'in_progress', 'reopened')) AS n FROM agents a2) x
WHERE x.id = a.id
"""


def ms(samples: list[float]) -> str:
    if not samples:
        return "(no samples)"
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"p50 {p(0.5):6.1f} ms  p95 {p(0.95):6.1f} ms  mean {statistics.fmean(ordered):6.1f} ms"



def race(worker, n: int, start: threading.Barrier) -> float:
    """Run worker(0..n-1) in threads released together by `start`; seconds until all have finished."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began

class Bench:
    def __init__(self, keep: bool) -> None:
        self._scratch = contextlib.ExitStack()
        scratch = self._scratch.enter_context(scratch_database("helpdesk_bench_routing", keep=keep, pool_size=CLAIMERS))
        self.uri, self.backend, self._new_api = scratch.uri, scratch.backend, scratch.data_api
        self.db = self.api()

    def api(self):
        """A DataApi with its own call counter (one per claimer thread)."""
        return self._new_api()

    def close(self) -> None:
        self._scratch.close()

    def reset(self) -> None:
        self.db.execute("TRUNCATE tickets, ticket_messages, email_message_ids, ticket_participants, assignments, "
                        "sla_targets, ticket_audit, outbox, idempotency_keys, customers, team_members, agents, teams, "
                        "routing_rules CASCADE")

    # -- claims ---------------------------------------------------------------------------------
    def claims(self, queued: int) -> None:
        from helpdesk.routing.assignment import Assignment

        agents = [uuid.UUID(a) for a in self.pull_team_with_queue("claimer", queued)]
        clock = FixedClock(NOW)
        apis = [self.api() for _ in agents]
        samples: list[list[float]] = [[] for _ in agents]
        counts = [0] * len(agents)
        failures: list[BaseException] = []
        start = threading.Barrier(len(agents) + 1)

        def worker(i: int) -> None:
            assign = Assignment(apis[i], clock)
            start.wait()
            try:
                while True:
                    began = time.perf_counter()
                    ticket = assign.claim_next_ticket(agents[i])
                    samples[i].append((time.perf_counter() - began) * 1000)
                    if ticket is None:
                        return
                    counts[i] += 1
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)

        wall = race(worker, len(agents), start)
        claimed = sum(counts)
        calls = sum(a.stats.calls for a in apis)
        distinct = self.db.query_one("SELECT count(DISTINCT ticket_id) AS n, count(*) AS rows FROM assignments WHERE reason = 'pulled'")
        print(f"pull: {CLAIMERS} concurrent claimers, {queued:,} queued tickets (boto3 rds-data -> local Data API)")
        print(f"  {claimed:,} claimed in {wall:.2f} s = {claimed / wall:,.0f} claims/s   errors {len(failures)}   "
              f"history rows {distinct['rows']:,} for {distinct['n']:,} distinct tickets")
        print(f"  Data API calls per claim {calls / (claimed + len(agents)):.2f} "
              f"({calls:,} calls for {claimed:,} claims + {len(agents)} final empty claims)")
        print(f"  latency per claim under contention: {ms([s for per in samples for s in per])}")
        self.raw_claims(queued)

    def pull_team_with_queue(self, prefix: str, queued: int) -> list[str]:
        """A fresh pull-only team of CLAIMERS agents and `queued` unassigned tickets; the agents' ids."""
        self.reset()
        team = self.db.query_one("INSERT INTO teams (name, assignment_mode) VALUES ('pull', 'pull') RETURNING id")["id"]
        agents = [self.db.query_one(
            "WITH a AS (INSERT INTO agents (email, name) VALUES (:e, 'claimer') RETURNING id) "
            "INSERT INTO team_members (team_id, agent_id) SELECT :t::uuid, id FROM a RETURNING agent_id",
            {"e": f"{prefix}{i}@example.com", "t": team})["agent_id"] for i in range(CLAIMERS)]
        self.db.execute(QUEUE, {"team": team, "now": NOW, "n": queued, "email": f"bench-{prefix}@example.com"})
        self.db.execute("ANALYZE")
        return agents

    def raw_claims(self, queued: int) -> None:
        """The same claim statement from 50 plain psycopg connections: the database's own rate."""
        import psycopg

        from helpdesk.db import routing as sql
        from local.sqlparams import translate

        agents = self.pull_team_with_queue("raw", queued)
        text = translate(sql.CLAIM_NEXT).sql
        counts = [0] * len(agents)
        start = threading.Barrier(len(agents) + 1, timeout=120)
        self.backend.close()  # give the pooled connections back: the server is shared (max_connections)

        def worker(i: int) -> None:
            try:
                conn = psycopg.connect(self.uri, autocommit=True)
            except psycopg.Error:
                start.abort()
                raise
            with conn:
                params = {"agent_id": agents[i], "assigned_by": agents[i], "now": NOW, "actor_type": "agent",
                          "actor_id": agents[i]}
                start.wait()
                while conn.execute(text, params).fetchone()[1] is not None:
                    counts[i] += 1

        wall = race(worker, len(agents), start)
        print(f"  reference, same statement from {CLAIMERS} raw psycopg connections: {sum(counts):,} claims in "
              f"{wall:.2f} s = {sum(counts) / wall:,.0f} claims/s")

    # -- push at scale --------------------------------------------------------------------------
    def push(self, scale: int, samples: int) -> None:
        from helpdesk.events.publisher import DeferredPublisher
        from helpdesk.routing.assignment import Assignment
        from helpdesk.routing.intake import open_ticket

        self.reset()
        began = time.perf_counter()
        self.db.execute(ORG)
        self.db.execute("ALTER TABLE tickets DISABLE TRIGGER tickets_agent_load")
        try:
            self.db.execute(LOAD, {"n": scale, "now": NOW})
        finally:
            self.db.execute("ALTER TABLE tickets ENABLE TRIGGER tickets_agent_load")
        self.db.execute(RECOUNT)
        self.db.execute("ANALYZE")
        stats = self.db.query_one("""SELECT count(*) AS open, count(*) FILTER (WHERE assignee_id IS NULL) AS queued,
            (SELECT count(*) FROM agents) AS agents, (SELECT max(active_count) FROM agents) AS max_load,
            (SELECT count(*) FROM agents WHERE active_count >= capacity) AS full_agents FROM tickets""")
        print(f"\npush: {stats['agents']:,} agents (capacity 80), {stats['open']:,} open tickets "
              f"({stats['queued']:,} queued), max load {stats['max_load']}, loaded in {time.perf_counter() - began:.1f} s")
        small = self.db.query_one("SELECT id FROM teams WHERE name = 'team 1'")["id"]
        big = self.db.query_one("SELECT id FROM teams WHERE name = 'all'")["id"]
        # Free a little capacity in team 1 so pushes there succeed for a while.
        self.db.execute("UPDATE agents SET capacity = capacity + :extra WHERE id IN "
                        "(SELECT agent_id FROM team_members WHERE team_id = :t::uuid)", {"t": small, "extra": samples})
        clock = FixedClock(NOW)
        for label, team, tags in (("open_ticket into a 20-agent team", small, []),
                                  ("open_ticket into the 2,000-agent team", big, []),
                                  ("open_ticket, 2,000-agent team, skill 'spanish'", big, ["spanish"])):
            times: list[float] = []
            assigned = 0
            open_ticket(self.db, clock, DeferredPublisher(), self._new(team, tags))  # warm the routing cache
            self.db.stats.calls = 0
            for i in range(samples):
                t0 = time.perf_counter()
                result = open_ticket(self.db, clock, DeferredPublisher(), self._new(team, tags))
                times.append((time.perf_counter() - t0) * 1000)
                assigned += result.ticket.assignee_id is not None
            print(f"  {label:<48} {ms(times)}   calls/create {self.db.stats.calls / samples:.2f}   "
                  f"pushed {assigned}/{samples}")
        assign = Assignment(self.db, clock)
        queued = [r["id"] for r in self.db.query(
            "SELECT id FROM tickets WHERE team_id = :t::uuid AND assignee_id IS NULL ORDER BY created_at LIMIT :n",
            {"t": small, "n": samples})]
        times = []
        self.db.stats.calls = 0
        for ticket_id in queued:
            t0 = time.perf_counter()
            assign.push_assign(ticket_id)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"  {'push_assign of a queued ticket (20-agent team)':<48} {ms(times)}   "
              f"calls/push {self.db.stats.calls / max(1, len(queued)):.2f}")
        self.server_time()
        agent = self.db.query_one("SELECT agent_id FROM team_members WHERE team_id = :t::uuid LIMIT 1", {"t": small})["agent_id"]
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            assign.claim_next_ticket(agent)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"  {'claim_next_ticket at this scale':<48} {ms(times)}")
        t0 = time.perf_counter()
        self.db.stats.calls = 0
        moved = assign.backfill()
        seconds = time.perf_counter() - t0
        print(f"  backfill, one sweep's run: {moved} assigned in {seconds:.2f} s "
              f"({seconds / max(1, self.db.stats.calls) * 1000:.1f} ms per call, {self.db.stats.calls} calls)")

    def server_time(self) -> None:
        """PostgreSQL's own planning + execution time for one push (EXPLAIN ANALYZE runs it for real)."""
        from helpdesk.db import routing as sql

        row = self.db.query_one("SELECT t.id FROM tickets t JOIN teams tm ON tm.id = t.team_id WHERE tm.name <> 'all' "
                                "AND t.assignee_id IS NULL AND t.status = 'new' ORDER BY t.created_at LIMIT 1")
        if row is None:
            return
        plan = self.db.query_one("EXPLAIN (ANALYZE, FORMAT JSON) " + sql.PUSH, {
            "kind": "queued", "ticket_id": uuid.UUID(row["id"]), "reason": "pushed", "off_shift": [], "assigned_by": None, "now": NOW,
            "actor_type": "system", "actor_id": None})
        doc = next(iter(plan.values()))[0]
        print(f"  {'  of which PostgreSQL (EXPLAIN ANALYZE of one push)':<48} planning {doc['Planning Time']:.1f} ms, "
              f"execution {doc['Execution Time']:.1f} ms")

    @staticmethod
    def _new(team: str, tags: list[str]) -> dict:
        return {"channel": "email", "subject": "Bench", "body": "body", "requester_email": "c@example.com",
                "team_id": team, "tags": tags}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=150_000, help="open tickets for the push benchmark (default 150,000)")
    parser.add_argument("--queue", type=int, default=5_000, help="queued tickets for the claim benchmark")
    parser.add_argument("--samples", type=int, default=200, help="creates/pushes/claims timed per case")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    bench = Bench(args.keep)
    try:
        bench.claims(args.queue)
        bench.push(args.scale, args.samples)
    finally:
        bench.close()


if __name__ == "__main__":
    main()

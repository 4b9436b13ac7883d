"""The REST API in-process: warm latency (p50/p99) and Data API calls per request, per endpoint,
through functions.api.handler.handler with API Gateway proxy events, on the local Data API.

Run: .venv/bin/python bench/bench_api.py [--open 150000] [--repeat 50]

Seeds --open open tickets (default 5,000; the issue's scale is 150,000) spread over 5 teams and
60 agents, each with one message, plus running SLA clocks on a fifth of them and 50 KB articles,
with one set-based statement per table. Targets: reads 1 call, writes at most 2 (the second is the
follow-up that acknowledges published events / fills SLA deadlines). Times are local wall time
(the local Data API adds an HTTP-less in-process hop; on AWS each call costs 10-100 ms more).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first


from helpdesk import wiring  # noqa: E402
from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.events.publisher import RecordingPublisher  # noqa: E402

NOW = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
WORDS = ("refund invoice password login shipping parcel broken screen battery charger order delivery account "
         "subscription cancel upgrade printer wifi router email billing address payment card declined").split()

SEED = """
WITH teams_in AS (
    INSERT INTO teams (name, assignment_mode) SELECT 'Team ' || g, 'pull' FROM generate_series(1, 5) g RETURNING id
),
agents_in AS (
    INSERT INTO agents (email, name, capacity) SELECT 'agent' || g || '@bench.test', 'Agent ' || g, 1000
    FROM generate_series(1, 60) g RETURNING id, email
)
SELECT (SELECT count(*) FROM teams_in) AS teams, (SELECT count(*) FROM agents_in) AS agents
"""
MEMBERS = """
INSERT INTO team_members (team_id, agent_id)
SELECT t.id, a.id FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM teams) t
JOIN (SELECT id, row_number() OVER (ORDER BY email) AS n FROM agents) a ON (a.n % 5) + 1 = t.n
"""
CUSTOMERS = """
INSERT INTO customers (email, name) SELECT 'customer' || g || '@bench.test', 'Customer ' || g
FROM generate_series(1, greatest(1, :n / 3)) g
"""
TICKETS = """
WITH t AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams),
     a AS (SELECT array_agg(id ORDER BY email) AS ids FROM agents),
     c AS (SELECT array_agg(id ORDER BY email) AS ids FROM customers),
     w AS (SELECT jsonb_array_elements_text(:words::jsonb) AS word),
     words AS (SELECT array_agg(word) AS list FROM w)
INSERT INTO tickets (id, subject, status, priority, channel, requester_id, team_id, assignee_id, tags, created_at, updated_at)
SELECT gen_random_uuid(),
       'Bench ' || words.list[1 + g % 24] || ' ' || words.list[1 + (g / 24) % 24] || ' #' || g,
       CASE WHEN g % 3 = 0 THEN 'new' WHEN g % 3 = 1 THEN 'in_progress' ELSE 'waiting_on_customer' END,
       (ARRAY['low','normal','high','urgent'])[1 + g % 4], 'email',
       c.ids[1 + g % array_length(c.ids, 1)], t.ids[1 + g % 5],
       CASE WHEN g % 3 = 0 THEN NULL ELSE a.ids[1 + g % 60] END,
       CASE WHEN g % 7 = 0 THEN '["vip"]' ELSE '[]' END::jsonb,
       :now::timestamptz - make_interval(secs => g * 7), :now::timestamptz - make_interval(secs => g * 5)
FROM generate_series(1, :n) g, t, a, c, words
"""
MESSAGES = """
INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, visibility, channel, body, created_at)
SELECT id, 'customer', requester_id, 'public', 'email',
       'Hello, my ' || split_part(subject, ' ', 2) || ' has a problem with the ' || split_part(subject, ' ', 3)
       || '. Please help, it has been days. Order ' || number || '.', created_at
FROM tickets
"""
SLA = """
INSERT INTO sla_targets (ticket_id, kind, target_seconds, state, started_at, due_at, warn_at, updated_at)
SELECT id, 'first_response', 14400, 'running', created_at, :now::timestamptz + make_interval(mins => (number % 600)::int - 60),
       :now::timestamptz + make_interval(mins => (number % 600)::int - 90), :now::timestamptz
FROM tickets WHERE number % 5 = 0
"""
KB = """
INSERT INTO kb_articles (title, body, created_at, updated_at)
SELECT 'How to fix ' || w1 || ' ' || w2, 'When your ' || w1 || ' and ' || w2 || ' misbehave, restart and check settings. ' || repeat('Details. ', 40),
       :now::timestamptz, :now::timestamptz
FROM (SELECT a.word AS w1, b.word AS w2, row_number() OVER () AS n
      FROM jsonb_array_elements_text(:words::jsonb) a(word), jsonb_array_elements_text(:words::jsonb) b(word)
      WHERE a.word < b.word) x WHERE n <= 50
"""


def event(method: str, path: str, email: str | None, body=None, query=None, ip: str = "198.51.100.1", headers=None):
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    ctx = {"httpMethod": method, "path": path, "stage": "prod", "requestId": str(uuid.uuid4()), "identity": {"sourceIp": ip}}
    if email:
        ctx["authorizer"] = {"claims": {"sub": f"bench:{email}", "email": email, "email_verified": "true",
                                         "cognito:groups": "agent"}}
    return {"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": hdrs,
            "multiValueHeaders": {k: [v] for k, v in hdrs.items()}, "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "requestContext": ctx, "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=5000, help="open tickets to seed (issue scale: 150000)")
    parser.add_argument("--repeat", type=int, default=50, help="requests per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to EXPLAIN queries)")
    args = parser.parse_args()

    with scratch_database("helpdesk_bench_api", keep=args.keep) as scratch:
        db = scratch.data_api()
        start = time.perf_counter()
        params = {"n": args.open, "now": NOW, "words": list(WORDS)}
        for statement in (SEED, MEMBERS, CUSTOMERS, TICKETS, MESSAGES, SLA, KB):
            db.execute(statement, {k: v for k, v in params.items() if f":{k}" in statement})
        db.execute("ANALYZE")
        print(f"seeded {args.open} open tickets in {time.perf_counter() - start:.1f} s")
        run(db, args.repeat)


def run(db: DataApi, repeat: int) -> None:
    clock = FixedClock(NOW)
    publisher = RecordingPublisher()  # events acknowledged inline: the follow-up statement is counted
    wiring.data_api = lambda: db  # type: ignore[assignment]
    wiring.clock = lambda settings=None: clock  # type: ignore[assignment]
    wiring.publisher = lambda settings=None: publisher  # type: ignore[assignment]
    from functions.api.handler import handler

    agent = db.query_one("""SELECT a.email, a.id, tm.team_id FROM agents a JOIN team_members tm ON tm.agent_id = a.id
                            WHERE a.id = (SELECT assignee_id FROM tickets WHERE assignee_id IS NOT NULL
                                          GROUP BY assignee_id ORDER BY count(*) DESC LIMIT 1) LIMIT 1""")
    email = agent["email"]
    ticket_ids = [r["id"] for r in db.query("SELECT id FROM tickets WHERE assignee_id = :a::uuid ORDER BY number LIMIT :n",
                                            {"a": agent["id"], "n": repeat})]

    def call(ev):
        response = handler(ev, None)
        if response["statusCode"] >= 400:
            raise RuntimeError(f"{ev['httpMethod']} {ev['path']} -> {response['statusCode']} {response['body'][:300]}")
        return response

    counter = iter(range(10**9))
    # The measured tickets are in progress; each status change flips one between in_progress and waiting.
    db.execute("UPDATE tickets SET status = 'in_progress' WHERE assignee_id = :a::uuid", {"a": agent["id"]})
    statuses: dict[str, str] = {}

    def status_change(i: int) -> dict:
        ticket_id = str(ticket_ids[i % len(ticket_ids)])
        to = "waiting_on_customer" if statuses.get(ticket_id, "in_progress") == "in_progress" else "in_progress"
        statuses[ticket_id] = to
        return event("POST", f"/api/v1/tickets/{ticket_id}/status", email, {"status": to})

    endpoints = {
        "POST /tickets (create)": lambda i: event("POST", "/api/v1/tickets", email, {
            "subject": f"Bench create {i}", "body": "The printer is broken again.", "requester_email": f"new{i}@bench.test",
            "team_id": agent["team_id"]}, headers={"Idempotency-Key": f"bench-{next(counter)}"}),
        "POST /tickets/{id}/messages (reply)": lambda i: event(
            "POST", f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}/messages", email, {"body": "We are on it."}),
        "POST /tickets/{id}/status (change)": status_change,
        "GET /tickets/{id}": lambda i: event("GET", f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}", email),
        "GET /tickets/{id}/messages": lambda i: event("GET", f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}/messages", email),
        "GET /tickets?view=mine": lambda i: event("GET", "/api/v1/tickets", email, query={"view": "mine", "limit": "50"}),
        "GET /tickets?view=queue": lambda i: event("GET", "/api/v1/tickets", email, query={"view": "queue", "limit": "50"}),
        "GET /tickets?view=at_risk": lambda i: event("GET", "/api/v1/tickets", email, query={"view": "at_risk", "limit": "50"}),
        "GET /tickets?status=open": lambda i: event("GET", "/api/v1/tickets", email, query={"status": "open", "limit": "50"}),
        "GET /search?q=": lambda i: event("GET", "/api/v1/search", email, query={"q": f"{WORDS[i % 24]} {WORDS[(i + 7) % 24]}"}),
        "GET /tickets?tag=vip": lambda i: event("GET", "/api/v1/tickets", email, query={"tag": "vip", "limit": "50"}),
        "GET /tickets?sort=priority": lambda i: event("GET", "/api/v1/tickets", email, query={"sort": "priority", "limit": "50"}),
        "GET /views/counts": lambda i: event("GET", "/api/v1/views/counts", email),
        "GET /tickets?view=mine&counts=true": lambda i: event("GET", "/api/v1/tickets", email,
                                                             query={"view": "mine", "limit": "50", "counts": "true"}),
        "GET /search?q=TKT-n": lambda i: event("GET", "/api/v1/search", email, query={"q": f"TKT-{1 + i * 37}"}),
        "GET /search?q=<requester email>": lambda i: event("GET", "/api/v1/search", email,
                                                          query={"q": f"customer{1 + i * 11}@bench.test"}),
        "GET /search?q=<requester name>": lambda i: event("GET", "/api/v1/search", email,
                                                         query={"q": f"Customer {1 + i * 13}"}),
        "POST /tickets/{id}/seen": lambda i: event("POST", f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}/seen", email, {}),
        "POST /kb/suggest": lambda i: event("POST", "/api/v1/kb/suggest", email,
                                            {"subject": f"my {WORDS[i % 24]} is broken", "body": f"the {WORDS[(i + 3) % 24]} too"}),
        "POST /public/tickets": lambda i: event("POST", "/api/v1/public/tickets", None, {
            "requester_email": f"web{i}@bench.test", "subject": "Web form", "body": "Help please"}, ip=f"192.0.2.{i % 250}"),
    }
    call(event("GET", "/api/v1/agents/me", email))  # warm: principal cache, routing config, imports
    call(endpoints["POST /tickets (create)"](10**6))
    print(endpoint_header(38))
    worst_read, worst_write = 0, 0
    for label, make in endpoints.items():
        for i in range(3):  # warm this route
            call(make(10**5 + i))
        calls = measure_endpoint(label, make, call, db, repeat, width=38)
        if label.startswith("GET"):
            worst_read = max(worst_read, max(calls))
        else:
            worst_write = max(worst_write, max(calls))
    print(f"max calls: reads {worst_read} (target 1), writes {worst_write} (target 2; public form: +1 rate-limit check)")


def endpoint_header(width: int) -> str:
    return f"{'endpoint':<{width}}{'calls max':>10}{'calls mean':>11}{'p50 ms':>9}{'p99 ms':>9}"


def measure_endpoint(label: str, make, call, db: DataApi, repeat: int, *, width: int) -> list[int]:
    """Calls `make(i)`'s event `repeat` times, printing its Data API calls (max, mean) and latency (p50,
    p99) as a row under endpoint_header(width); returns the calls of each."""
    samples, calls = [], []
    for i in range(repeat):
        ev = make(i)
        db.stats.calls = 0
        start = time.perf_counter()
        call(ev)
        samples.append((time.perf_counter() - start) * 1000)
        calls.append(db.stats.calls)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(round(0.99 * len(samples) + 0.5)) - 1)]
    print(f"{label:<{width}}{max(calls):>10}{statistics.fmean(calls):>11.2f}{statistics.median(samples):>9.1f}{p99:>9.1f}")
    return calls


if __name__ == "__main__":
    main()

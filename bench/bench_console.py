"""Data API calls per admin console page load: each page's API requests on first load (console_pages.PAGES,
which the browser test checks against what the pages really request) replayed in-process through
functions.api.handler.handler on the local Data API, as a signed-in admin whose identity is cached
(a warm process). The OpenAPI document (GET /docs?format=json) is fetched once per console visit.

Run: .venv/bin/python bench/bench_console.py [--rows 200] [--customers 100000]

Seeds --rows of each setting (teams, agents, schedules, SLA policies, routing rules, KB articles,
organizations with a domain and members, quarantined mail, admin audit rows); a page's calls must
not grow with them. Then the organization writes that scan the customers in no organization (create
with a domain, add a domain) and rewrite members' terms, timed with --customers such customers.
"""
from __future__ import annotations

import argparse
import json
import uuid
from datetime import datetime, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first

from console_pages import ONCE_PER_VISIT, PAGES  # noqa: E402

from helpdesk import wiring  # noqa: E402
from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.events.publisher import RecordingPublisher  # noqa: E402

NOW = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
ADMIN = "bench.admin@bench.test"


SEED = """
WITH t AS (INSERT INTO teams (name, assignment_mode) SELECT 'Team ' || g, 'pull' FROM generate_series(1, :n) g RETURNING id),
a AS (INSERT INTO agents (email, name, role) SELECT 'agent' || g || '@bench.test', 'Agent ' || g, 'agent'
      FROM generate_series(1, :n) g RETURNING id),
s AS (INSERT INTO schedules (name, document, created_at, updated_at)
      SELECT 'Schedule ' || g, '{"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}}'::jsonb, now(), now()
      FROM generate_series(1, :n) g RETURNING id),
p AS (INSERT INTO sla_policies (name, position, targets, is_active, created_at)
      SELECT 'Policy ' || g, g, '{"first_response": {"seconds": 3600}}'::jsonb, true, now()
      FROM generate_series(1, :n) g RETURNING id),
k AS (INSERT INTO kb_articles (title, body, tags, is_published, created_at, updated_at)
      SELECT 'Article ' || g, repeat('text ', 200), '[]'::jsonb, g % 2 = 0, now(), now() FROM generate_series(1, :n) g RETURNING id),
o AS (INSERT INTO organizations (name, created_at, updated_at) SELECT 'Org ' || g, now(), now()
      FROM generate_series(1, :n) g RETURNING id, name),
d AS (INSERT INTO organization_domains (domain, organization_id)
      SELECT 'org' || replace(o.name, 'Org ', '') || '.bench.test', o.id FROM o RETURNING domain),
q AS (INSERT INTO email_quarantine (message_id, reason, from_email, subject, created_at)
      SELECT '<q' || g || '@bench.test>', 'spam', 'spam' || g || '@bench.test', 'Spam ' || g, now() FROM generate_series(1, :n) g RETURNING id),
au AS (INSERT INTO admin_audit (occurred_at, actor_email, actor_role, action, resource, resource_id, data)
       SELECT now(), 'x@bench.test', 'admin', 'update', 'team', g::text, '{}'::jsonb FROM generate_series(1, :n) g RETURNING id)
SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM a) + (SELECT count(*) FROM s) + (SELECT count(*) FROM p)
     + (SELECT count(*) FROM k) + (SELECT count(*) FROM d) + (SELECT count(*) FROM q) + (SELECT count(*) FROM au) AS rows
"""
RULES = """
INSERT INTO routing_rules (name, position, conditions, team_id, is_active, created_at, updated_at)
SELECT 'Rule ' || g, g, '{}'::jsonb, (SELECT id FROM teams ORDER BY name LIMIT 1), true, now(), now() FROM generate_series(1, :n) g
"""
MEMBERS = """
INSERT INTO customers (email) SELECT 'c' || g || '@org' || (1 + g % :n) || '.bench.test' FROM generate_series(1, :n * 20) g
"""


def event(path: str, query: dict[str, str]) -> dict:
    ctx = {"httpMethod": "GET", "path": path, "stage": "prod", "requestId": str(uuid.uuid4()),
           "identity": {"sourceIp": "198.51.100.1"},
           "authorizer": {"claims": {"sub": "bench-admin", "email": ADMIN, "email_verified": "true", "cognito:groups": "admin"}}}
    return {"resource": "/{proxy+}", "path": f"/api/v1{path}", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "requestContext": ctx, "body": None, "isBase64Encoded": False}


def page_calls(db: DataApi, *, signed_in_recently: bool = True) -> dict[str, int]:
    """Data API calls of each page's first load in a warm process. The caller's agent record is cached
    for auth.RECORD_TTL_SECONDS: signed_in_recently=False counts a load after that (one more call)."""
    from functions.api.handler import handler
    from helpdesk.auth import DEFAULT_RESOLVER

    DEFAULT_RESOLVER.ttl = 3600.0  # the run must not depend on how fast it is

    def calls(requests: list[tuple[str, dict[str, str]]]) -> int:
        if not signed_in_recently:
            DEFAULT_RESOLVER.clear()
        db.stats.calls = 0
        for path, query in requests:
            answer = handler(event(path, query), None)
            if answer["statusCode"] != 200:
                raise RuntimeError(f"GET {path} -> {answer['statusCode']} {answer['body'][:300]}")
        return db.stats.calls

    for requests in PAGES.values():  # warm: principal cache, imports, route schemas
        calls(requests)
    out = {name: calls(requests) for name, requests in PAGES.items()}
    out["(once per visit) API schema"] = calls(ONCE_PER_VISIT)
    return out


def admin_writes(db: DataApi, customers: int) -> list[tuple[str, int, float]]:
    """Calls and time of admin writes, each with its admin audit row: a team created and changed, then the
    organization writes that scan customers, with `customers` customers in no organization (50 of them at
    the new domain): create with a domain, add a domain, change the tier."""
    import time

    from functions.api.handler import handler

    db.execute("INSERT INTO customers (email) SELECT 'p' || g || '@scale' || (g % 1000) || '.bench.test' "
               "FROM generate_series(1, :n) g", {"n": customers})
    db.execute("INSERT INTO customers (email) SELECT 'm' || g || '@joining.bench.test' FROM generate_series(1, 50) g")
    db.execute("ANALYZE customers")

    def timed(label: str, method: str, path: str, body: dict) -> tuple[str, int, float, dict]:
        ev = {**event(path, {}), "httpMethod": method, "body": json.dumps(body), "headers": {"Content-Type": "application/json"},
              "multiValueHeaders": {"Content-Type": ["application/json"]}}
        db.stats.calls = 0
        start = time.perf_counter()
        answer = handler(ev, None)
        elapsed = (time.perf_counter() - start) * 1000
        if answer["statusCode"] >= 400:
            raise RuntimeError(f"{method} {path} -> {answer['statusCode']} {answer['body'][:300]}")
        return label, db.stats.calls, elapsed, json.loads(answer["body"])

    out = []
    label, calls, ms, team = timed("POST /teams", "POST", "/teams", {"name": "Bench writes", "assignment_mode": "pull"})
    out.append((label, calls, ms))
    label, calls, ms, _ = timed("PATCH /teams/{id}", "PATCH", f"/teams/{team['id']}", {"assignment_mode": "push"})
    out.append((label, calls, ms))
    label, calls, ms, org = timed("POST /organizations (domain of 50 customers)", "POST", "/organizations",
                                  {"name": "Joining", "domains": ["joining.bench.test"], "tier": "premium"})
    assert org["member_count"] == 50, org
    out.append((label, calls, ms))
    label, calls, ms, _ = timed("PATCH /organizations/{id} (tier: 50 members follow)", "PATCH", f"/organizations/{org['id']}",
                                {"tier": "enterprise"})
    out.append((label, calls, ms))
    label, calls, ms, _ = timed("PATCH /organizations/{id} (add a domain)", "PATCH", f"/organizations/{org['id']}",
                                {"domains": ["joining.bench.test", "scale7.bench.test"]})
    out.append((label, calls, ms))
    return out


def wire(db: DataApi) -> None:
    clock = FixedClock(NOW)
    publisher = RecordingPublisher()
    wiring.data_api = lambda: db  # type: ignore[assignment]
    wiring.clock = lambda settings=None: clock  # type: ignore[assignment]
    wiring.publisher = lambda settings=None: publisher  # type: ignore[assignment]
    db.execute("INSERT INTO agents (email, name, role, identity_sub) VALUES (:e, 'Bench Admin', 'admin', 'bench-admin')",
               {"e": ADMIN})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200, help="rows of each setting to seed")
    parser.add_argument("--customers", type=int, default=100_000, help="customers in no organization, for the organization writes")
    args = parser.parse_args()
    with scratch_database("helpdesk_bench_console") as scratch:
        db = scratch.data_api()
        wire(db)
        small = page_calls(db)
        for statement in (SEED, RULES, MEMBERS):
            db.execute(statement, {"n": args.rows})
        large = page_calls(db)
        expired = page_calls(db, signed_in_recently=False)
        writes = admin_writes(db, args.customers)
    print(f"{'console page':<30}{'calls (empty)':>14}{f'calls ({args.rows} rows each)':>24}{'agent record expired':>22}")
    for name in large:
        print(f"{name:<30}{small[name]:>14}{large[name]:>24}{expired[name]:>22}")
    print(f"\n{f'admin writes ({args.customers:,} customers in no organization)':<62}{'calls':>6}{'ms':>9}")
    for label, calls, ms in writes:
        print(f"{label:<62}{calls:>6}{ms:>9.1f}")
    print(json.dumps({"max_calls_per_page": max(v for k, v in large.items() if not k.startswith("(")),
                      "max_calls_per_page_record_expired": max(v for k, v in expired.items() if not k.startswith("("))}))


if __name__ == "__main__":
    main()

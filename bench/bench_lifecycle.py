"""The customer's side of a resolve, in-process on the local Data API: Data API calls and warm
latency per request of the portal page, the survey page, a rating (from the mailed link and from
the portal), "solved", the list of a customer's requests and the satisfaction report, plus the
calls of one solved mail (moto SES).

Run: .venv/bin/python bench/bench_lifecycle.py [--tickets 20000] [--repeat 30]

Seeds --tickets resolved tickets (5 teams, 60 agents, a customer per 3 tickets, 2 messages each)
with a survey offer each, 60 % rated, a third of the ratings commented, one offer every 2 minutes
back from now (21,600 in the last 30 days; 150,000 reach back 208 days): the 30-day report reads
the period's offers, the 366-day one all of them. Targets: every customer request 1-3 calls whatever the size;
the report 1 call (plus who is calling) and well under a second at 150,000 offers a month.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from scratch import scratch_database  # sets sys.path and the fake AWS environment first

from bench_api import endpoint_header, event, measure_endpoint  # noqa: E402

from helpdesk import wiring  # noqa: E402
from helpdesk.clock import FixedClock  # noqa: E402
from helpdesk.config import get_settings  # noqa: E402
from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.events.publisher import RecordingPublisher  # noqa: E402

NOW = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
CHUNK = 10_000
SEED = """
WITH teams_in AS (INSERT INTO teams (name, assignment_mode) SELECT 'Team ' || g, 'pull' FROM generate_series(1, 5) g RETURNING id),
agents_in AS (INSERT INTO agents (email, name, role, capacity)
              SELECT 'agent' || g || '@bench.test', 'Agent ' || g, CASE WHEN g = 1 THEN 'admin' ELSE 'agent' END, 1000
              FROM generate_series(1, 60) g RETURNING id)
SELECT (SELECT count(*) FROM teams_in) + (SELECT count(*) FROM agents_in) AS n
"""
CUSTOMERS = "INSERT INTO customers (email, name) SELECT 'customer' || g || '@bench.test', 'Customer ' || g FROM generate_series(1, greatest(1, :n / 3)) g"
TICKETS = """
WITH t AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams),
     a AS (SELECT array_agg(id ORDER BY email) AS ids FROM agents),
     c AS (SELECT array_agg(id ORDER BY email) AS ids FROM customers)
INSERT INTO tickets (id, subject, status, priority, channel, requester_id, team_id, assignee_id, created_at, updated_at, resolved_at)
SELECT gen_random_uuid(), 'Bench resolved #' || g, 'resolved', 'normal', 'email', c.ids[1 + g % array_length(c.ids, 1)], t.ids[1 + g % 5],
       a.ids[1 + g % 60], :now::timestamptz - make_interval(secs => g * 130), :now::timestamptz - make_interval(secs => g * 120),
       :now::timestamptz - make_interval(secs => g * 120)
FROM generate_series(:lo::int, :hi::int) g, t, a, c
"""
MESSAGES = """
INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, author_agent_id, visibility, channel, body, created_at)
SELECT id, 'customer', requester_id, NULL, 'public', 'email', 'My printer is on fire, order ' || number, created_at FROM tickets
WHERE number BETWEEN :lo AND :hi
UNION ALL
SELECT id, 'agent', NULL, assignee_id, 'public', 'api', 'Fixed: the fuser was replaced.', resolved_at FROM tickets
WHERE number BETWEEN :lo AND :hi
"""
OFFERS = """
INSERT INTO ticket_satisfaction (offer_id, ticket_id, offered_at, team_id, agent_id, rating, comment, rated_at)
SELECT gen_random_uuid(), id, resolved_at, team_id, assignee_id,
       CASE WHEN number % 5 < 3 THEN (CASE WHEN number % 4 = 0 THEN 'bad' ELSE 'good' END) END,
       CASE WHEN number % 5 < 3 AND number % 3 = 0 THEN 'Comment on ticket ' || number END,
       CASE WHEN number % 5 < 3 THEN resolved_at + interval '1 hour' END
FROM tickets WHERE number BETWEEN :lo AND :hi
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000, help="resolved tickets with a survey offer")
    parser.add_argument("--repeat", type=int, default=30, help="requests per endpoint")
    args = parser.parse_args()
    with scratch_database("helpdesk_bench_lifecycle") as scratch:
        db = scratch.data_api()
        start = time.perf_counter()
        db.execute(SEED)
        db.execute(CUSTOMERS, {"n": args.tickets})
        for lo in range(1, args.tickets + 1, CHUNK):  # each statement well within the Data API's 45 s
            hi = min(args.tickets, lo + CHUNK - 1)
            for statement in (TICKETS, MESSAGES, OFFERS):
                db.execute(statement, {k: v for k, v in {"lo": lo, "hi": hi, "now": NOW}.items() if f":{k}" in statement})
        db.execute("ANALYZE")
        print(f"seeded {args.tickets} resolved tickets with survey offers in {time.perf_counter() - start:.1f} s")
        run(db, args.repeat)


def run(db: DataApi, repeat: int) -> None:
    from helpdesk.auth.customer_link import sign_requests_token
    from helpdesk.auth.portal import sign_portal_token
    from helpdesk.auth.survey import sign_survey_token

    clock = FixedClock(NOW)
    publisher = RecordingPublisher()
    wiring.data_api = lambda: db  # type: ignore[assignment]
    wiring.clock = lambda settings=None: clock  # type: ignore[assignment]
    wiring.publisher = lambda settings=None: publisher  # type: ignore[assignment]
    from functions.api.handler import handler

    keys = get_settings().signing_keys
    rows = db.query("SELECT s.ticket_id, s.offer_id, t.requester_id FROM ticket_satisfaction s JOIN tickets t ON t.id = s.ticket_id "
                    "ORDER BY t.number LIMIT :n", {"n": repeat * 3 + 10})
    # The report's caller: the admin, bound to bench_api's event identity on its first (warming) request.
    admin = db.query_one("SELECT email FROM agents WHERE role = 'admin' ORDER BY email LIMIT 1")["email"]
    portal = [sign_portal_token(r["ticket_id"], keys, NOW) for r in rows]
    survey = [sign_survey_token(r["ticket_id"], r["offer_id"], keys, NOW) for r in rows]
    customer = [sign_requests_token(r["requester_id"], keys, NOW) for r in rows]
    since, until = (NOW - timedelta(days=30)).isoformat(), (NOW + timedelta(days=1)).isoformat()

    def call(ev):
        response = handler(ev, None)
        if response["statusCode"] >= 400:
            raise RuntimeError(f"{ev['httpMethod']} {ev['path']} -> {response['statusCode']} {response['body'][:300]}")

    n = len(rows)
    endpoints = {
        "GET /portal/{token} (page)": lambda i: event("GET", f"/api/v1/portal/{portal[i % n]}", None),
        "GET /public/satisfaction/{token}": lambda i: event("GET", f"/api/v1/public/satisfaction/{survey[i % n]}", None),
        "POST .../satisfaction/{t}/rating (mail)": lambda i: event(
            "POST", f"/api/v1/public/satisfaction/{survey[i % n]}/rating", None, {"rating": "good" if i % 2 else "bad"}),
        "POST /portal/{token}/rating": lambda i: event(
            "POST", f"/api/v1/portal/{portal[i % n]}/rating", None, {"rating": "bad", "comment": f"slow {i}"}),
        "GET /public/customer-requests/{token}": lambda i: event("GET", f"/api/v1/public/customer-requests/{customer[i % n]}", None),
        "GET /reports/satisfaction (30 days)": lambda i: event("GET", "/api/v1/reports/satisfaction", admin,
                                                                query={"since": since, "until": until}),
        "GET /reports/satisfaction (366 days)": lambda i: event("GET", "/api/v1/reports/satisfaction", admin,
                                                                 query={"since": (NOW - timedelta(days=365)).isoformat(),
                                                                        "until": until}),
        "POST /portal/{token}/solved (close)": lambda i: event("POST", f"/api/v1/portal/{portal[(i + 2 * repeat) % n]}/solved", None),
    }
    call(event("GET", "/api/v1/agents/me", admin))  # warm: principal cache, imports
    print(endpoint_header(42))
    for label, make in endpoints.items():
        measure_endpoint(label, make, call, db, repeat, width=42)
    solved_mail_calls(db, clock, rows[-1]["ticket_id"])


def solved_mail_calls(db: DataApi, clock: FixedClock, ticket_id) -> None:
    """One solved mail through the outbound sender on moto SES: its Data API calls, and a redelivery's."""
    import dataclasses
    import uuid

    import boto3
    from moto import mock_aws

    from helpdesk.outbound.email import OutboundEmail

    with mock_aws():
        ses = boto3.client("ses", region_name="us-east-1")
        ses.verify_domain_identity(Domain="bench.test")
        settings = dataclasses.replace(get_settings(), support_domain="bench.test", region="us-east-1", ses_configuration_set="")
        sender = OutboundEmail(db, ses, settings, clock)
        event_doc = {"id": str(uuid.uuid4()), "type": "ticket.status_changed", "ticket_id": str(ticket_id),
                     "occurred_at": NOW.isoformat(), "payload": {"from": "in_progress", "to": "resolved", "number": 1}}
        for label in ("solved mail (claim + offer, send, record)", "solved mail redelivered"):
            db.stats.calls = 0
            outcome = sender.send(event_doc)
            print(f"{label:<42}{db.stats.calls:>10}   {outcome.action}")


if __name__ == "__main__":
    main()

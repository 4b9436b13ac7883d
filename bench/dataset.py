"""The enterprise-scale dataset: loaded set-based with generate_series through a direct driver
(row-by-row Data API calls would take hours), into a database migrated by the project's own
migrations, so every index and trigger the product relies on is there while we measure.

Full scale (scale=1.0): 2,000 agents in 50 teams, 1,000,000 tickets of which 150,000 open, about
8 messages each, SLA clocks on every open ticket.

The routing queue is what a sweep meets in a live system: teams push and are always on shift (so the
back-fill is measured whatever the hour the bench runs), agents have free capacity, and almost every
queued ticket asks for the skill 'legal', which in each team only one agent has, and that agent is
full: a queue no free agent is skilled for. One queued ticket in QUEUE_TAKEABLE_EVERY is untagged:
the first sweep (catch-up) back-fills those, later sweeps have nothing to assign.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import psycopg

WORDS = ("invoice refund password login shipping delivery order payment card charge account "
         "error crash timeout slow upgrade plan subscription cancel address tracking package damaged "
         "missing export report api token integration webhook mobile android iphone browser chrome "
         "printer label warehouse return exchange discount coupon tax receipt statement billing "
         "renewal license seat admin permission sso saml okta reset locked verification email").split()

DEADLINE_PAST_MINUTES = 30
DEADLINE_SPREAD_MINUTES = 14 * 24 * 60
DEADLINE_SQL = (f"now() + ((abs(hashtext(t.id::text)) % {DEADLINE_SPREAD_MINUTES}) - {DEADLINE_PAST_MINUTES})"
                " * interval '1 minute'")

QUEUE_SKILL = "legal"
QUEUE_TAKEABLE_EVERY = 100

BUSINESS_HOURS = ('{"timezone": "America/New_York", "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], '
                  '"wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}}')


@dataclass(frozen=True)
class Shape:
    agents: int
    teams: int
    customers: int
    tickets: int
    open_tickets: int
    messages_per_ticket: int

    @classmethod
    def at(cls, scale: float) -> "Shape":
        def n(full: int, least: int) -> int:
            return max(least, int(full * scale))

        return cls(agents=n(2000, 20), teams=n(50, 3), customers=n(200_000, 100), tickets=n(1_000_000, 500),
                   open_tickets=n(150_000, 100), messages_per_ticket=8)


def _words(count: int) -> str:
    # A random phrase from WORDS, evaluated per row.
    pick = "(ARRAY[{}])[1 + floor(random() * {})::int]".format(
        ", ".join(f"'{w}'" for w in WORDS), len(WORDS))
    return " || ' ' || ".join([pick] * count)


BULK_LOAD_TRIGGERS = (("tickets", "tickets_agent_load"), ("tickets", "tickets_search_doc_insert"),
                      ("ticket_messages", "ticket_messages_search_doc_insert"))


def load(uri: str, shape: Shape, progress: Callable[[str], None] = print) -> dict[str, float]:
    """Fill an empty, migrated database; returns seconds per step."""
    timings: dict[str, float] = {}
    with psycopg.connect(uri, autocommit=True) as conn:
        def step(name: str, sql: str, params: dict | None = None) -> None:
            progress(f"  loading {name} ...")
            start = time.perf_counter()
            conn.execute(sql, params)
            timings[name] = time.perf_counter() - start
            progress(f"  loaded {name} in {timings[name]:.1f} s")

        conn.execute("SELECT setseed(0.42)")
        step("schedule, teams", f"""
            WITH s AS (INSERT INTO schedules (name, document) VALUES ('Bench business hours', '{BUSINESS_HOURS}'::jsonb) RETURNING id)
            INSERT INTO teams (name, email_address, assignment_mode)
            SELECT 'Team ' || g, 'team' || g || '@bench.example.com', 'push' FROM s, generate_series(1, %(teams)s) g""",
             {"teams": shape.teams})
        step("agents", """
            INSERT INTO agents (email, name, role, skills, capacity, last_assigned_at)
            SELECT 'agent' || g || '@bench.example.com', 'Agent ' || g,
                   CASE WHEN g %% 20 = 0 THEN 'lead' ELSE 'agent' END,
                   CASE WHEN g %% 3 = 0 THEN '["billing"]'::jsonb ELSE '[]'::jsonb END,
                   1000, now() - g * interval '1 second'
            FROM generate_series(1, %(agents)s) g""", {"agents": shape.agents})
        step("team members", """
            INSERT INTO team_members (team_id, agent_id)
            SELECT t.id, a.id FROM (SELECT id, row_number() OVER (ORDER BY email) AS n FROM agents) a
            JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM teams) t ON a.n %% %(teams)s = t.k""",
             {"teams": shape.teams})
        step("the skilled agent of each team", """
            UPDATE agents SET skills = skills || jsonb_build_array(%(skill)s::text)
            WHERE id IN (SELECT DISTINCT ON (team_id) agent_id FROM team_members ORDER BY team_id, agent_id)""",
             {"skill": QUEUE_SKILL})
        step("customers", """
            INSERT INTO customers (email, name, tier)
            SELECT 'customer' || g || '@example.net', 'Customer ' || g,
                   CASE WHEN g %% 50 = 0 THEN 'enterprise' WHEN g %% 10 = 0 THEN 'premium' ELSE 'standard' END
            FROM generate_series(1, %(customers)s) g""", {"customers": shape.customers})
        step("sla policy", """
            INSERT INTO sla_policies (name, position, targets, schedule_id)
            SELECT 'Bench default', 100, '{"first_response": {"seconds": 14400, "business": true},
                   "resolution": {"seconds": 172800, "business": true}}'::jsonb, id FROM schedules LIMIT 1""")
        # Helper arrays so each ticket picks its team, agent and customer by arithmetic, not joins.
        conn.execute("DROP TABLE IF EXISTS bench_agents")
        conn.execute("""CREATE UNLOGGED TABLE bench_agents AS
            SELECT tm.team_id, array_agg(tm.agent_id ORDER BY tm.agent_id) AS agents,
                   row_number() OVER (ORDER BY tm.team_id) - 1 AS k
            FROM team_members tm GROUP BY tm.team_id""")
        conn.execute("DROP TABLE IF EXISTS bench_customers")
        conn.execute("CREATE UNLOGGED TABLE bench_customers AS SELECT id, row_number() OVER (ORDER BY email) - 1 AS k FROM customers")
        conn.execute("CREATE INDEX ON bench_customers (k)")
        # Triggers that keep derived data row by row (agents.active_count, the ticket search documents)
        # are off during the bulk load; one set-based statement each afterwards gives the same result
        # far faster (the search trigger would aggregate an 8,000,000-row transition table at once).
        for table, trigger in BULK_LOAD_TRIGGERS:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        try:
            step("tickets", f"""
                INSERT INTO tickets (id, subject, status, priority, channel, requester_id, team_id, assignee_id,
                                     tags, first_response_at, resolved_at, closed_at, message_count, created_at, updated_at)
                SELECT gen_random_uuid(),
                       'Question about ' || {_words(3)},
                       st.status,
                       (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + g %% 6],
                       (ARRAY['email', 'email', 'email', 'web', 'chat', 'slack', 'api'])[1 + g %% 7],
                       c.id, ba.team_id,
                       CASE WHEN st.status IN ('new') THEN NULL
                            ELSE ba.agents[1 + (g / %(teams)s) %% array_length(ba.agents, 1)] END,
                       CASE WHEN st.status = 'new' AND g %% %(takeable)s <> 0 THEN jsonb_build_array(%(skill)s::text)
                            ELSE '[]'::jsonb END,
                       CASE WHEN st.status NOT IN ('new', 'assigned') THEN created + interval '2 hours' END,
                       CASE WHEN st.status IN ('resolved', 'closed') THEN created + interval '1 day' END,
                       CASE WHEN st.status = 'closed' THEN created + interval '4 days' END,
                       %(mpt)s, created, created + interval '1 hour'
                FROM generate_series(1, %(tickets)s) g
                CROSS JOIN LATERAL (SELECT now() - ((%(tickets)s - g) * interval '30 seconds') AS created) t
                CROSS JOIN LATERAL (SELECT CASE
                    -- History is closed: a live system's sweep closed its resolved tickets after 72 h.
                    WHEN g <= %(tickets)s - %(open)s THEN 'closed'
                    ELSE (ARRAY['new', 'assigned', 'in_progress', 'in_progress', 'waiting_on_customer'])[1 + g %% 5]
                    END AS status) st
                JOIN bench_agents ba ON ba.k = g %% %(teams)s
                JOIN bench_customers c ON c.k = g %% %(customers)s""",
                 {"tickets": shape.tickets, "open": shape.open_tickets, "teams": shape.teams,
                  "customers": shape.customers, "mpt": shape.messages_per_ticket, "takeable": QUEUE_TAKEABLE_EVERY,
                  "skill": QUEUE_SKILL})
            step("agent load counters", """
                UPDATE agents a SET active_count = coalesce(l.n, 0)
                FROM agents a2 LEFT JOIN (SELECT assignee_id, count(*) AS n FROM tickets
                                          WHERE status IN ('assigned', 'in_progress', 'reopened') GROUP BY assignee_id) l
                     ON l.assignee_id = a2.id
                WHERE a.id = a2.id""")
            # The skilled agents are full: nobody free can take the tagged queue.
            step("skilled agents at capacity", "UPDATE agents SET capacity = least(active_count, 1000) WHERE skills ? %(skill)s",
                 {"skill": QUEUE_SKILL})
            step("messages", f"""
                INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, author_agent_id, visibility,
                                             channel, body, created_at)
                SELECT t.id,
                       CASE WHEN m %% 2 = 1 OR t.assignee_id IS NULL THEN 'customer' ELSE 'agent' END,
                       CASE WHEN m %% 2 = 1 OR t.assignee_id IS NULL THEN t.requester_id END,
                       CASE WHEN m %% 2 = 1 OR t.assignee_id IS NULL THEN NULL ELSE t.assignee_id END,
                       CASE WHEN m = 4 AND t.assignee_id IS NOT NULL THEN 'internal' ELSE 'public' END,
                       CASE WHEN t.channel = 'api' THEN 'web' ELSE t.channel END,
                       'Hello, my ' || {_words(2)} || ' has a problem with ' || {_words(4)} || '. Order ' || (m * 7919 + t.number) || '.',
                       t.created_at + m * interval '10 minutes'
                FROM tickets t CROSS JOIN generate_series(1, %(mpt)s) m""", {"mpt": shape.messages_per_ticket})
            step("search documents", "SELECT ticket_search_docs_rebuild()")
        finally:
            for table, trigger in BULK_LOAD_TRIGGERS:
                conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        step("SLA clocks", f"""
            INSERT INTO sla_targets (ticket_id, kind, policy_id, target_seconds, business, state, started_at,
                                     due_at, warn_at, paused_at, pause_reason, met_at, updated_at)
            SELECT t.id, k.kind, p.id, k.secs, true,
                   CASE WHEN t.status = 'waiting_on_customer' THEN 'paused'
                        WHEN k.kind = 'first_response' AND t.first_response_at IS NOT NULL THEN 'met' ELSE 'running' END,
                   t.created_at,
                   -- Deadlines spread over the next two weeks, the first DEADLINE_PAST_MINUTES of the spread already
                   -- past: a first sweep has a realistic backlog to catch up, later ones the steady state.
                   {DEADLINE_SQL},
                   {DEADLINE_SQL} - interval '30 minutes',
                   CASE WHEN t.status = 'waiting_on_customer' THEN t.updated_at END,
                   CASE WHEN t.status = 'waiting_on_customer' THEN 'waiting_on_customer' END,
                   CASE WHEN k.kind = 'first_response' AND t.first_response_at IS NOT NULL THEN t.first_response_at END,
                   t.updated_at
            FROM tickets t
            CROSS JOIN (VALUES ('first_response', 14400), ('resolution', 172800)) k(kind, secs)
            CROSS JOIN (SELECT id FROM sla_policies LIMIT 1) p
            WHERE t.status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened')""")
        conn.execute("SELECT setval('ticket_number_seq', (SELECT max(number) FROM tickets))")
        conn.execute("DROP TABLE bench_agents, bench_customers")
        progress("  analyzing ...")
        conn.execute("ANALYZE")
    return timings


def rewind_to_loaded(uri: str, progress: Callable[[str], None] = print) -> None:
    """Put every open clock's deadline back where load() put it and the back-filled tickets back in the
    queue, so a run on a reused database starts from the same SLA backlog and routing queue as a fresh
    load (an earlier run's sweeps breached and assigned some)."""
    progress("  rewinding SLA deadlines and the routing queue to the loaded state ...")
    with psycopg.connect(uri, autocommit=True) as conn:
        # Resolved tickets older than the 72 h window are what a live sweep closed long ago.
        conn.execute("""UPDATE tickets SET status = 'closed', closed_at = resolved_at + interval '72 hours'
                        WHERE status = 'resolved' AND resolved_at < now() - interval '72 hours'""")
        # An earlier run's events were delivered (its API measurements publish nothing inline).
        conn.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
        # What an earlier run's sweeps back-filled goes back to the queue, so the catch-up has it to do again.
        conn.execute("""UPDATE tickets SET assignee_id = NULL, status = 'new'
                        WHERE status = 'assigned' AND id IN (SELECT ticket_id FROM assignments WHERE reason = 'backfill')""")
        conn.execute(f"""
            UPDATE sla_targets s SET due_at = {DEADLINE_SQL}, warn_at = {DEADLINE_SQL} - interval '30 minutes',
                   warned_at = NULL, breached_at = NULL, recompute_from = NULL
            FROM tickets t
            WHERE t.id = s.ticket_id AND s.state IN ('running', 'paused')""")
        # The rewind rewrote every open clock: vacuum and re-analyze, as after a fresh load, so the
        # sweep is not measured against the dead rows and stale statistics this left behind.
        conn.execute("VACUUM ANALYZE tickets, sla_targets, outbox, agents")

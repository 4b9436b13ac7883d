"""The physical-limit reference: the same rows our commands write, as one plain PostgreSQL
transaction through a direct driver (psycopg, prepared statements, one connection). This is what
PostgreSQL itself can do on this machine; our overhead is measured against it."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Callable

import psycopg

CREATE = [
    ("""INSERT INTO customers (email, name) VALUES (%(email)s, %(name)s)
        ON CONFLICT (email) DO UPDATE SET updated_at = customers.updated_at RETURNING id""", "customer"),
    ("""INSERT INTO tickets (id, subject, channel, requester_id, team_id, message_count, created_at, updated_at,
                             last_customer_message_at)
        VALUES (%(ticket_id)s, %(subject)s, 'web', %(customer)s, %(team_id)s, 1, %(now)s, %(now)s, %(now)s)""", None),
    ("""INSERT INTO ticket_messages (ticket_id, author_type, author_customer_id, visibility, channel, body, created_at)
        VALUES (%(ticket_id)s, 'customer', %(customer)s, 'public', 'web', %(body)s, %(now)s)""", None),
    ("""INSERT INTO sla_targets (ticket_id, kind, target_seconds, business, started_at, due_at, warn_at, updated_at)
        VALUES (%(ticket_id)s, 'first_response', 14400, false, %(now)s, %(now)s + interval '4 hours',
                %(now)s + interval '210 minutes', %(now)s)""", None),
    ("""INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, to_status, occurred_at)
        VALUES (gen_random_uuid(), %(ticket_id)s, 'ticket.created', 'customer', 'new', %(now)s)""", None),
    ("""INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
        VALUES (gen_random_uuid(), 'ticket.created', %(ticket_id)s, %(payload)s, %(now)s)""", None),
]

REPLY = [
    ("""INSERT INTO ticket_messages (ticket_id, author_type, author_agent_id, visibility, channel, body, created_at)
        VALUES (%(ticket_id)s, 'agent', %(agent_id)s, 'public', 'api', %(body)s, %(now)s)""", None),
    ("""UPDATE tickets SET message_count = message_count + 1, last_agent_message_at = %(now)s,
               first_response_at = coalesce(first_response_at, %(now)s), updated_at = %(now)s, version = version + 1
        WHERE id = %(ticket_id)s""", None),
    ("""UPDATE sla_targets SET state = 'met', met_at = %(now)s, updated_at = %(now)s
        WHERE ticket_id = %(ticket_id)s AND kind = 'first_response' AND state = 'running'""", None),
    ("""INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, occurred_at)
        VALUES (gen_random_uuid(), %(ticket_id)s, 'ticket.replied', 'agent', %(now)s)""", None),
    ("""INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
        VALUES (gen_random_uuid(), 'ticket.replied', %(ticket_id)s, %(payload)s, %(now)s)""", None),
]

STATUS = [
    ("""UPDATE tickets SET status = %(to)s, updated_at = %(now)s, version = version + 1
        WHERE id = %(ticket_id)s AND status = %(from)s RETURNING id""", "changed"),
    ("""INSERT INTO ticket_audit (event_id, ticket_id, event_type, actor_type, from_status, to_status, occurred_at)
        VALUES (gen_random_uuid(), %(ticket_id)s, 'ticket.status_changed', 'agent', %(from)s, %(to)s, %(now)s)""", None),
    ("""INSERT INTO outbox (id, event_type, ticket_id, payload, occurred_at)
        VALUES (gen_random_uuid(), 'ticket.status_changed', %(ticket_id)s, %(payload)s, %(now)s)""", None),
]


class RawPostgres:
    """One connection, one transaction per operation, statements prepared by the driver."""

    def __init__(self, uri: str) -> None:
        self.conn = psycopg.connect(uri, prepare_threshold=0)

    def close(self) -> None:
        self.conn.close()

    def _run(self, statements: list[tuple[str, str | None]], params: dict) -> dict:
        with self.conn.transaction():
            for sql, capture in statements:
                row = self.conn.execute(sql, params).fetchone() if capture else (self.conn.execute(sql, params) and None)
                if capture:
                    params[capture] = row[0] if row else None
        return params

    def create_ticket(self, i: int, team_id: str) -> uuid.UUID:
        params = {"ticket_id": uuid.uuid4(), "email": f"raw{i % 5000}@example.net", "name": "Raw", "subject": f"Raw {i}",
                  "body": "The printer is on fire.", "team_id": team_id, "now": datetime.now(timezone.utc),
                  "payload": json.dumps({"subject": f"Raw {i}"})}
        return self._run(CREATE, params)["ticket_id"]

    def agent_reply(self, ticket_id: uuid.UUID, agent_id: str) -> None:
        self._run(REPLY, {"ticket_id": ticket_id, "agent_id": agent_id, "body": "On it.",
                          "now": datetime.now(timezone.utc), "payload": "{}"})

    def change_status(self, ticket_id: uuid.UUID, from_status: str, to_status: str) -> None:
        self._run(STATUS, {"ticket_id": ticket_id, "from": from_status, "to": to_status,
                           "now": datetime.now(timezone.utc), "payload": "{}"})


OpFactory = Callable[[int], None]

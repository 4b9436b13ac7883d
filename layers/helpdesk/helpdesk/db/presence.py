"""SQL for presence on the ticket page (helpdesk.tickets.presence): who is viewing or replying.

HEARTBEAT records the caller's activity on a ticket and answers who else is there, in one call; rows
older than the presence window are removed for this ticket as it goes (so a ticket's rows stay few).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import Statement


class HeartbeatParams(TypedDict):
    id: Any                           # the ticket by id, or
    number: int | None                # by number (TKT-n)
    agent_id: Any
    activity: str                     # viewing | replying
    now: datetime
    since: datetime                   # heartbeats older than this have expired


class HeartbeatRow(TypedDict):
    ticket_id: str
    status: str
    merged_into_id: str | None
    others: list[dict[str, Any]]      # agent_id, name, activity, seen_at of the other agents there


class LeaveParams(TypedDict):
    id: Any
    number: int | None
    agent_id: Any


class NoRow(TypedDict):
    pass


HEARTBEAT = Statement("""
WITH ticket AS (
    SELECT id, status, merged_into_id FROM tickets
    WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint)
),
expired AS (
    DELETE FROM ticket_presence p USING ticket t
    WHERE p.ticket_id = t.id AND p.seen_at < :since::timestamptz AND p.agent_id <> :agent_id::uuid
),
mine AS (
    INSERT INTO ticket_presence (ticket_id, agent_id, activity, seen_at)
    SELECT t.id, :agent_id::uuid, :activity, :now::timestamptz FROM ticket t WHERE t.status <> 'merged'
    ON CONFLICT (ticket_id, agent_id) DO UPDATE SET activity = EXCLUDED.activity, seen_at = EXCLUDED.seen_at
)
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('agent_id', a.id, 'name', coalesce(a.name, a.email),
                                                     'activity', p.activity, 'seen_at', p.seen_at)
                                  ORDER BY p.activity, coalesce(a.name, a.email)), '[]'::jsonb)
        FROM ticket_presence p JOIN agents a ON a.id = p.agent_id
        WHERE p.ticket_id = t.id AND p.agent_id <> :agent_id::uuid AND p.seen_at >= :since::timestamptz) AS others
FROM ticket t
""", params=HeartbeatParams, row=HeartbeatRow)

LEAVE = Statement("""
DELETE FROM ticket_presence p USING tickets t
WHERE p.ticket_id = t.id AND p.agent_id = :agent_id::uuid
  AND ((:id::uuid IS NOT NULL AND t.id = :id::uuid) OR (:number::bigint IS NOT NULL AND t.number = :number::bigint))
""", params=LeaveParams, row=NoRow)

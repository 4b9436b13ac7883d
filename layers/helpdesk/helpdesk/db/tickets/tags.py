"""Changing a ticket's tags (TicketCommands.change_tags): one statement writes the tags, the audit row
and the outbox event `ticket.tags_changed`, or nothing when the tags would not change. Tags never
touch the SLA clocks (policies do not match on tags), so there is no SLA step and no pending clock."""
from __future__ import annotations

from typing import Any

from helpdesk.db.statement import JsonValue, Statement
from helpdesk.db.tickets import CommandRow
from helpdesk.db.tickets.changes import Actor


class ChangeTagsParams(Actor):
    ticket_id: Any
    add: JsonValue                    # tags to add (lower case), a list
    remove: JsonValue                 # tags to remove, a list
    max_tags: int                     # a change that would leave more is refused (nothing written)


class ChangeTagsRow(CommandRow):
    current_status: str
    merged_into_id: str | None
    wanted_tags: list[str]            # the tags the change asked for (to name a refusal)


CHANGE_TAGS = Statement("""
WITH target AS (
    SELECT id, status, tags, merged_into_id FROM tickets WHERE id = :ticket_id::uuid FOR UPDATE
),
wanted AS (
    -- the current tags in their order, then the added ones, without the removed ones
    SELECT coalesce(jsonb_agg(x.tag ORDER BY x.ord), '[]'::jsonb) AS tags
    FROM (
        SELECT tag, min(ord) AS ord FROM (
            SELECT c.value AS tag, c.ordinality AS ord
            FROM target tg CROSS JOIN LATERAL jsonb_array_elements_text(tg.tags) WITH ORDINALITY c
            UNION ALL
            SELECT a.value, 1000 + a.ordinality FROM jsonb_array_elements_text(:add::jsonb) WITH ORDINALITY a
        ) both_lists
        WHERE tag NOT IN (SELECT value FROM jsonb_array_elements_text(:remove::jsonb))
        GROUP BY tag
    ) x
),
updated AS (
    UPDATE tickets t SET tags = w.tags, updated_at = :now::timestamptz, version = t.version + 1
    FROM target tg, wanted w
    WHERE t.id = tg.id AND tg.status <> 'merged' AND tg.tags <> w.tags AND jsonb_array_length(w.tags) <= :max_tags::int
    RETURNING t.*, tg.tags AS old_tags
),
events AS (
    SELECT gen_random_uuid() AS id, u.id AS ticket_id, 'ticket.tags_changed' AS event_type, :actor_type AS actor_type,
           :actor_id::uuid AS actor_id, NULL::text AS from_status, NULL::text AS to_status,
           jsonb_build_object(
               'number', u.number, 'tags', u.tags,
               'added', (SELECT coalesce(jsonb_agg(n.value), '[]'::jsonb) FROM jsonb_array_elements_text(u.tags) n
                         WHERE NOT u.old_tags ? n.value),
               'removed', (SELECT coalesce(jsonb_agg(o.value), '[]'::jsonb) FROM jsonb_array_elements_text(u.old_tags) o
                           WHERE NOT u.tags ? o.value),
               'assignee_id', u.assignee_id, 'team_id', u.team_id) AS payload
    FROM updated u
),
written AS (
    -- the event in the audit trail and the outbox (migration 1170); read in full by the final SELECT
    SELECT w.event FROM write_ticket_events((SELECT jsonb_agg(to_jsonb(e)) FROM events e), :now::timestamptz) AS w(event)
)
SELECT tg.status AS current_status, tg.merged_into_id, (SELECT tags FROM wanted) AS wanted_tags,
       (SELECT to_jsonb(u) - 'priority_rank' - 'old_tags' FROM updated u) AS ticket,
       (SELECT coalesce(jsonb_agg(w.event ORDER BY (w.event ->> 'seq')::bigint), '[]'::jsonb) FROM written w) AS events,
       '[]'::jsonb AS pending_sla
FROM target tg
""", params=ChangeTagsParams, row=ChangeTagsRow)

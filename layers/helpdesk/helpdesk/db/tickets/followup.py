"""The follow-up after a command commits: the deadlines the application computed, the events published."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from helpdesk.db.statement import JsonValue, Statement


class FinishParams(TypedDict):
    now: datetime
    deadlines: JsonValue                   # [{ticket_id, kind, due_at, warn_at, recompute_from}]
    published: JsonValue                   # outbox ids the publisher sent
    load_sla_config: bool             # also return the SLA configuration (helpdesk.sla.cache)


class KindDoc(TypedDict):
    kind: str                         # 'counts' first ({deadlines, published}), then sla_config_rows
    doc: dict[str, Any]


# Writes the deadlines (only for a clock still waiting from the same instant: a later change wins)
# and marks the published events. With :load_sla_config it also returns the SLA configuration rows,
# so a create whose follow-up runs anyway refreshes the process's copy without a call of its own.
FINISH = Statement("""
WITH deadlines AS (
    UPDATE sla_targets s SET due_at = d.due_at, warn_at = d.warn_at, recompute_from = NULL, paused_at = NULL,
           adjust_seconds = 0, updated_at = :now::timestamptz
    FROM jsonb_to_recordset(:deadlines::jsonb)
         AS d(ticket_id uuid, kind text, due_at timestamptz, warn_at timestamptz, recompute_from timestamptz)
    WHERE s.ticket_id = d.ticket_id AND s.kind = d.kind AND s.recompute_from = d.recompute_from
    RETURNING 1
),
published AS (
    UPDATE outbox SET published_at = :now::timestamptz, attempts = attempts + 1
    WHERE id IN (SELECT jsonb_array_elements_text(:published::jsonb)::uuid) AND published_at IS NULL
    RETURNING 1
)
SELECT 'counts' AS kind, jsonb_build_object('deadlines', (SELECT count(*) FROM deadlines),
                                            'published', (SELECT count(*) FROM published)) AS doc
UNION ALL
SELECT c.kind, c.doc FROM sla_config_rows c WHERE :load_sla_config::boolean
""", params=FinishParams, row=KindDoc)

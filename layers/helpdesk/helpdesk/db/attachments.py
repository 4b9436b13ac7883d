"""SQL of attachment reads (downloads)."""
from __future__ import annotations

# One attachment of one ticket (by UUID or number), in one read. The attachment is named either by
# its `attachments` row id (email attachments have rows) or by its place in a message's attachment
# list (:message_id, :position): every channel's attachments are in that list, rows or not.
# The ticket's status and merged_into_id come back too, so a merged ticket answers 410.
ATTACHMENT_OF_TICKET = """
WITH t AS (SELECT id, status, merged_into_id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint)),
by_row AS (
    SELECT a.s3_key, a.filename, a.content_type, a.size FROM t JOIN attachments a ON a.ticket_id = t.id
    WHERE :attachment_id::uuid IS NOT NULL AND a.id = :attachment_id::uuid
),
by_position AS (
    SELECT e ->> 's3_key' AS s3_key, coalesce(e ->> 'filename', 'attachment') AS filename,
           coalesce(e ->> 'content_type', 'application/octet-stream') AS content_type,
           CASE WHEN e ->> 'size' ~ '^[0-9]{1,18}$' THEN (e ->> 'size')::bigint ELSE 0 END AS size
    FROM t JOIN ticket_messages m ON m.ticket_id = t.id
    CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(m.attachments) = 'array'
                                    THEN m.attachments -> (:position::int) END AS e) x
    WHERE :message_id::uuid IS NOT NULL AND m.id = :message_id::uuid
      AND jsonb_typeof(x.e) = 'object' AND x.e ->> 's3_key' IS NOT NULL
)
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT to_jsonb(b) FROM (SELECT * FROM by_row UNION ALL SELECT * FROM by_position LIMIT 1) b) AS attachment
FROM t
"""

"""Reading a ticket and its messages."""
from __future__ import annotations

from typing import Any, TypedDict

from helpdesk.db.statement import Statement

# A page of messages must stay under the Data API's 1 MiB response (and 64 KB row) limit even for
# 4-byte characters or heavily escaped text: 100 x 2,000 chars x 4 bytes = 800 KB. The full text is
# a separate read (GET_MESSAGE); `body_truncated` says when it is needed.
MESSAGE_PREVIEW_CHARS = 2000
# GET_MESSAGE's first slice of each of a message's three texts: three at 4 bytes a character keep
# the row under 64 KB; the rest of a longer text is read with MESSAGE_TEXT_SLICE.
MESSAGE_FIRST_SLICE_CHARS = 4000
MESSAGE_TEXT_SLICE_CHARS = 15_000  # under 64 KB even at 4 bytes a character


class TicketRef(TypedDict):
    id: Any                           # by id, or
    number: int | None                # by number (TKT-n)


class GetTicketParams(TicketRef):
    include_internal: bool
    message_limit: int
    preview_chars: int                # MESSAGE_PREVIEW_CHARS


class KindDoc(TypedDict):
    kind: str                         # 'ticket' (first row, with its SLA clocks) or 'message'
    doc: dict[str, Any]


# The ticket (with its SLA clocks) and its latest messages, one row each, in one call.
GET_TICKET = Statement("""
WITH t AS (SELECT * FROM tickets WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT 'ticket' AS kind, to_jsonb(t) - 'priority_rank' || jsonb_build_object(
           'sla', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', s.kind, 'state', s.state, 'due_at', s.due_at,
                   'warn_at', s.warn_at, 'breached_at', s.breached_at, 'met_at', s.met_at, 'paused_at', s.paused_at,
                   'target_seconds', s.target_seconds, 'business', s.business) ORDER BY s.kind), '[]'::jsonb)
                   FROM sla_targets s WHERE s.ticket_id = t.id),
           -- A chat's address stays unverified until the visitor enters the code mailed to it (intake.chat).
           'chat_address_verified', CASE WHEN t.channel = 'chat' THEN (
                   SELECT (m.metadata #>> '{chat,address_verified}')::boolean FROM ticket_messages m
                   WHERE m.inbound_message_id = 'chat:' || t.channel_thread_id || ':0') END,
           -- the customer's rating of the latest resolve (helpdesk.tickets.satisfaction), null when never offered
           'satisfaction', (SELECT jsonb_build_object('rating', s.rating, 'comment', s.comment, 'rated_at', s.rated_at,
                   'offered_at', s.offered_at) FROM ticket_satisfaction s WHERE s.ticket_id = t.id
                   ORDER BY s.offered_at DESC, s.seq DESC LIMIT 1)) AS doc
FROM t
UNION ALL
(SELECT 'message', message_preview(m, :preview_chars::int)
 FROM t JOIN ticket_messages m ON m.ticket_id = t.id
 WHERE :include_internal OR m.visibility = 'public'
 ORDER BY m.position DESC LIMIT :message_limit)
""", params=GetTicketParams, row=KindDoc)


class ListMessagesParams(TypedDict):
    ticket_id: Any
    include_internal: bool
    before: int | None                # a message position: the page before it
    limit: int
    preview_chars: int


class Doc(TypedDict):
    doc: dict[str, Any]


LIST_MESSAGES = Statement("""
SELECT message_preview(m, :preview_chars::int) AS doc
FROM ticket_messages m
WHERE m.ticket_id = :ticket_id::uuid AND (:include_internal OR m.visibility = 'public')
  AND (:before::bigint IS NULL OR m.position < :before::bigint)
ORDER BY m.position DESC LIMIT :limit
""", params=ListMessagesParams, row=Doc)


class GetMessageParams(TicketRef):
    message_id: Any
    include_internal: bool
    first_slice_chars: int            # MESSAGE_FIRST_SLICE_CHARS


class GetMessageRow(TypedDict):
    ticket_id: str
    status: str
    merged_into_id: str | None
    message: dict[str, Any] | None


# One message in full (TicketCommands.get_message): its fields, the length of each of its three texts
# and their first slices, in one call.
GET_MESSAGE = Statement("""
WITH t AS (SELECT id, status, merged_into_id FROM tickets
           WHERE (:id::uuid IS NOT NULL AND id = :id::uuid) OR (:number::bigint IS NOT NULL AND number = :number::bigint))
SELECT t.id AS ticket_id, t.status, t.merged_into_id,
       (SELECT jsonb_build_object(
            'id', m.id, 'position', m.position, 'ticket_id', m.ticket_id, 'author_type', m.author_type,
            'author_customer_id', m.author_customer_id, 'author_agent_id', m.author_agent_id,
            'visibility', m.visibility, 'channel', m.channel, 'attachments', m.attachments,
            'inbound_message_id', m.inbound_message_id, 'created_at', m.created_at,
            'forwarded', m.metadata -> 'forwarded',
            'body_chars', length(m.body), 'body_full_chars', length(m.body_full), 'body_html_chars', length(m.body_html),
            'body', left(m.body, :first_slice_chars::int), 'body_full', left(m.body_full, :first_slice_chars::int),
            'body_html', left(m.body_html, :first_slice_chars::int))
        FROM ticket_messages m
        WHERE m.id = :message_id::uuid AND m.ticket_id = t.id AND (:include_internal OR m.visibility = 'public')) AS message
FROM t
""", params=GetMessageParams, row=GetMessageRow)


class TextSliceParams(TypedDict):
    message_id: Any
    text: str                         # body | body_full | body_html
    start: int                        # 1-based, like substr
    length: int


class TextSliceRow(TypedDict):
    piece: str | None


# A slice of one of a message's texts.
MESSAGE_TEXT_SLICE = Statement("""
SELECT substr(CASE :text::text WHEN 'body' THEN m.body WHEN 'body_full' THEN m.body_full ELSE m.body_html END,
              :start::int, :length::int) AS piece  -- integers arrive as bigint; substr takes int
FROM ticket_messages m WHERE m.id = :message_id::uuid
""", params=TextSliceParams, row=TextSliceRow)

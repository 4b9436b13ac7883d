"""SQL for scripts/smoke.py: read-only statements that check, on the database a stage really uses,
the Data API behaviours the app relies on, and find what the smoke run's own actions produced.
Nothing here writes."""
from __future__ import annotations

# The largest page the app asks for: GET /tickets/{ref}?messages=100 and the portal's view read 100
# messages, each cut to MESSAGE_PREVIEW_CHARS (helpdesk.db.tickets.reads sized that so a page of 4-byte
# characters stays under the Data API's 1 MiB response). The check asks for exactly that worst case
# (:preview_chars and :messages: MESSAGE_PREVIEW_CHARS and LARGEST_PAGE_MESSAGES).
LARGEST_PAGE_MESSAGES = 100

# Timestamps: a parameter comes back as the same instant (to the microsecond), the session's zone
# does not leak into text or jsonb renderings, and the server knows the IANA zones schedules use.
TIMESTAMPS = """
SELECT :at::timestamptz AS at,
       extract(epoch FROM :at::timestamptz)::float8 AS epoch,
       (:at::timestamptz AT TIME ZONE 'America/New_York')::text AS new_york_wall,
       to_jsonb(:at::timestamptz) #>> '{}' AS in_jsonb,
       :offset_text::timestamptz AS from_offset_text,
       current_setting('TimeZone') AS session_time_zone
"""

# The jsonb operators and functions the app's statements use (->>, ->, ?, -, ||, @>,
# jsonb_array_elements_text for list parameters), on text with non-ASCII characters and quotes.
JSONB_OPERATORS = """
SELECT :doc::jsonb ->> 'name' AS name,
       (:doc::jsonb -> 'tags') ? 'vip' AS tagged_vip,
       :doc::jsonb ? 'missing' AS has_missing,
       (:doc::jsonb - 'secret') || jsonb_build_object('checked', true) AS reshaped,
       :doc::jsonb @> '{"tags": ["vip"]}'::jsonb AS contains_vip,
       jsonb_typeof(:doc::jsonb -> 'count') AS count_type,
       (SELECT string_agg(id, ',' ORDER BY id) FROM jsonb_array_elements_text(:ids::jsonb) AS e(id)) AS ids
"""

LARGEST_PAGE = """
SELECT jsonb_build_object('id', gen_random_uuid(), 'position', g, 'author_type', 'customer', 'visibility', 'public',
                          'channel', 'email', 'body', repeat(:char, :preview_chars::int), 'body_truncated', true,
                          'attachments', '[]'::jsonb, 'created_at', now()) AS doc
FROM generate_series(1, :messages::int) AS g
"""

# The ticket a smoke mail opened (its subject carries the run's marker).
TICKET_BY_SUBJECT_MARKER = """
SELECT id, number, channel, subject FROM tickets WHERE strpos(subject, :marker) > 0 ORDER BY created_at LIMIT 1
"""

# What outbound mail made of an agent's reply (state 'sent' once SES accepted it).
# The acknowledgement of a web-form ticket (it carries the portal link), by the ticket's number.
ACK_OF_TICKET = """
SELECT o.state, o.ses_message_id, o.recipient, o.last_error FROM email_outbound o JOIN tickets t ON t.id = o.ticket_id
WHERE t.number = :number AND o.kind = 'ack'
"""

OUTBOUND_OF_MESSAGE = """
SELECT state, ses_message_id, recipient, last_error FROM email_outbound WHERE ticket_message_id = :message_id::uuid
"""

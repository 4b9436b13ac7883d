"""SQL of outbound mail beyond the send claim (helpdesk.db.email): the files of the message sent."""
from __future__ import annotations

# The message's attachment list (every channel writes it: the web form, email intake, agents),
# read as JSON text so a 50-entry list never meets the Data API's typed-array limits.
MESSAGE_ATTACHMENTS = """
SELECT CASE WHEN jsonb_typeof(m.attachments) = 'array' THEN m.attachments ELSE '[]'::jsonb END AS attachments
FROM ticket_messages m WHERE m.id = :message_id::uuid
"""

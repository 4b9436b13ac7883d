"""SQL of the push consumer (helpdesk.push.relay)."""
from __future__ import annotations

from typing import Literal, TypedDict

from helpdesk.db.statement import JsonValue, Statement


class RecipientsParams(TypedDict):
    agent_ids: JsonValue   # JSON list of agent uuids
    ticket_ids: JsonValue  # JSON list of ticket uuids


class RecipientsRow(TypedDict):
    kind: Literal["agent", "chat"]
    id: str   # the agent's or the ticket's id
    key: str  # the agent's Cognito sub, or the chat ticket's session id


# For one batch of events, in one call: the Cognito sub of each named agent (agents never signed in
# have none and hear nothing on a personal channel) and the chat session of each named chat ticket.
RECIPIENTS = Statement("""
SELECT 'agent' AS kind, a.id::text AS id, a.identity_sub AS key
FROM agents a
WHERE a.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:agent_ids::jsonb))
  AND a.identity_sub IS NOT NULL
UNION ALL
SELECT 'chat', t.id::text, t.channel_thread_id
FROM tickets t
WHERE t.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:ticket_ids::jsonb))
  AND t.channel = 'chat' AND t.channel_thread_id IS NOT NULL
""", params=RecipientsParams, row=RecipientsRow)

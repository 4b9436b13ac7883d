"""SQL of the push consumer (helpdesk.push.relay)."""

# For one batch of events, in one call: the Cognito sub of each named agent (agents never signed in
# have none and hear nothing on a personal channel) and the chat session of each named chat ticket.
RECIPIENTS = """
SELECT 'agent' AS kind, a.id::text AS id, a.identity_sub AS key
FROM agents a
WHERE a.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:agent_ids::jsonb))
  AND a.identity_sub IS NOT NULL
UNION ALL
SELECT 'chat', t.id::text, t.channel_thread_id
FROM tickets t
WHERE t.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:ticket_ids::jsonb))
  AND t.channel = 'chat' AND t.channel_thread_id IS NOT NULL
"""

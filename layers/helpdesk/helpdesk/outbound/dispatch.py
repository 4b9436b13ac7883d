"""Which channel answers an outbound event: the rule the outbound consumer follows.

- `ticket.created` of an email ticket: its one acknowledgement, by mail (the email sender decides
  whether one is due: email tickets only, never to automatic mail).
- `ticket.status_changed` to resolved: the solved mail with the satisfaction survey (email, web form
  and API tickets; the sender checks the channel); any other status change sends nothing.
- `customer.requests_link`: the link to all of a customer's requests, by mail to their address.
- `outbound.requested` on a Slack ticket: posted into the ticket's Slack thread.
- on a chat ticket: nothing to send, the widget shows the reply.
- anything else (email, web form, API tickets): mailed to the requester.

Any other event type is not outbound's: the outbound queue's subscription lets only EVENT_TYPES
through (infra/messaging.py and local/aws.py read it from here), and one that arrives anyway is
skipped, never mailed. The senders are passed in, so the rule is tested without SES or Slack.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol


class _Sends(Protocol):
    def send(self, event: Any) -> Any: ...


# The event types outbound acts on, in the order of the rule above.
EVENT_TYPES = ("ticket.created", "ticket.status_changed", "customer.requests_link", "outbound.requested")


def deliver(event: Any, *, email: Callable[[], _Sends], slack: Callable[[Any], Any]) -> dict[str, Any]:
    """Send `event` through its channel; returns what happened (for the log and the batch result)."""
    if event.type not in EVENT_TYPES:
        return {"kind": "not_outbound", "action": "skipped",
                "reason": f"outbound acts on {', '.join(EVENT_TYPES)}, not {event.type}"}
    if event.type == "ticket.created":
        return {"kind": "acknowledgement", **email().send(event).__dict__}
    if event.type == "customer.requests_link":
        return {"kind": "requests_link", **email().send(event).__dict__}
    if event.type == "ticket.status_changed":
        if event.payload.to_status != "resolved":
            return {"kind": "status", "action": "skipped", "reason": f"a change to {event.payload.to_status} sends nothing"}
        return {"kind": "solved", **email().send(event).__dict__}
    channel = getattr(event.payload, "channel", None)
    if channel == "slack":
        return {"kind": "reply", "channel": "slack", "result": str(slack(event))}
    if channel == "chat":
        return {"kind": "reply", "channel": "chat", "action": "skipped", "reason": "chat replies are shown in the widget"}
    return {"kind": "reply", **email().send(event).__dict__}

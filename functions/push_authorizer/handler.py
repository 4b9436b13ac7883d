"""The Event API's Lambda authorizer for customers (namespaces chat and portal): a chat visitor's
session token opens only /chat/<their session>, a portal link only /portal/<its ticket>
(helpdesk.push.access). AppSync calls it on connect and on each subscribe; the answer is cached
for the token (ttlOverride)."""
from __future__ import annotations

from typing import Any

from helpdesk import errors, wiring
from helpdesk.config import get_settings
from helpdesk.push.access import authorize_customer

CACHE_SECONDS = 300


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context_doc = event.get("requestContext") or {}
    token = str(event.get("authorizationToken") or "")
    operation = str(context_doc.get("operation") or "").removeprefix("EVENT_")
    now = wiring.clock().now()
    keys = get_settings().signing_keys
    try:
        if operation == "CONNECT":  # no channel yet: the token must be one of ours
            authorize_any(token, keys, now)
        else:
            authorize_customer(token, operation, str(context_doc.get("channel") or ""), keys, now)
    except errors.HelpdeskError:
        return {"isAuthorized": False, "ttlOverride": 0}
    return {"isAuthorized": True, "ttlOverride": CACHE_SECONDS}


def authorize_any(token: str, keys: Any, now: Any) -> None:
    from helpdesk.auth.portal import verify_portal_token
    from helpdesk.intake.chat import verify_session_token

    try:
        verify_session_token(token, keys, now)
    except errors.HelpdeskError:
        verify_portal_token(token, keys, now)

"""The Event API's Lambda authorizer for customers (namespaces chat and portal): a chat visitor's
session token opens only /chat/<their session>, a portal link only /portal/<its ticket>
(helpdesk.push.access). AppSync calls it on connect and on each subscribe. Nothing is cached
(ttlOverride 0): the answer depends on the channel, and a cache keyed by the token alone could let
a connect's "yes" answer a subscription to another channel. A page connects and subscribes once:
two calls per page view.

The request and answer are AppSync Events' Lambda authorization contract
(https://docs.aws.amazon.com/appsync/latest/eventapi/configure-event-api-auth.html, "AWS_LAMBDA
authorization"): {"authorizationToken", "requestContext": {"apiId", "accountId", "requestId",
"operation": EVENT_CONNECT | EVENT_SUBSCRIBE | EVENT_PUBLISH, "channelNamespaceName", "channel"},
"requestHeaders"} in; {"isAuthorized", "ttlOverride"} out (the optional "handlerContext" feeds
namespace handlers, and the customers' namespaces have none). A connect names no channel.
tests/unit/push/fixtures/ holds the documented example request."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer

from helpdesk import errors, wiring
from helpdesk.config import get_settings
from helpdesk.push.access import authorize_customer, customer_channel


tracer = Tracer(service="push_authorizer")


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context_doc = event.get("requestContext") or {}
    token = str(event.get("authorizationToken") or "")
    operation = str(context_doc.get("operation") or "").removeprefix("EVENT_")
    now = wiring.clock().now()
    keys = get_settings().signing_keys
    try:
        if operation == "CONNECT":  # no channel yet: the token must be one of ours
            customer_channel(token, keys, now)
        else:
            authorize_customer(token, operation, str(context_doc.get("channel") or ""), keys, now)
    except errors.HelpdeskError:
        return {"isAuthorized": False, "ttlOverride": 0}
    return {"isAuthorized": True, "ttlOverride": 0}


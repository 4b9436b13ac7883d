"""Who may subscribe and publish where: the rules of the push channels (helpdesk.push.channels).

- Agents connect with their Cognito ID token (the same user pool as the API). Any member of a
  help desk group may subscribe to /tickets/* and /teams/*; /agents/<sub> only with their own sub.
  They publish nothing but presence, and only on /tickets/*: the message is rebuilt from their
  identity (presence_message), so nobody can appear as someone else.
- Customers connect with a signed token (helpdesk.auth.signing): a chat session token subscribes
  to /chat/<that session> only, a portal link token to /portal/<that ticket> only. They publish nothing.
- The push consumer publishes with IAM (in AWS only the push function's role may).

In AWS the agent rules run as the AppSync namespace handlers in infra/appsync/ (a test runs those
handlers against the cases below) and the customer rules in the push authorizer function; the local
stand-in (local/events.py) calls these functions."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from helpdesk import errors
from helpdesk.auth import parse_claims, role_of, signing
from helpdesk.auth.portal import verify_portal_token
from helpdesk.intake.chat import verify_session_token
from helpdesk.push.channels import AGENT_NAMESPACES, CUSTOMER_NAMESPACES, Channel, chat, parse_channel, portal

SUBSCRIBE = "SUBSCRIBE"
PUBLISH = "PUBLISH"
PRESENCE_STATES = ("viewing", "replying", "left")
# A tab re-announces itself this often; others forget it after PRESENCE_TTL_SECONDS without news,
# so a closed tab (or a crashed browser) disappears by itself.
PRESENCE_HEARTBEAT_SECONDS = 15
PRESENCE_TTL_SECONDS = 40
# The shape of every customer token, as helpdesk.auth.signing.sign_id makes them (chat session
# tokens, portal links): <key id>.<expires>.<16-byte id>.<16-byte MAC>, base64url. AppSync checks a
# customer's Authorization against it before it calls the push authorizer (the authorizer's
# identityValidationExpression, infra/push.py), so junk never costs an invocation.
CUSTOMER_TOKEN_PATTERN = r"^[a-z0-9]{1,8}\.[1-9][0-9]{0,11}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$"


def authorize_agent(claims: Mapping[str, Any] | None, operation: str, path: str) -> Channel:
    """The channel if an agent with these token claims may `operation` it; Forbidden saying why not."""
    try:
        who = parse_claims(claims)
    except errors.HelpdeskError as exc:
        raise errors.Forbidden(f"push: {exc.detail}") from exc
    if role_of(who.groups) is None:
        raise errors.Forbidden(f"push: {who.email} is in no help desk group")
    channel = parse_channel(path)
    if channel.namespace not in AGENT_NAMESPACES:
        raise errors.Forbidden(f"push: agents use /tickets, /teams and /agents channels, not /{channel.namespace}")
    if channel.namespace == "agents" and channel.key != who.sub:
        raise errors.Forbidden("push: an agent may subscribe only to their own /agents channel")
    if operation == PUBLISH and channel.namespace != "tickets":
        raise errors.Forbidden("push: agents publish presence on /tickets channels only")
    if operation not in (SUBSCRIBE, PUBLISH):
        raise errors.ValidationFailed(f"push: operation must be {SUBSCRIBE} or {PUBLISH}, got {operation!r}")
    return channel


def presence_message(claims: Mapping[str, Any], raw: str | Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """An agent's published presence, rebuilt from their identity: {"kind": "presence", "state",
    "agent": {sub, email, name}, "at", "ttl_seconds"}; ValidationFailed for anything else."""
    try:
        doc = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError) as exc:
        raise errors.ValidationFailed(f"presence: event is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("kind") != "presence" or doc.get("state") not in PRESENCE_STATES:
        raise errors.ValidationFailed(
            f"presence: agents publish only {{\"kind\": \"presence\", \"state\": one of {', '.join(PRESENCE_STATES)}}}")
    who = parse_claims(claims)
    name = str(claims.get("name") or who.email.split("@")[0])[:80]
    return {"kind": "presence", "state": doc["state"], "agent": {"sub": who.sub, "email": who.email, "name": name},
            "at": now.isoformat(), "ttl_seconds": PRESENCE_TTL_SECONDS}


def customer_channel(token: str, keyring: signing.Keyring, now: datetime) -> Channel:
    """The one channel a customer's signed token opens: /chat/<session> for a chat session token,
    /portal/<ticket> for a portal link (each MAC is bound to its purpose, so neither passes as the other)."""
    try:
        return chat(verify_session_token(token, keyring, now))
    except signing.LinkRefused:
        return portal(verify_portal_token(token, keyring, now))


def authorize_customer(token: str, operation: str, path: str, keyring: signing.Keyring, now: datetime) -> Channel:
    """The channel a customer's signed token lets them subscribe to; Forbidden (or the token's own
    LinkRefused/LinkExpired) otherwise. Used by the push authorizer (AWS_LAMBDA auth)."""
    channel = parse_channel(path)
    if channel.namespace not in CUSTOMER_NAMESPACES:
        raise errors.Forbidden(f"push: customers use /chat and /portal channels, not /{channel.namespace}")
    if operation != SUBSCRIBE:
        raise errors.Forbidden("push: customers subscribe only; their messages go through the API")
    allowed = customer_channel(token, keyring, now)
    if allowed != channel:
        raise errors.Forbidden(f"push: this token is for {allowed.path}, not {channel.path}")
    return channel

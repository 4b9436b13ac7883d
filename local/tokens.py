"""Bearer tokens for the local stack: HMAC-SHA256 signed, JWT-shaped (header.payload.signature).

They stand in for Cognito ID tokens. The HTTP front verifies them and hands the handler the same
claims API Gateway's Cognito authorizer would: {"sub", "email", "cognito:groups"}.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

ISSUER = "helpdesk-local"
DEFAULT_LIFETIME_SECONDS = 30 * 24 * 3600


class InvalidToken(Exception):
    """The token is malformed, not signed by this stack's key, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], key: str, *, now: float | None = None,
         lifetime: int = DEFAULT_LIFETIME_SECONDS) -> str:
    issued = int(time.time() if now is None else now)
    body = {"iss": ISSUER, "token_use": "id", "iat": issued, "exp": issued + lifetime, **claims}
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{_b64(signature)}"


def verify(token: str, key: str, *, now: float | None = None) -> dict[str, Any]:
    """The token's claims, or InvalidToken saying why not."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT (expected header.payload.signature)")
    head, payload, signature = parts
    expected = hmac.new(key.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        claims = json.loads(_unb64(payload))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidToken("token is not valid base64url JSON") from exc
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("bad signature (issued by another local stack? get a new one from .local/tokens.json)")
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        raise InvalidToken("wrong issuer")
    if float(claims.get("exp", 0)) < (time.time() if now is None else now):
        raise InvalidToken("token expired")
    return claims


def agent_claims(agent_id: str, email: str, role: str) -> dict[str, str]:
    """The claims of the interfaces contract: Cognito's `cognito:groups` carries the role."""
    return {"sub": str(agent_id), "email": email, "email_verified": "true", "cognito:groups": role}


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """What API Gateway puts in requestContext.authorizer.claims: string values only."""
    return {k: str(v) for k, v in claims.items()}

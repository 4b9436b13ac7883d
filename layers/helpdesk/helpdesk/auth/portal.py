"""Signed customer-portal links: no account, the link is the credential.

token = base64url(ticket uuid bytes) "." base64url(HMAC-SHA256(key, "portal:" + ticket uuid)[:16]).
Stateless (nothing stored), unguessable, and bound to one ticket; rotate the signing key to revoke all."""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from helpdesk import errors


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(ticket_id: uuid.UUID, key: str) -> bytes:
    return hmac.new(key.encode(), b"portal:" + str(ticket_id).encode(), hashlib.sha256).digest()[:16]


def sign_portal_token(ticket_id: uuid.UUID | str, key: str) -> str:
    tid = ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id))
    return f"{_b64(tid.bytes)}.{_b64(_mac(tid, key))}"


def verify_portal_token(token: str, key: str) -> uuid.UUID:
    """The ticket id the token names; NotFound for anything forged, damaged or unknown (no oracle)."""
    try:
        id_part, mac_part = token.split(".", 1)
        tid = uuid.UUID(bytes=_unb64(id_part))
        given = _unb64(mac_part)
    except (ValueError, TypeError):
        raise errors.NotFound("this ticket link is not valid") from None
    # Only the canonical encoding is accepted (base64 padding bits could otherwise vary).
    if _b64(tid.bytes) != id_part or not hmac.compare_digest(mac_part, _b64(_mac(tid, key))) or len(given) != 16:
        raise errors.NotFound("this ticket link is not valid")
    return tid


def portal_url(base_url: str, ticket_id: uuid.UUID | str, key: str) -> str:
    return f"{base_url.rstrip('/')}/portal.html#{sign_portal_token(ticket_id, key)}"

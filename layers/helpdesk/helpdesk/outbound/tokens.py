"""Signed reply addresses: support+<ticket token>.<hmac>@domain.

The token is the ticket UUID in base32 (26 characters, lower case: local parts are often
lower-cased by mail systems) and a truncated HMAC-SHA256 over it with settings.signing_key.
A reply to this address names its ticket without trusting any header the sender controls;
a forged or mangled token is ignored (compared in constant time).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid

LOCAL_PART = "support"
MAC_CHARS = 16  # 80 bits of base32
_TOKEN = re.compile(r"^(?P<local>[^+@\s]+)\+(?P<ticket>[a-z2-7]{26})\.(?P<mac>[a-z2-7]{%d})@(?P<domain>[^@\s]+)$" % MAC_CHARS)


def _mac(ticket_token: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"reply:{ticket_token}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_CHARS]


def _ticket_token(ticket_id: uuid.UUID) -> str:
    return base64.b32encode(ticket_id.bytes).decode().lower().rstrip("=")


def reply_address(ticket_id: uuid.UUID | str, domain: str, key: str, local_part: str = LOCAL_PART) -> str:
    if not key:
        raise ValueError("a signing key is required for reply addresses (HELPDESK_SIGNING_KEY)")
    ticket_id = ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id))
    token = _ticket_token(ticket_id)
    return f"{local_part}+{token}.{_mac(token, key)}@{domain.lower()}"


def parse_reply_address(address: str, key: str) -> uuid.UUID | None:
    """The ticket a signed reply address names, or None (not a token address, or a bad signature)."""
    if not address or not key:
        return None
    match = _TOKEN.match(address.strip().strip("<>").lower())
    if not match:
        return None
    token = match.group("ticket")
    if not hmac.compare_digest(_mac(token, key), match.group("mac")):
        return None
    try:
        return uuid.UUID(bytes=base64.b32decode(token.upper() + "======"))
    except (ValueError, TypeError):
        return None

"""Signed reply addresses: support+<ticket token>.<key id>.<mac>@domain.

The ticket token is the ticket UUID in base32 (26 characters, lower case: local parts are often
lower-cased by mail systems), the key id names the signing key (helpdesk.auth.signing keyring) and
the MAC is 80 bits of base32. A reply to this address names its ticket without trusting any header
the sender controls; a forged, mangled or retired-key token is ignored (compared in constant time)
and the mail threads by its headers and subject instead, so nothing is lost.

No expiry, by design: a customer may answer a months-old mail, and an address that stopped working
would split the conversation. The key id is what makes rotation safe: new mail is signed with the
current key while older keys stay in the keyring for as long as replies to them should thread by
address (retiring a key is the cutoff). With the longest key id (8) the local part is 60 characters,
inside RFC 5321's 64. The earlier format without a key id (support+<ticket>.<mac>@) is not read:
no deployed stage ever sent it.
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid

from helpdesk.auth import signing

log = logging.getLogger(__name__)
LOCAL_PART = "support"
PURPOSE = "reply address"
MAC_CHARS = 16  # 80 bits of base32
_TOKEN = re.compile(r"^(?P<local>[^+@\s]+)\+(?P<ticket>[a-z2-7]{26})\.(?P<kid>[a-z0-9]{1,8})\.(?P<mac>[a-z2-7]{%d})"
                    r"@(?P<domain>[^@\s]+)$" % MAC_CHARS)
_MAC_BYTES = MAC_CHARS * 5 // 8


def _ticket_token(ticket_id: uuid.UUID) -> str:
    return base64.b32encode(ticket_id.bytes).decode().lower().rstrip("=")


def reply_address(ticket_id: uuid.UUID | str, domain: str, keyring: signing.Keyring, local_part: str = LOCAL_PART) -> str:
    ticket_id = ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id))
    token = _ticket_token(ticket_id)
    digest = signing.mac(PURPOSE, keyring.current, None, token, keyring)[:_MAC_BYTES]
    return f"{local_part}+{token}.{keyring.current}.{base64.b32encode(digest).decode().lower()}@{domain.lower()}"


def parse_reply_address(address: str, keyring: signing.Keyring) -> uuid.UUID | None:
    """The ticket a signed reply address names, or None (not a token address, a bad signature or a
    retired key: logged, and the mail threads by its headers instead)."""
    if not address:
        return None
    match = _TOKEN.match(address.strip().strip("<>").lower())
    if not match:
        return None
    token = match.group("ticket")
    try:
        given = base64.b32decode(match.group("mac").upper())
        signing.check(PURPOSE, match.group("kid"), None, token, given, keyring, None,
                      compare_bytes=_MAC_BYTES)
        return uuid.UUID(bytes=base64.b32decode(token.upper() + "======"))
    except signing.LinkRefused as exc:
        log.warning("reply address %s ignored: %s", address, exc.reason)
        return None
    except (ValueError, binascii.Error):
        return None

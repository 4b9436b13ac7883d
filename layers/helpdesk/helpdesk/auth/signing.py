"""The ONE place that signs and verifies the help desk's own credentials-in-a-link: the customer
portal link, the chat session token, the reply-attachment reference and the reply address.

Every signature names the key that made it (a key id) and, except the reply address, an expiry, so
the signing key can rotate while links already in customers' mailboxes keep working:

- The keyring (HELPDESK_SIGNING_KEY, or the secret HELPDESK_SIGNING_KEY_SECRET_ARN names) is either a
  plain string (one key, id "k0": what the stack's generated secret holds) or JSON
  {"current": "k1", "keys": {"k1": "<secret>", "k0": "<older secret>"}}. New links are signed with
  `current`; every key in `keys` is accepted for verification. Retiring a key (removing it from
  `keys`) revokes what it signed; docs/deploy.md has the rotation steps.
- The MAC is HMAC-SHA256 over purpose, key id, expiry and payload, so a token of one kind never
  verifies as another, and neither the key id nor the expiry can be changed without the key.
- Verification names what was wrong (LinkExpired, or LinkRefused with reason malformed, old_format,
  unknown_key, bad_signature); the API answers 410 and 403 problems with that code.

URL tokens (portal, chat, upload references) read `<key id>.<expires>.<payload>.<mac>`: key id
[a-z0-9]{1,8}, expires in Unix seconds (decimal), payload and 128-bit MAC in base64url. Tokens of
the earlier two-part format (`<payload>.<mac>`, no key id, no expiry) are refused as old_format:
they were never issued by a deployed stage (the first deploy ships this format), and accepting
them would keep a never-expiring link valid forever."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from helpdesk import errors

KEY_ID = re.compile(r"^[a-z0-9]{1,8}$")  # lower case: reply addresses carry it in a mail local part
PLAIN_KEY_ID = "k0"
MAC_BYTES = 16


class LinkRefused(errors.HelpdeskError):
    """A signed link that is not (or no longer) valid (HTTP 403). `reason` says which check failed:
    malformed, old_format, unknown_key, bad_signature (or expired, the subclass)."""

    code = "link_refused"

    def __init__(self, detail: str, reason: str, **extra: object) -> None:
        super().__init__(detail, reason=reason, **extra)
        self.reason = reason
        self.code = f"link_{reason}"


class LinkExpired(LinkRefused):
    """Signed correctly but past its expiry (HTTP 410); extra: expired_at."""

    def __init__(self, detail: str, expired_at: datetime) -> None:
        super().__init__(detail, "expired", expired_at=expired_at.isoformat())


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes] = field(repr=False)  # secrets: never in a log line or a traceback

    def __post_init__(self) -> None:
        bad = [kid for kid in self.keys if not KEY_ID.match(kid)]
        if bad:
            raise ValueError(f"signing keyring: key ids must be 1-8 characters a-z, 0-9 (got {', '.join(map(repr, bad))})")
        if self.current not in self.keys:
            raise ValueError(f"signing keyring: current key {self.current!r} is not in keys "
                             f"({', '.join(sorted(self.keys))})")
        empty = [kid for kid, key in self.keys.items() if not key]
        if empty:
            raise ValueError(f"signing keyring: key {empty[0]!r} is empty")

    @classmethod
    def single(cls, key: str, key_id: str = PLAIN_KEY_ID) -> "Keyring":
        return cls(key_id, {key_id: key.encode()})

    @classmethod
    def parse(cls, text: str) -> "Keyring":
        """A plain string (one key, id k0) or the JSON keyring {"current": id, "keys": {id: secret}}."""
        if not text.lstrip().startswith("{"):
            return cls.single(text)
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"signing keyring: not valid JSON ({exc.msg}); expected "
                             '{"current": "<key id>", "keys": {"<key id>": "<secret>", ...}} or a plain key') from None
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, dict) or not keys or not all(isinstance(v, str) for v in keys.values()) \
                or not isinstance(doc.get("current"), str):
            raise ValueError('signing keyring: expected {"current": "<key id>", "keys": {"<key id>": "<secret>", ...}} '
                             "with at least one key; got "
                             + (f"members {sorted(doc)}" if isinstance(doc, dict) else type(doc).__name__))
        return cls(doc["current"], {kid: secret.encode() for kid, secret in keys.items()})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # only the canonical encoding (padding bits could otherwise vary)
        raise ValueError("not canonical base64url")
    return data


def mac(purpose: str, key_id: str, expires: int | None, payload: str, keyring: Keyring) -> bytes:
    """HMAC-SHA256 (first MAC_BYTES) of one signed value; LinkRefused(unknown_key) for a retired key id."""
    key = keyring.keys.get(key_id)
    if key is None:
        raise LinkRefused(f"this {purpose} was signed with a key that is no longer accepted ({key_id}); "
                          "ask for a new one", "unknown_key")
    message = "\n".join((purpose, key_id, "" if expires is None else str(expires), payload)).encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:MAC_BYTES]


def check(purpose: str, key_id: str, expires: int | None, payload: str, given: bytes, keyring: Keyring,
          now: datetime | None, compare_bytes: int = MAC_BYTES) -> None:
    """Raises LinkRefused (unknown_key, bad_signature) or LinkExpired; returns when the value is good.
    The signature is checked before the expiry, so an expiry is only reported for a genuine link."""
    expected = mac(purpose, key_id, expires, payload, keyring)[:compare_bytes]
    if len(given) != compare_bytes or not hmac.compare_digest(expected, given):
        raise LinkRefused(f"this {purpose} is not valid: its signature does not match (damaged or forged)",
                          "bad_signature")
    if expires is not None:
        if now is None:
            raise ValueError("an expiring value needs the current time to be checked")
        if now.timestamp() < expires:
            return
        at = datetime.fromtimestamp(expires, timezone.utc)
        raise LinkExpired(f"this {purpose} expired at {at:%Y-%m-%d %H:%M} UTC; ask for a new one", at)


def sign_token(purpose: str, payload: bytes, keyring: Keyring, now: datetime, lifetime: timedelta) -> str:
    """A URL-safe token `<key id>.<expires>.<payload>.<mac>` valid for `lifetime` from `now`."""
    expires = int(now.timestamp() + lifetime.total_seconds())
    body = _b64(payload)
    return f"{keyring.current}.{expires}.{body}.{_b64(mac(purpose, keyring.current, expires, body, keyring))}"


def open_token(purpose: str, token: str, keyring: Keyring, now: datetime) -> bytes:
    """The payload of a token sign_token made for this purpose, or LinkRefused/LinkExpired saying why not."""
    parts = token.strip().split(".")
    if len(parts) == 2 and all(re.fullmatch(r"[A-Za-z0-9_-]+", part) for part in parts):
        raise LinkRefused(f"this {purpose} is in an older format without an expiry, which is no longer "
                          "accepted; ask for a new one", "old_format")
    malformed = LinkRefused(f"this {purpose} is damaged or incomplete (expected <key id>.<expires>.<data>.<signature>); "
                            "copy the whole link", "malformed")
    if len(parts) != 4:
        raise malformed
    key_id, expires_text, body, mac_text = parts
    if not KEY_ID.match(key_id) or not re.fullmatch(r"[1-9][0-9]{0,11}", expires_text):
        raise malformed
    try:
        payload, given = _unb64(body), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise malformed from None
    check(purpose, key_id, int(expires_text), body, given, keyring, now)
    return payload


def sign_id(purpose: str, value: uuid.UUID | str, keyring: Keyring, now: datetime, lifetime: timedelta) -> str:
    """A token naming one id (a ticket, a chat session)."""
    return sign_token(purpose, (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes,
                      keyring, now, lifetime)


def open_id(purpose: str, token: str, keyring: Keyring, now: datetime, *, names: str) -> uuid.UUID:
    """The id a sign_id token names; LinkRefused/LinkExpired saying what was wrong (`names`: "a ticket")."""
    payload = open_token(purpose, token, keyring, now)
    if len(payload) != 16:
        raise LinkRefused(f"this {purpose} does not name {names}", "malformed")
    return uuid.UUID(bytes=payload)

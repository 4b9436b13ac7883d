"""Signed links carry a key id and an expiry: the key rotates without breaking links already sent,
and a refused link says why (expired, unknown key, bad signature, damaged, old format)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.auth import signing
from helpdesk.auth.signing import Keyring, LinkExpired, LinkRefused, open_token, sign_token

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
OLD = Keyring.single("old-secret")  # a deployment's first key: a plain string is key id k0
ROTATED = Keyring.parse(json.dumps({"current": "k1", "keys": {"k1": "new-secret", "k0": "old-secret"}}))
RETIRED = Keyring.parse(json.dumps({"current": "k1", "keys": {"k1": "new-secret"}}))


def _refusal(token: str, keyring: Keyring = OLD, now: datetime = NOW, purpose: str = "portal link") -> LinkRefused:
    with pytest.raises(LinkRefused) as caught:
        open_token(purpose, token, keyring, now)
    return caught.value


def test_a_token_names_its_key_and_expiry_and_opens_until_it_expires():
    token = sign_token("portal link", b"payload", OLD, NOW, DAY)
    key_id, expires, _, _ = token.split(".")
    assert key_id == "k0" and int(expires) == int((NOW + DAY).timestamp())
    assert open_token("portal link", token, OLD, NOW + DAY - timedelta(seconds=1)) == b"payload"
    expired = _refusal(token, now=NOW + DAY)
    assert isinstance(expired, LinkExpired) and expired.code == "link_expired"
    assert expired.detail == "this portal link expired at 2026-03-03 15:00 UTC; ask for a new one"
    assert expired.extra["expired_at"] == "2026-03-03T15:00:00+00:00"


def test_rotation_keeps_old_links_working_until_the_old_key_is_retired():
    before = sign_token("portal link", b"ticket", OLD, NOW, DAY)
    after = sign_token("portal link", b"ticket", ROTATED, NOW, DAY)
    assert after.startswith("k1.")
    assert open_token("portal link", before, ROTATED, NOW) == b"ticket"
    assert open_token("portal link", after, ROTATED, NOW) == b"ticket"
    retired = _refusal(before, RETIRED)
    assert retired.code == "link_unknown_key" and "(k0)" in retired.detail
    assert open_token("portal link", after, RETIRED, NOW) == b"ticket"


def test_forged_or_altered_tokens_are_bad_signatures():
    token = sign_token("portal link", b"ticket-a", OLD, NOW, DAY)
    key_id, expires, body, mac = token.split(".")
    altered = [
        sign_token("portal link", b"ticket-a", Keyring.single("attacker"), NOW, DAY),  # same key id, other secret
        f"{key_id}.{int(expires) + 86400 * 365}.{body}.{mac}",  # a longer life
        f"{key_id}.{expires}.{base64.urlsafe_b64encode(b'ticket-b').decode().rstrip('=')}.{mac}",  # another payload
        f"{key_id}.{expires}.{body}.{mac[:-2]}",  # a shortened signature
    ]
    for forged in altered:
        assert _refusal(forged).code == "link_bad_signature", forged
    # a token made for one purpose never opens as another
    assert _refusal(sign_token("chat session", b"ticket-a", OLD, NOW, DAY)).code == "link_bad_signature"


def test_an_expired_forgery_is_a_bad_signature_not_an_expiry():
    forged = sign_token("portal link", b"x", Keyring.single("attacker"), NOW - 2 * DAY, DAY)
    assert _refusal(forged).code == "link_bad_signature"


def test_the_earlier_two_part_format_is_refused_as_old():
    tid = uuid.uuid4()
    b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
    legacy = f"{b64(tid.bytes)}.{b64(hmac.new(b'old-secret', b'portal:' + str(tid).encode(), hashlib.sha256).digest()[:16])}"
    refused = _refusal(legacy)
    assert refused.code == "link_old_format" and "older format without an expiry" in refused.detail


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "k0.123.abc.def.ghi", "K0.1900000000.YQ.YQ", "k0.-5.YQ.YQ",
                                   "k0.1900000000.Y$Q.YQ", "k0.1900000000.YR.YQ", "toolongkey.1900000000.YQ.YQ",
                                   "k0.01900000000.YQ.YQ"])
def test_damaged_tokens_are_malformed(token):
    assert _refusal(token).code == "link_malformed"


def test_keyring_settings_are_checked_with_a_clear_message():
    assert Keyring.parse("plain-secret") == Keyring("k0", {"k0": b"plain-secret"})
    for text, message in [
        ('{"current": "k2", "keys": {"k1": "s"}}', "current key 'k2' is not in keys"),
        ('{"current": "K1", "keys": {"K1": "s"}}', "key ids must be 1-8 characters a-z, 0-9"),
        ('{"current": "k1", "keys": {"k1": ""}}', "key 'k1' is empty"),
        ('{"current": "k1"}', "with at least one key"),
        ('{"current": "k1", "keys": {"k1": 5}}', "with at least one key"),
        ('{"current": "k1", ', "not valid JSON"),
    ]:
        with pytest.raises(ValueError, match=message):
            Keyring.parse(text)


def test_reply_address_style_values_have_no_expiry():
    digest = signing.mac("reply address", "k0", None, "ticket", OLD)
    signing.check("reply address", "k0", None, "ticket", digest, ROTATED, None)
    with pytest.raises(LinkRefused, match="no longer accepted"):
        signing.check("reply address", "k0", None, "ticket", digest, RETIRED, None)

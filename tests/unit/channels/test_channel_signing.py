"""Slack request signatures (Slack's documented example) and chat session tokens."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.auth import Unauthenticated
from helpdesk.auth.signing import Keyring, LinkExpired, LinkRefused
from helpdesk.intake.chat import SESSION_LIFETIME, sign_session_token, verify_session_token
from helpdesk.intake.slack import sign_request, verify_request

# https://api.slack.com/authentication/verifying-requests-from-slack (the documented example)
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
AT = datetime.fromtimestamp(int(TIMESTAMP), timezone.utc)


def test_documented_example_signature():
    assert sign_request(SECRET, TIMESTAMP, BODY) == EXPECTED
    verify_request(SECRET, TIMESTAMP, BODY, EXPECTED, AT)


@pytest.mark.parametrize("secret,ts,body,sig,now,why", [
    ("other", TIMESTAMP, BODY, EXPECTED, AT, "signature"),
    (SECRET, TIMESTAMP, BODY + "x", EXPECTED, AT, "signature"),
    (SECRET, TIMESTAMP, BODY, EXPECTED, datetime.fromtimestamp(int(TIMESTAMP) + 301, timezone.utc), "5-minute"),
    (SECRET, TIMESTAMP, BODY, EXPECTED, datetime.fromtimestamp(int(TIMESTAMP) - 301, timezone.utc), "5-minute"),
    (SECRET, None, BODY, EXPECTED, AT, "missing"),
    (SECRET, TIMESTAMP, BODY, None, AT, "missing"),
    (SECRET, "yesterday", BODY, EXPECTED, AT, "Unix time"),
    ("", TIMESTAMP, BODY, EXPECTED, AT, "not configured"),
])
def test_refusals(secret, ts, body, sig, now, why):
    with pytest.raises(Unauthenticated, match=why):
        verify_request(secret, ts, body, sig, now)


def test_window_edge_is_accepted():
    verify_request(SECRET, TIMESTAMP, BODY, EXPECTED, datetime.fromtimestamp(int(TIMESTAMP) + 300, timezone.utc))


def test_chat_tokens_round_trip_expire_and_refuse_forgeries():
    sid, keys, now = uuid.uuid4(), Keyring.single("s1"), datetime(2026, 3, 2, tzinfo=timezone.utc)
    token = sign_session_token(sid, keys, now)
    assert verify_session_token(token, keys, now) == sid
    with pytest.raises(LinkExpired):
        verify_session_token(token, keys, now + SESSION_LIFETIME)
    parts = token.split(".")
    for forged in (sign_session_token(sid, Keyring.single("s2"), now), token[:-2] + "AA", "x", parts[0], ".".join(parts[1:]),
                   ".".join(sign_session_token(uuid.uuid4(), keys, now).split(".")[:3] + parts[3:])):
        with pytest.raises(LinkRefused):
            verify_session_token(forged, keys, now)

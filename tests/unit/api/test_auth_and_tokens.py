"""Claims parsing, roles, portal tokens and view cursors: pure functions."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk import errors
from helpdesk.auth import Principal, Unauthenticated, parse_claims, role_of
from helpdesk.auth.portal import PORTAL_LINK_LIFETIME, sign_portal_token, verify_portal_token
from helpdesk.auth.signing import Keyring, LinkExpired, LinkRefused
from helpdesk.views import decode_cursor, encode_cursor, parse_statuses


@pytest.mark.parametrize("groups, role", [
    ("agent", "agent"), ("agent,lead", "lead"), (["admin", "agent"], "admin"), ("[agent lead]", "lead"),
    ("Admin", "admin"), ("", None), ("viewers", None),
])
def test_role_from_groups(groups, role):
    assert role_of(parse_claims({"sub": "s1", "email": "a@b.test", "cognito:groups": groups}).groups) == role


def test_claims_need_an_email_and_a_sub():
    with pytest.raises(Unauthenticated):
        parse_claims(None)
    with pytest.raises(Unauthenticated):
        parse_claims({"sub": "x", "cognito:groups": "agent"})
    with pytest.raises(Unauthenticated, match="sub"):
        parse_claims({"email": "a@b.test", "cognito:groups": "agent"})
    claims = parse_claims({"sub": "s1", "email": " A@B.Test "})
    assert claims.email == "a@b.test" and claims.email_verified is False
    assert parse_claims({"sub": "s1", "email": "a@b.test", "email_verified": "True"}).email_verified is True


def test_role_order():
    lead = Principal("l@x.test", "lead", uuid.uuid4())
    assert lead.require("agent") and lead.require("lead")
    with pytest.raises(errors.Forbidden):
        lead.require("admin")
    with pytest.raises(errors.Forbidden):
        Principal("a@x.test", "admin", None).require_agent()


def test_portal_token_round_trip_expiry_and_tamper():
    tid, keys, now = uuid.uuid4(), Keyring.single("s1"), datetime(2026, 3, 2, tzinfo=timezone.utc)
    token = sign_portal_token(tid, keys, now)
    assert verify_portal_token(token, keys, now + PORTAL_LINK_LIFETIME - timedelta(seconds=1)) == tid
    with pytest.raises(LinkExpired):
        verify_portal_token(token, keys, now + PORTAL_LINK_LIFETIME)
    other = sign_portal_token(uuid.uuid4(), keys, now).split(".")
    for bad in (sign_portal_token(tid, Keyring.single("s2"), now), token[:-1] + ("A" if token[-1] != "A" else "B"),
                "x.y", "", "a" * 40, ".".join(other[:3] + token.split(".")[3:])):
        with pytest.raises(LinkRefused):
            verify_portal_token(bad, keys, now)


def test_cursors_are_bound_to_their_view():
    cursor = encode_cursor("mine", ["2026-03-02T15:00:00+00:00", str(uuid.uuid4())])
    assert decode_cursor("mine", cursor)[0] == "2026-03-02T15:00:00+00:00"
    with pytest.raises(errors.ValidationFailed):
        decode_cursor("all", cursor)
    with pytest.raises(errors.ValidationFailed):
        decode_cursor("all", "%%%")


def test_status_filter():
    assert parse_statuses("open") == ("new", "assigned", "in_progress", "waiting_on_customer", "reopened")
    assert parse_statuses(" closed , resolved ") == ("closed", "resolved")
    assert parse_statuses("") is None
    with pytest.raises(errors.ValidationFailed, match="allowed"):
        parse_statuses("open,bogus")

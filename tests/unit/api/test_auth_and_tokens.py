"""Claims parsing, roles, portal tokens and view cursors: pure functions."""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.auth import Principal, Unauthenticated, parse_claims, role_of
from helpdesk.auth.portal import sign_portal_token, verify_portal_token
from helpdesk.views import decode_cursor, encode_cursor, parse_statuses


@pytest.mark.parametrize("groups, role", [
    ("agent", "agent"), ("agent,lead", "lead"), (["admin", "agent"], "admin"), ("[agent lead]", "lead"),
    ("Admin", "admin"), ("", None), ("viewers", None),
])
def test_role_from_groups(groups, role):
    assert role_of(parse_claims({"email": "a@b.test", "cognito:groups": groups}).groups) == role


def test_claims_need_an_email():
    with pytest.raises(Unauthenticated):
        parse_claims(None)
    with pytest.raises(Unauthenticated):
        parse_claims({"sub": "x", "cognito:groups": "agent"})
    assert parse_claims({"email": " A@B.Test "}).email == "a@b.test"


def test_role_order():
    lead = Principal("l@x.test", "lead", uuid.uuid4())
    assert lead.require("agent") and lead.require("lead")
    with pytest.raises(errors.Forbidden):
        lead.require("admin")
    with pytest.raises(errors.Forbidden):
        Principal("a@x.test", "admin", None).require_agent()


def test_portal_token_round_trip_and_tamper():
    tid = uuid.uuid4()
    token = sign_portal_token(tid, "k1")
    assert verify_portal_token(token, "k1") == tid
    for bad in (sign_portal_token(tid, "k2"), token[:-1] + ("A" if token[-1] != "A" else "B"), "x.y", "", "a" * 40,
                sign_portal_token(uuid.uuid4(), "k1").split(".")[0] + "." + token.split(".")[1]):
        with pytest.raises(errors.NotFound):
            verify_portal_token(bad, "k1")


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

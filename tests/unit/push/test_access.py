"""Who may subscribe and publish where (helpdesk.push.access)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk import errors
from helpdesk.auth import signing
from helpdesk.auth.portal import sign_portal_token
from helpdesk.intake.chat import sign_session_token
from helpdesk.push.access import authorize_agent, authorize_customer, customer_channel, presence_message

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
KEYS = signing.Keyring.single("test-key")
TARA = {"sub": "sub-tara", "email": "tara@example.com", "cognito:groups": "agent"}


def test_an_agent_subscribes_to_tickets_teams_and_their_own_channel_only():
    for path in (f"/tickets/{uuid.uuid4()}", f"/teams/{uuid.uuid4()}", "/agents/sub-tara"):
        assert authorize_agent(TARA, "SUBSCRIBE", path).path == path
    with pytest.raises(errors.Forbidden, match="own /agents channel"):
        authorize_agent(TARA, "SUBSCRIBE", "/agents/sub-tom")
    with pytest.raises(errors.Forbidden):
        authorize_agent(TARA, "SUBSCRIBE", f"/chat/{uuid.uuid4()}")


def test_someone_in_no_helpdesk_group_is_refused():
    with pytest.raises(errors.Forbidden, match="no help desk group"):
        authorize_agent({**TARA, "cognito:groups": "visitors"}, "SUBSCRIBE", f"/tickets/{uuid.uuid4()}")
    with pytest.raises(errors.Forbidden):
        authorize_agent(None, "SUBSCRIBE", f"/tickets/{uuid.uuid4()}")


def test_agents_publish_presence_on_tickets_only():
    assert authorize_agent(TARA, "PUBLISH", f"/tickets/{uuid.uuid4()}").namespace == "tickets"
    for path in (f"/teams/{uuid.uuid4()}", "/agents/sub-tara"):
        with pytest.raises(errors.Forbidden, match="presence on /tickets"):
            authorize_agent(TARA, "PUBLISH", path)


def test_presence_is_rebuilt_from_the_publishers_identity():
    forged = {"kind": "presence", "state": "replying", "agent": {"sub": "sub-tom", "email": "tom@example.com"}}
    doc = presence_message(TARA, forged, NOW)
    assert doc["agent"] == {"sub": "sub-tara", "email": "tara@example.com", "name": "tara"}
    assert doc["state"] == "replying" and doc["ttl_seconds"] == 40 and doc["at"] == NOW.isoformat()


@pytest.mark.parametrize("raw", ['{"kind": "change", "type": "ticket.replied"}', '{"kind": "presence", "state": "typing"}',
                                 "not json", "[1]"])
def test_anything_but_presence_from_an_agent_is_refused(raw):
    with pytest.raises(errors.ValidationFailed):
        presence_message(TARA, raw, NOW)


def test_a_chat_token_opens_its_own_session_and_a_portal_link_its_own_ticket():
    session, ticket = uuid.uuid4(), uuid.uuid4()
    chat_token = sign_session_token(session, KEYS, NOW)
    portal_token = sign_portal_token(ticket, KEYS, NOW)
    assert customer_channel(chat_token, KEYS, NOW).path == f"/chat/{session}"
    assert customer_channel(portal_token, KEYS, NOW).path == f"/portal/{ticket}"
    assert authorize_customer(chat_token, "SUBSCRIBE", f"/chat/{session}", KEYS, NOW).key == str(session)
    with pytest.raises(errors.Forbidden, match="this token is for"):
        authorize_customer(chat_token, "SUBSCRIBE", f"/chat/{uuid.uuid4()}", KEYS, NOW)
    with pytest.raises(errors.Forbidden, match="this token is for"):
        authorize_customer(chat_token, "SUBSCRIBE", f"/portal/{session}", KEYS, NOW)  # same id, other purpose
    with pytest.raises(errors.Forbidden, match="subscribe only"):
        authorize_customer(chat_token, "PUBLISH", f"/chat/{session}", KEYS, NOW)
    with pytest.raises(errors.Forbidden, match="customers use"):
        authorize_customer(chat_token, "SUBSCRIBE", f"/tickets/{session}", KEYS, NOW)


def test_a_forged_or_expired_customer_token_is_refused():
    session = uuid.uuid4()
    with pytest.raises(signing.LinkRefused):
        authorize_customer("k0.123.abc.def", "SUBSCRIBE", f"/chat/{session}", KEYS, NOW)
    old = sign_session_token(session, KEYS, NOW - timedelta(days=400))
    with pytest.raises(signing.LinkRefused):
        authorize_customer(old, "SUBSCRIBE", f"/chat/{session}", KEYS, NOW)


def test_every_customer_token_has_the_shape_appsync_checks_before_calling_the_authorizer():
    import random
    import re

    from helpdesk.push.access import CUSTOMER_TOKEN_PATTERN

    rng = random.Random(20)
    for key_id in ("k0", "a", "2026a", "abcdefgh"):
        keyring = signing.Keyring(current=key_id, keys={key_id: f"key-{key_id}".encode()})
        for _ in range(50):
            now = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(10**9))
            for token in (sign_session_token(uuid.uuid4(), keyring, now), sign_portal_token(uuid.uuid4(), keyring, now)):
                assert customer_channel(token, keyring, now)  # one the authorizer admits...
                assert re.fullmatch(CUSTOMER_TOKEN_PATTERN, token), token  # ...is never stopped before it
    good = sign_session_token(uuid.uuid4(), signing.Keyring.single("k"), datetime.now(timezone.utc))
    for junk in ("", "not-a-token", f"Bearer {good}", f"{good}=", good.rsplit(".", 1)[0], "eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl",
                 good.replace(".", ".0", 1)):
        assert not re.fullmatch(CUSTOMER_TOKEN_PATTERN, junk), junk

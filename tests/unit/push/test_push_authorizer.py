"""functions/push_authorizer: AppSync Events' Lambda authorization request -> isAuthorized, never cached.

Every request here is the example request of the AppSync Events documentation
(https://docs.aws.amazon.com/appsync/latest/eventapi/configure-event-api-auth.html, kept verbatim in
fixtures/appsync_events_authorizer_request.json) with only the token, the operation and the channel
changed, so the tests hold the handler to the shape AWS sends; the local stand-in (local/events.py)
must send that shape too."""
from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpdesk.auth import signing
from helpdesk.auth.portal import sign_portal_token
from helpdesk.intake.chat import sign_session_token

KEY = "authorizer-test-key"
DOCUMENTED_REQUEST = json.loads((Path(__file__).parent / "fixtures" / "appsync_events_authorizer_request.json").read_text())
# The answer's fields (the same page): isAuthorized required, ttlOverride and handlerContext optional.
ANSWER_FIELDS = {"isAuthorized", "ttlOverride", "handlerContext"}


def request(token: str, operation: str, channel: str | None) -> dict:
    """The documented request for this token, operation and channel (a connect names no channel)."""
    doc = copy.deepcopy(DOCUMENTED_REQUEST)
    doc["authorizationToken"] = token
    doc["requestContext"].update(operation=operation, channel=channel,
                                 channelNamespaceName=channel.split("/")[1] if channel else None)
    return doc


@pytest.fixture
def handler(monkeypatch):
    monkeypatch.setenv("HELPDESK_SIGNING_KEY", KEY)
    monkeypatch.delenv("HELPDESK_SIGNING_KEY_SECRET_ARN", raising=False)
    from functions.push_authorizer.handler import handler

    def call(event: dict) -> dict:
        answer = handler(event, None)
        assert set(answer) <= ANSWER_FIELDS and isinstance(answer["isAuthorized"], bool), answer
        assert answer["ttlOverride"] == 0, "never cached: the answer depends on the channel"
        return answer

    return call


def keys() -> signing.Keyring:
    return signing.Keyring.single(KEY)


def test_the_documented_example_request_is_answered_and_refused(handler):
    # Its token is none of ours and its channel is in no namespace of ours.
    assert handler(copy.deepcopy(DOCUMENTED_REQUEST)) == {"isAuthorized": False, "ttlOverride": 0}


def test_a_chat_token_connects_and_subscribes_to_its_session_only(handler):
    session = uuid.uuid4()
    token = sign_session_token(session, keys(), datetime.now(timezone.utc))
    assert handler(request(token, "EVENT_CONNECT", None)) == {"isAuthorized": True, "ttlOverride": 0}
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/chat/{session}"))["isAuthorized"] is True
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/chat/{uuid.uuid4()}"))["isAuthorized"] is False
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/portal/{session}"))["isAuthorized"] is False
    assert handler(request(token, "EVENT_PUBLISH", f"/chat/{session}"))["isAuthorized"] is False


def test_a_portal_link_subscribes_to_its_ticket_only(handler):
    ticket = uuid.uuid4()
    token = sign_portal_token(ticket, keys(), datetime.now(timezone.utc))
    assert handler(request(token, "EVENT_CONNECT", None))["isAuthorized"] is True
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/portal/{ticket}"))["isAuthorized"] is True
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/chat/{ticket}"))["isAuthorized"] is False
    assert handler(request(token, "EVENT_SUBSCRIBE", f"/tickets/{ticket}"))["isAuthorized"] is False


def test_a_connect_without_the_channel_keys_is_answered_like_one_with_nulls(handler):
    token = sign_session_token(uuid.uuid4(), keys(), datetime.now(timezone.utc))
    event = request(token, "EVENT_CONNECT", None)
    del event["requestContext"]["channel"], event["requestContext"]["channelNamespaceName"]
    assert handler(event)["isAuthorized"] is True


def test_anything_else_is_refused(handler):
    assert handler(request("", "EVENT_CONNECT", None))["isAuthorized"] is False
    assert handler(request("not-a-token", "EVENT_SUBSCRIBE", f"/chat/{uuid.uuid4()}"))["isAuthorized"] is False
    assert handler({})["isAuthorized"] is False


def test_the_local_stand_in_asks_in_the_documented_shape():
    from local.events import Authorizer

    asked = []
    authorizer = Authorizer("token-key", lambda event: asked.append(event) or {"isAuthorized": False})
    channel = f"/chat/{uuid.uuid4()}"
    token = sign_session_token(uuid.uuid4(), keys(), datetime.now(timezone.utc))
    with pytest.raises(Exception, match="refused"):
        authorizer.check(token, "SUBSCRIBE", channel, headers={"host": "events.local", "origin": "https://x"})
    [event] = asked
    documented = DOCUMENTED_REQUEST

    def shape(doc: dict) -> dict:
        return {k: shape(v) if isinstance(v, dict) and k != "requestHeaders" else type(v).__name__ for k, v in doc.items()}

    assert shape(event) == shape(documented)
    assert event["authorizationToken"] == token
    assert event["requestContext"]["operation"] == "EVENT_SUBSCRIBE"
    assert event["requestContext"]["channel"] == channel and event["requestContext"]["channelNamespaceName"] == "chat"
    assert event["requestHeaders"] == {"host": "events.local", "origin": "https://x"}


def test_the_local_stand_in_like_appsync_never_asks_about_a_token_of_the_wrong_shape():
    from local.events import Authorizer

    asked = []
    authorizer = Authorizer("token-key", lambda event: asked.append(event) or {"isAuthorized": True})
    with pytest.raises(Exception, match="refused"):
        authorizer.check("not-a-token", "SUBSCRIBE", f"/chat/{uuid.uuid4()}")
    assert asked == []

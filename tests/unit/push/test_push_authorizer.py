"""functions/push_authorizer: AppSync's Lambda authorization request -> isAuthorized, never cached."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from helpdesk.auth import signing
from helpdesk.intake.chat import sign_session_token


@pytest.fixture
def authorize(monkeypatch):
    monkeypatch.setenv("HELPDESK_SIGNING_KEY", "authorizer-test-key")
    monkeypatch.delenv("HELPDESK_SIGNING_KEY_SECRET_ARN", raising=False)
    from functions.push_authorizer.handler import handler

    def call(token: str, operation: str, channel: str | None) -> dict:
        return handler({"authorizationToken": token, "requestContext": {
            "apiId": "x", "accountId": "1", "requestId": "r", "operation": operation,
            "channelNamespaceName": channel.split("/")[1] if channel else None, "channel": channel}}, None)

    return call


def test_a_chat_token_connects_and_subscribes_to_its_session_only(authorize):
    session = uuid.uuid4()
    token = sign_session_token(session, signing.Keyring.single("authorizer-test-key"), datetime.now(timezone.utc))
    assert authorize(token, "EVENT_CONNECT", None) == {"isAuthorized": True, "ttlOverride": 0}
    assert authorize(token, "EVENT_SUBSCRIBE", f"/chat/{session}")["isAuthorized"] is True
    assert authorize(token, "EVENT_SUBSCRIBE", f"/chat/{uuid.uuid4()}")["isAuthorized"] is False
    assert authorize(token, "EVENT_PUBLISH", f"/chat/{session}")["isAuthorized"] is False


def test_anything_else_is_refused(authorize):
    assert authorize("", "EVENT_CONNECT", None)["isAuthorized"] is False
    assert authorize("not-a-token", "EVENT_SUBSCRIBE", f"/chat/{uuid.uuid4()}")["isAuthorized"] is False

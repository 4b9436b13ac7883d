"""Channel tests: Slack Events API payloads and web chat calls through functions.api.handler against
the real PostgreSQL; moto Secrets Manager/SES; Slack's Web API is the shared slack_stub (tests/integration/conftest.py)."""
from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from helpdesk import wiring
from helpdesk.auth import DEFAULT_RESOLVER
from helpdesk.events.publisher import RecordingPublisher
from helpdesk.intake.slack import sign_request

REGION = "us-east-1"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT0001"


def _load_api_helpers() -> Any:
    # The API tests' event builder and client (one way to build API Gateway events in tests).
    path = Path(__file__).resolve().parents[1] / "api" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_channels_api_helpers", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


api_helpers = _load_api_helpers()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def slack_secret_arn(aws, monkeypatch, slack_stub):
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name=f"helpdesk/slack-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(
        {"bot_token": "xoxb-test-token", "signing_secret": SIGNING_SECRET}))["ARN"]
    monkeypatch.setenv("SLACK_SECRET_ARN", arn)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack_stub.url)
    return arn


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def api(db, clock, publisher, monkeypatch):
    monkeypatch.setattr(wiring, "data_api", lambda: db)
    monkeypatch.setattr(wiring, "clock", lambda settings=None: clock)
    monkeypatch.setattr(wiring, "publisher", lambda settings=None: publisher)
    api_helpers._clear_process_caches()
    yield api_helpers.Client(db)
    api_helpers._clear_process_caches()
    DEFAULT_RESOLVER.clear()


class Slack:
    """Sends Events API payloads as Slack does: JSON body, v0 signature, request timestamp."""

    SECRET = SIGNING_SECRET
    BOT_USER = BOT_USER

    def __init__(self, api: Any, clock: Any) -> None:
        self.api, self.clock = api, clock
        self.envelope = envelope
        self.n = 0

    def send(self, envelope: dict[str, Any], *, secret: str = SIGNING_SECRET, timestamp: int | None = None,
             retry: int | None = None, raw: str | None = None, signature: str | None = None) -> Any:
        body = raw if raw is not None else json.dumps(envelope)
        if timestamp is None:  # a retry is sent (and signed) again, seconds later
            timestamp = int(self.clock.now().timestamp()) + (retry or 0)
        ts = str(timestamp)
        headers = {"X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": signature or sign_request(secret, ts, body)}
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return self.api.call("POST", "/api/v1/channels/slack/events", raw_body=body, headers=headers, claims=None)

    def message(self, *, channel: str = "C0SUPPORT", user: str = "U0CUSTOMER", text: str = "Help, the export fails",
                ts: str | None = None, thread_ts: str | None = None, event_id: str | None = None,
                **extra: Any) -> dict[str, Any]:
        """An event_callback envelope carrying a message event (api.slack.com/events/message)."""
        self.n += 1
        ts = ts or f"1772463600.{self.n:06d}"
        event: dict[str, Any] = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                                 "event_ts": ts, "channel_type": "channel",
                                 "client_msg_id": str(uuid.uuid4()), **extra}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return envelope(event, event_id)


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"token": "legacy-verification-token", "team_id": "T0TEAM", "api_app_id": "A0APP", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": 1772463600,
            "authorizations": [{"enterprise_id": None, "team_id": "T0TEAM", "user_id": BOT_USER, "is_bot": True}]}


@pytest.fixture
def slack(api, clock, slack_secret_arn) -> Slack:
    return Slack(api, clock)


@pytest.fixture
def connect(db, clock):
    def connect(channel: str = "C0SUPPORT", team_id: uuid.UUID | None = None) -> None:
        db.execute("INSERT INTO slack_channels (channel_id, name, team_id, connected_at) "
                   "VALUES (:c, 'support', :t::uuid, :now::timestamptz)", {"c": channel, "t": team_id, "now": clock.now()})
    return connect


@pytest.fixture
def make_agent(factories):
    def make(name: str = "Ada", role: str = "agent") -> tuple[uuid.UUID, str]:
        return tuple(factories.agent(name, role=role, domain="agents.example.org"))
    return make
"""Hostile request shapes answer 400/413/415/422 with a problem document on EVERY route, with and
without a token: never 500 (issue 22, item 8). The routes are read from the app itself, so a new
route is covered the day it is added."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto import mock_aws

from functions.api.app import build_app
from helpdesk.intake.slack import sign_request

ADMIN = "hostile-admin@example.com"
REFUSALS = {400, 413, 415, 422}
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
HUGE_INT = '{"body": ' + "9" * 5_000 + "}"
SLACK_SECRET = "hostile-slack-secret"


def _routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every documented and undocumented route, path parameters filled."""
    app = build_app()
    out = set()
    for route in app._static_routes + app._dynamic_routes:
        path = route.path
        for name in ("ticket_ref", "ticket_id", "agent_id", "team_id", "customer_id", "rule_id", "policy_id",
                     "article_id", "quarantine_id", "attachment_id", "id", "item_id", "calendar_id", "view_id"):
            path = path.replace(f"<{name}>", str(uuid.UUID(int=1)))
        path = path.replace("<token>", "x.y")
        while "<" in path:  # any other parameter: a plain word
            start, end = path.index("<"), path.index(">")
            path = path[:start] + "p1" + path[end + 1:]
        out.add((route.method, path))
    return sorted(out)


ROUTES = _routes()
BODY_ROUTES = [(m, p) for m, p in ROUTES if m in ("POST", "PUT", "PATCH")]
GET_ROUTES = [(m, p) for m, p in ROUTES if m == "GET"]

HOSTILE_BODIES = {
    "deeply nested array": (DEEP, "application/json"),
    "deeply nested object": (DEEP_OBJECT, "application/json"),
    "5,000-digit integer": (HUGE_INT, "application/json"),
    "upper-case content type": ('{"body": ' + "9" * 5_000 + "}", "APPLICATION/JSON"),
    "vendor +json content type": (DEEP, "application/vnd.helpdesk+json; charset=utf-8"),
    "not json at all": ("<xml/>", "application/xml"),
    "nested under a 5,000-digit float": ('{"a": [1e' + "9" * 5_000 + "]}", "application/json"),
}


def _slack_headers(body: str, now) -> dict[str, str]:
    """A correctly signed Slack request: the signature check passes, the body is what is hostile."""
    ts = str(int(now.timestamp()))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign_request(SLACK_SECRET, ts, body)}


@pytest.fixture
def admin(api, db, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=f"helpdesk/slack-{uuid.uuid4().hex[:8]}",
            SecretString=json.dumps({"bot_token": "xoxb-hostile", "signing_secret": SLACK_SECRET}))["ARN"]
        monkeypatch.setenv("SLACK_SECRET_ARN", arn)
        db.execute("INSERT INTO agents (email, name, role) VALUES (:e, 'Admin', 'admin')", {"e": ADMIN})
        yield api.as_claims(ADMIN, "admin")


def _refused(answer, what: str) -> None:
    assert answer.status in REFUSALS, f"{what}: {answer.status} {answer.body}"
    assert answer.content_type == "application/problem+json", what
    assert answer.body["status"] == answer.status and answer.body["detail"], what


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_every_body_route_refuses_hostile_json_with_and_without_a_token(api, admin, clock, case):
    body, content_type = HOSTILE_BODIES[case]
    for method, path in BODY_ROUTES:
        headers = {"Content-Type": content_type, **(_slack_headers(body, clock.now()) if "/slack/" in path else {})}
        for who, client in (("anonymous", api), ("admin", admin)):
            _refused(client.call(method, path, raw_body=body, headers=headers), f"{who} {method} {path} ({case})")


@pytest.mark.parametrize("param", ["cursor", "after", "limit", "before"])
def test_every_get_route_refuses_an_oversized_cursor_or_number(api, admin, param):
    for value in ("9" * 5_000, "A" * 100_000, "9" * 40):
        for method, path in GET_ROUTES:
            for who, client in (("anonymous", api), ("admin", admin)):
                answer = client.call(method, path, query={param: value})
                assert answer.status < 500, f"{who} {method} {path}?{param}={value[:10]}…: {answer.status} {answer.body}"


def test_conversation_cursors_beyond_any_position_are_refused(api, admin, create):
    ticket = create(admin)
    started = api.post("/api/v1/public/chat/sessions", {"name": "Ann", "message": "Hello"})
    assert started.status == 201
    for path, param in ((f"/api/v1/tickets/{ticket['id']}/messages", "cursor"),
                        (f"/api/v1/public/chat/sessions/{started.body['token']}/messages", "after")):
        for value in ("9" * 25, str(2**63), "9" * 5_000):
            answer = admin.get(path, query={param: value})
            _refused(answer, f"{path}?{param}={value[:12]}…")
        assert admin.get(path, query={param: str(2**63 - 1)}).status == 200

"""API tests: API Gateway REST proxy events through functions.api.handler.handler, against the
real PostgreSQL (`db` fixture) with the test clock; wiring is pointed at them."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from helpdesk import wiring
from helpdesk.auth import DEFAULT_RESOLVER
from helpdesk.events.publisher import RecordingPublisher


def make_event(method: str, path: str, *, body: Any = None, claims: dict[str, Any] | None = None,
               query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               source_ip: str = "203.0.113.7", raw_body: str | None = None) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as the Cognito-authorized proxy resource delivers it."""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    request_context: dict[str, Any] = {
        "resourcePath": "/{proxy+}", "httpMethod": method, "path": path, "stage": "prod", "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": source_ip, "userAgent": "pytest"}, "accountId": "000000000000", "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": hdrs, "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": request_context,
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def _answer(raw: dict[str, Any]) -> Answer:
    headers: dict[str, str] = {}
    for k, v in (raw.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(v) if isinstance(v, list) else v
    headers.update(raw.get("headers") or {})
    text = raw.get("body")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    return Answer(raw["statusCode"], headers, body)


class Client:
    """Calls the Lambda handler in-process, as API Gateway would."""

    def __init__(self, db) -> None:
        self.db = db
        self.claims: dict[str, Any] | None = None

    def as_claims(self, email: str, groups: str = "agent") -> "Client":
        other = Client(self.db)
        # One user pool identity per address (as Cognito's sub): its first sign-in binds it to the agent.
        other.claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cognito:{email}")), "email": email,
                        "email_verified": "true", "cognito:groups": groups}
        return other

    def call(self, method: str, path: str, **kw: Any) -> Answer:
        from functions.api.handler import handler

        kw.setdefault("claims", self.claims)
        return _answer(handler(make_event(method, path, **kw), None))

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("PATCH", path, body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("PUT", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def api(db, clock, publisher, monkeypatch) -> Client:
    monkeypatch.setattr(wiring, "data_api", lambda: db)
    monkeypatch.setattr(wiring, "clock", lambda settings=None: clock)
    monkeypatch.setattr(wiring, "publisher", lambda settings=None: publisher)
    _clear_process_caches()  # tables are emptied per test: cached agent ids / rules would be stale
    yield Client(db)
    _clear_process_caches()


def _clear_process_caches() -> None:
    DEFAULT_RESOLVER.clear()
    try:
        from helpdesk.routing.config import invalidate
    except ModuleNotFoundError:
        return
    invalidate()


@pytest.fixture
def make_agent(factories):
    """An agent (optionally in teams): returns (agent_id, email)."""
    def make(name: str = "agent", role: str = "agent", team_ids: tuple[uuid.UUID, ...] = (), capacity: int = 10):
        return tuple(factories.agent(name, role=role, teams=team_ids, capacity=capacity))
    return make

@pytest.fixture
def make_team(factories):
    def make(name: str = "team", mode: str = "pull") -> uuid.UUID:
        # 'pull' by default: tickets wait in the queue (push teams assign them at creation).
        return factories.team(name, mode=mode)
    return make

@pytest.fixture
def agent(api, make_agent):
    """A signed-in agent: (client, agent_id)."""
    agent_id, email = make_agent("alice")
    return _signed_in_before(api, api.as_claims(email, "agent"), agent_id), agent_id


@pytest.fixture
def admin(api, make_agent):
    agent_id, email = make_agent("root", role="admin")
    return _signed_in_before(api, api.as_claims(email, "admin"), agent_id), agent_id


def _signed_in_before(api: Client, client: Client, agent_id: uuid.UUID) -> Client:
    """An agent who signed in before: their identity is bound to the record (the first sign-in binds it,
    tests/integration/api/test_api_auth.py), so a request costs what it costs every day after."""
    api.db.execute("UPDATE agents SET identity_sub = :sub WHERE id = :id::uuid",
                   {"sub": client.claims["sub"], "id": agent_id})
    return client


@pytest.fixture
def ticket_body():
    def make(**over: Any) -> dict[str, Any]:
        body = {"subject": "Printer on fire", "body": "It is really on fire.", "requester_email": "Carol@Customer.test"}
        body.update(over)
        return body
    return make


@pytest.fixture
def create(ticket_body):
    """Creates a ticket through the API as the given client; returns its JSON."""
    def make(client, **over: Any) -> dict[str, Any]:
        answer = client.post("/api/v1/tickets", ticket_body(**over))
        assert answer.status == 201, answer.body
        return answer.body
    return make


@pytest.fixture
def bulk_tickets(db, clock):
    """Inserts n tickets directly (fast set-up for views at scale); returns nothing."""
    def make(n: int, *, status: str = "new", team_id: uuid.UUID | None = None, assignee_id: uuid.UUID | None = None,
             priority: str = "normal", subject: str = "Bulk ticket") -> None:
        db.execute("""
            WITH c AS (INSERT INTO customers (email) VALUES ('bulk-' || gen_random_uuid() || '@example.com') RETURNING id)
            INSERT INTO tickets (id, subject, status, priority, channel, requester_id, team_id, assignee_id, created_at, updated_at)
            SELECT gen_random_uuid(), :subject || ' ' || g, :status, :priority, 'api', c.id, :team_id::uuid, :assignee_id::uuid,
                   :now::timestamptz - make_interval(secs => g), :now::timestamptz - make_interval(secs => g)
            FROM c, generate_series(1, :n) AS g""",
            {"n": n, "status": status, "priority": priority, "team_id": team_id, "assignee_id": assignee_id,
             "subject": subject, "now": clock.now()})
    return make


def wsgi_app(claims: dict[str, Any] | None):
    """A WSGI app over the Lambda handler (for schemathesis): each HTTP request becomes the API Gateway
    REST proxy event the Lambda gets (the shape the local stack builds), with `claims` as the Cognito
    authorizer would add them, or none (a caller without a token)."""
    import base64
    from urllib.parse import parse_qs

    def app(environ, start_response):
        from functions.api.handler import handler

        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        multi = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        try:
            body, is_b64 = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, is_b64 = base64.b64encode(raw).decode(), True
        event = {
            "resource": "/{proxy+}", "path": environ["PATH_INFO"], "httpMethod": environ["REQUEST_METHOD"],
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
            "multiValueQueryStringParameters": multi or None, "pathParameters": None, "stageVariables": None,
            "requestContext": {"httpMethod": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"], "stage": "prod",
                               "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "203.0.113.50"},
                               **({"authorizer": {"claims": claims}} if claims else {})},
            "body": body if raw else None, "isBase64Encoded": is_b64,
        }
        answer = handler(event, None)
        out_headers: list[tuple[str, str]] = []
        for k, v in (answer.get("multiValueHeaders") or {}).items():
            out_headers += [(k, x) for x in (v if isinstance(v, list) else [v])]
        out_headers += list((answer.get("headers") or {}).items())
        status = answer["statusCode"]
        start_response(f"{status} X", out_headers)
        text = answer.get("body") or ""
        return [base64.b64decode(text) if answer.get("isBase64Encoded") else text.encode()]

    return app

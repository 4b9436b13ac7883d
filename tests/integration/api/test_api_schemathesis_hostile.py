"""Schemathesis with a hostile-payload profile on the PUBLIC routes, called without a token (issue 22):
the web form, knowledge-base suggestions, uploads, the portal, the chat and the Slack endpoint.

Each generated case (valid and invalid data, NUL bytes allowed) is sent as generated, then again with
hostile variants of what an attacker controls: the body (deep nesting, a 5,000-digit integer,
non-finite numbers, NUL and CR/LF in every string, megabytes of text), the media type (upper case,
+json, not JSON), and the path and query values (oversized, NUL, traversal). No answer may be a 5xx,
and every refusal is a problem document.

Run: .venv/bin/python -m pytest tests/integration/api/test_api_schemathesis_hostile.py -q -s
(-s prints the request and 5xx counts of the run)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency (requirements-dev.txt)")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from helpdesk.auth.portal import sign_portal_token  # noqa: E402
from helpdesk.config import get_settings  # noqa: E402

from .conftest import wsgi_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
PUBLIC = r"^/api/v1/(public/|portal/|channels/slack/events$)"

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json").include(path_regex=PUBLIC)
schema.app = wsgi_app(None)  # no token
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True)

TALLY: Counter[str] = Counter()


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _poisoned(value: Any) -> Any:
    """Every string of a document with NUL, CR/LF and a header-injection attempt added."""
    if isinstance(value, str):
        return value + "\x00\r\nBcc: victim@evil.test\r\n\r\n" + ">" * 500
    if isinstance(value, dict):
        return {k: _poisoned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_poisoned(v) for v in value]
    return value


def hostile_bodies(body: Any) -> list[tuple[str, str, str]]:
    """(name, raw body, content type) variants of a generated body."""
    doc = body if isinstance(body, (dict, list)) else {"body": body}
    huge = json.dumps(doc)[:-1] + ', "n": ' + "9" * 5_000 + "}" if isinstance(doc, dict) and doc else "9" * 5_000
    return [
        ("deep array", "[" * 50_000 + "]" * 50_000, "application/json"),
        ("deep object", _deep(200), "application/json"),
        ("5,000-digit integer", huge, "application/json"),
        ("non-finite number", '{"body": 1e999999, "size": NaN}', "application/json"),
        ("NUL, CR/LF and quotes in every string", json.dumps(_poisoned(doc)), "application/json"),
        ("upper-case media type", json.dumps(doc), "APPLICATION/JSON"),
        ("+json media type", json.dumps(doc), "application/vnd.api+json; charset=UTF-8"),
        ("form-encoded", "a=1&b=2", "application/x-www-form-urlencoded"),
        ("megabytes of text", json.dumps({"body": "x" * 3_000_000}), "application/json"),
        ("not UTF-8 looking", '{"body": "\\udc80\\ud800"}', "application/json"),
    ]


HOSTILE_VALUES = ["A" * 20_000, "9" * 5_000, "..%2F..%2Fetc%2Fpasswd", "x\x00y", "a\r\nSet-Cookie: x=1", "-1", "1e999"]


@pytest.fixture
def served(api, db, clock, monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "helpdesk-attachments-schemathesis")
    # The per-IP rate limits would turn most of the run into 429s: each case starts with fresh counters.
    db.execute("DELETE FROM rate_limits")
    client = api
    # Real credentials for the {token} routes, so hostile input also reaches a live portal and chat.
    ref = client.post("/api/v1/public/tickets", {"requester_email": "fuzz@customer.test", "subject": "fuzz", "body": "b"},
                      claims=None).body["ref"]
    ticket_id = db.query_one("SELECT id FROM tickets WHERE number = :n", {"n": int(ref[4:])})["id"]
    chat = client.post("/api/v1/public/chat/sessions", {"name": "Fuzz", "message": "hi"}, claims=None).body["token"]
    db.execute("DELETE FROM rate_limits")
    yield client, {"portal": sign_portal_token(ticket_id, get_settings().signing_keys, clock.now()), "chat": chat}


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\nhostile profile on public routes without a token: {TALLY['requests']} requests, "
          f"{TALLY['5xx']} answered 5xx, statuses {dict(sorted((k, v) for k, v in TALLY.items() if k.isdigit()))}")


def _check(answer, what: str) -> None:
    TALLY["requests"] += 1
    TALLY[str(answer.status)] += 1
    if answer.status >= 500:
        TALLY["5xx"] += 1
    assert answer.status < 500, f"{what}: {answer.status} {answer.body}"
    if answer.status >= 400:
        assert answer.content_type == "application/problem+json", f"{what}: {answer.content_type}"


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_public_routes_without_a_token_never_answer_5xx_under_hostile_payloads(case, served):
    TALLY["requests"] += 1
    case.call_and_validate(checks=[not_a_server_error])
    (client, tokens), method = served, case.operation.method.upper()
    body = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) else None  # NotSet: no body
    query = {k: str(v) for k, v in (case.query or {}).items()}
    paths = [case.formatted_path]
    if "{token}" in case.operation.path:  # the generated token, and a real one
        paths.append(case.operation.path.replace("{token}", tokens["chat" if "/chat/" in case.operation.path else "portal"]))
    for path in paths:
        if method in ("POST", "PUT", "PATCH"):
            for name, raw, content_type in hostile_bodies(body):
                _check(client.call(method, path, raw_body=raw, headers={"Content-Type": content_type},
                                   query=query or None, claims=None), f"{method} {path} with {name}")
    path = paths[-1]
    for value in HOSTILE_VALUES:
        for param in (case.path_parameters or {}):
            hostile_path = case.operation.path
            for other, given in (case.path_parameters or {}).items():
                hostile_path = hostile_path.replace("{" + other + "}", value if other == param else str(given))
            _check(client.call(method, hostile_path, raw_body=None if method == "GET" else json.dumps(body or {}),
                               claims=None), f"{method} {param}={value[:12]!r}")
        for param in list(query) or (["after", "cursor"] if method == "GET" else []):
            _check(client.call(method, path, query={**query, param: value}, claims=None,
                               raw_body=None if method == "GET" else "{}"),
                   f"{method} {path}?{param}={value[:12]!r}")

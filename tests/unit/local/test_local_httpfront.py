"""local.httpfront: requests become API Gateway REST proxy events; dev endpoints; static files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from local import tokens
from local.functions import FunctionUnavailable
from local.httpfront import HttpFront, proxy_event

KEY = "test-token-key"


class FakeDev:
    token_key = KEY

    def __init__(self) -> None:
        self.advanced: list[float] = []

    def issue_token(self, email: str) -> str:
        return tokens.sign(tokens.agent_claims("id-1", email, "agent"), KEY)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        self.advanced.append(seconds)
        return {"now": "later", "offset_seconds": sum(self.advanced)}

    def clock_state(self) -> dict[str, Any]:
        return {"now": "now", "offset_seconds": sum(self.advanced)}

    def health(self) -> dict[str, Any]:
        return {"status": "ok"}


def resolver_app():
    """A Powertools REST resolver like functions/api's: proves the events are what it expects."""
    app = APIGatewayRestResolver()

    @app.get("/api/v1/whoami")
    def whoami():
        claims = (app.current_event.request_context.authorizer.raw_event or {}).get("claims")
        return {"claims": claims, "q": app.current_event.query_string_parameters,
                "multi": app.current_event.multi_value_query_string_parameters}

    @app.post("/api/v1/echo")
    def echo():
        return {"body": app.current_event.json_body, "key": app.current_event.headers.get("idempotency-key")}

    return app


class FakeFunctions:
    def __init__(self, app=None, missing: bool = False) -> None:
        self.app, self.missing, self.events = app, missing, []

    def invoke(self, name: str, event: dict) -> Any:
        self.events.append((name, event))
        if self.missing:
            raise FunctionUnavailable(f"functions/{name} not available yet")
        return self.app.resolve(event, None)


@pytest.fixture
def web(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<html>hi</html>")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("export {}")
    return tmp_path


def front(web: Path, functions=None, dev=None) -> HttpFront:
    return HttpFront(host="127.0.0.1", port=0, web_dir=web, functions=functions or FakeFunctions(resolver_app()),
                     dev=dev or FakeDev())


def test_a_valid_token_reaches_the_handler_as_cognito_claims(web):
    token = FakeDev().issue_token("tom@example.com")
    status, headers, body = front(web).respond("GET", "/api/v1/whoami?a=1&a=2&b=x", {"authorization": f"Bearer {token}"},
                                               b"", "127.0.0.1")
    assert status == 200, body
    doc = json.loads(body)
    assert doc["claims"]["email"] == "tom@example.com"
    assert doc["claims"]["cognito:groups"] == "agent"
    assert doc["claims"]["sub"] == "id-1"
    assert doc["q"] == {"a": "2", "b": "x"}
    assert doc["multi"] == {"a": ["1", "2"], "b": ["x"]}


def test_json_bodies_and_headers_pass_through(web):
    status, _, body = front(web).respond("POST", "/api/v1/echo", {"content-type": "application/json", "idempotency-key": "k1"},
                                         b'{"subject": "hi"}', "127.0.0.1")
    assert status == 200
    assert json.loads(body) == {"body": {"subject": "hi"}, "key": "k1"}


def test_no_token_means_no_claims_and_a_bad_token_is_401_before_the_handler(web):
    functions = FakeFunctions(resolver_app())
    f = front(web, functions)
    status, _, body = f.respond("GET", "/api/v1/whoami", {}, b"", "127.0.0.1")
    assert status == 200 and json.loads(body)["claims"] is None
    status, headers, body = f.respond("GET", "/api/v1/whoami", {"authorization": "Bearer a.b.c"}, b"", "127.0.0.1")
    assert status == 401
    assert headers["content-type"] == ["application/problem+json"]
    assert len(functions.events) == 1


def test_binary_bodies_are_base64_in_the_event():
    event = proxy_event("PUT", "/api/v1/x", {"content-type": "application/octet-stream"}, b"\x00\xff", source_ip="1.2.3.4",
                        claims=None)
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AP8="
    assert event["requestContext"]["identity"]["sourceIp"] == "1.2.3.4"
    assert event["resource"] == "/{proxy+}" and event["pathParameters"] == {"proxy": "api/v1/x"}
    assert "authorizer" not in event["requestContext"]


def test_a_missing_api_function_is_503_naming_it(web):
    status, _, body = front(web, FakeFunctions(missing=True)).respond("GET", "/api/v1/tickets", {}, b"", "127.0.0.1")
    assert status == 503
    assert "functions/api not available yet" in json.loads(body)["detail"]


def test_dev_endpoints(web):
    dev = FakeDev()
    f = front(web, dev=dev)
    status, _, body = f.respond("POST", "/api/v1/dev/token", {}, b'{"email": " Tom@Example.com "}', "127.0.0.1")
    assert status == 200
    assert tokens.verify(json.loads(body)["token"], KEY)["email"] == "tom@example.com"
    assert f.respond("POST", "/api/v1/dev/clock", {}, b'{"advance_seconds": 90}', "127.0.0.1")[0] == 200
    assert dev.advanced == [90.0]
    for bad in (b'{"advance_seconds": -1}', b'{"advance_seconds": "1"}', b'{"advance_seconds": 1e12}', b"[]"):
        assert f.respond("POST", "/api/v1/dev/clock", {}, bad, "127.0.0.1")[0] in (400, 422), bad
    assert dev.advanced == [90.0]
    assert f.respond("GET", "/api/v1/dev/clock", {}, b"", "127.0.0.1")[0] == 200
    assert f.respond("GET", "/api/v1/dev/health", {}, b"", "127.0.0.1")[0] == 200
    assert f.respond("DELETE", "/api/v1/dev/clock", {}, b"", "127.0.0.1")[0] == 404


def test_static_files_from_web_and_no_escape(web):
    f = front(web)
    status, headers, body = f.respond("GET", "/", {}, b"", "127.0.0.1")
    assert (status, body) == (200, b"<html>hi</html>")
    assert headers["content-type"][0].startswith("text/html")
    status, headers, _ = f.respond("GET", "/js/app.js?v=1", {}, b"", "127.0.0.1")
    assert status == 200 and "javascript" in headers["content-type"][0]
    assert f.respond("GET", "/../../etc/passwd", {}, b"", "127.0.0.1")[0] == 404
    assert f.respond("GET", "/missing.css", {}, b"", "127.0.0.1")[0] == 404
    assert f.respond("POST", "/index.html", {}, b"", "127.0.0.1")[0] == 405


def test_concurrent_requests_never_share_a_resolver_event(tmp_path):
    """Powertools keeps current_event on the app: the stack must run one event at a time per function."""
    import threading
    import time as _time

    from local.functions import Functions

    package = tmp_path / "functions" / "api"
    package.mkdir(parents=True)
    (tmp_path / "functions" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "import time\n"
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "app = APIGatewayRestResolver()\n"
        "@app.get('/api/v1/me')\n"
        "def me():\n"
        "    first = app.current_event.request_context.authorizer.raw_event['claims']['email']\n"
        "    time.sleep(0.02)\n"
        "    return {'first': first, 'then': app.current_event.request_context.authorizer.raw_event['claims']['email']}\n"
        "def handler(event, context):\n"
        "    return app.resolve(event, context)\n")
    import sys

    saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]}
    sys.path.insert(0, str(tmp_path))
    try:
        f = HttpFront(host="127.0.0.1", port=0, web_dir=tmp_path, functions=Functions(tmp_path), dev=FakeDev())
        answers: list[dict] = []

        def call(email: str) -> None:
            token = FakeDev().issue_token(email)
            _, _, body = f.respond("GET", "/api/v1/me", {"authorization": f"Bearer {token}"}, b"", "127.0.0.1")
            answers.append(json.loads(body))

        threads = [threading.Thread(target=call, args=(f"agent{n}@example.com",)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(answers) == 6
        assert all(a["first"] == a["then"] for a in answers), answers
    finally:
        sys.path.remove(str(tmp_path))
        for name in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]:
            sys.modules.pop(name)
        sys.modules.update(saved)


def test_over_the_wire_oversized_bodies_get_413_and_small_ones_pass(web):
    import http.client

    from local.httpfront import MAX_PAYLOAD_BYTES, start_thread

    f = front(web)
    stop = start_thread(f)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", f.port, timeout=10)
        conn.putrequest("POST", "/api/v1/echo")
        conn.putheader("content-type", "application/json")
        conn.putheader("content-length", str(MAX_PAYLOAD_BYTES + 1))
        conn.endheaders()
        answer = conn.getresponse()
        assert answer.status == 413
        assert "10485760" in json.loads(answer.read())["detail"]
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", f.port, timeout=10)
        conn.request("POST", "/api/v1/echo", body=b'{"a": 1}', headers={"content-type": "application/json"})
        answer = conn.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["body"] == {"a": 1}
    finally:
        stop()

"""The local API Gateway and web host on 127.0.0.1:8080.

- /api/v1/dev/...  the local-only endpoints (token, clock, database, health); never part of functions/api.
- /api/...         turned into an API Gateway REST proxy event for functions/api, with the claims
                   Cognito's authorizer would supply when the request carries a valid local token.
- anything else    a static file from web/ (/ is web/index.html).
"""
from __future__ import annotations

import base64
import json
import logging
import mimetypes
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import parse_qsl, urlsplit

from local import tokens
from local.functions import FunctionUnavailable, Functions

log = logging.getLogger("local.http")

API_PREFIX = "/api/"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
DEV_PREFIX = "/api/v1/dev/"
# Bodies with these content types travel as text in the proxy event; anything else as base64.
_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/x-www-form-urlencoded",
               "application/xml", "application/javascript")


class DevApi(Protocol):
    """What the dev endpoints need from the stack."""

    token_key: str

    def issue_token(self, email: str) -> str: ...
    def advance_clock(self, seconds: float) -> dict[str, Any]: ...
    def clock_state(self) -> dict[str, Any]: ...
    def health(self) -> dict[str, Any]: ...


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def proxy_event(method: str, raw_path: str, headers: dict[str, str], body: bytes, *, source_ip: str,
                claims: dict[str, str] | None, stage: str = "local") -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload format 1.0), as `ANY /{proxy+}` delivers it."""
    parts = urlsplit(raw_path)
    path = parts.path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    content_type = headers.get("content-type", headers.get("Content-Type", ""))
    is_text = not body or content_type.startswith(_TEXT_TYPES)
    request_context: dict[str, Any] = {
        "resourceId": "local", "resourcePath": "/{proxy+}", "httpMethod": method,
        "extendedRequestId": str(uuid.uuid4()), "requestTime": datetime.now(timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{stage}{path}", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": stage,
        "domainPrefix": "localhost", "requestTimeEpoch": int(time.time() * 1000), "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("user-agent", ""), "accountId": None,
                     "caller": None, "cognitoIdentityId": None, "user": None},
        "domainName": headers.get("host", "localhost"), "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    multi_headers: dict[str, list[str]] = {k: [v] for k, v in headers.items()}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": request_context,
        "body": (body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


class HttpFront:
    def __init__(self, *, host: str, port: int, web_dir: Path, functions: Functions, dev: DevApi) -> None:
        self.web_dir = web_dir.resolve()
        self.functions = functions
        self.dev = dev
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- request handling ----------------------------------------------------------------
    def _handler_class(self):
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "helpdesk-local"

            def _dispatch(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    if length > MAX_PAYLOAD_BYTES:
                        self.close_connection = True  # the body is not read: do not reuse the connection
                        raise Problem(413, "Payload too large", f"request bodies are limited to {MAX_PAYLOAD_BYTES} bytes, as in API Gateway")
                    body = self.rfile.read(length) if length else b""
                    status, out_headers, payload = front.respond(self.command, self.path, headers, body,
                                                                 self.client_address[0])
                except Problem as problem:
                    status, out_headers, payload = _problem(problem)
                except Exception:  # the front door itself must never hang a request
                    log.exception("local HTTP front failed on %s %s", self.command, self.path)
                    status, out_headers, payload = _problem(Problem(500, "Internal error", "see the stack's log"))
                self.send_response(status)
                for key, values in out_headers.items():
                    for value in values:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("%s " + fmt, self.client_address[0], *args)

        return Handler

    def respond(self, method: str, raw_path: str, headers: dict[str, str], body: bytes,
                source_ip: str) -> tuple[int, dict[str, list[str]], bytes]:
        path = urlsplit(raw_path).path
        try:
            if path.startswith(DEV_PREFIX) or path == DEV_PREFIX.rstrip("/"):
                return self._dev(method, path, body)
            if path.startswith(API_PREFIX):
                return self._api(method, raw_path, headers, body, source_ip)
            return self._static(method, path)
        except Problem as problem:
            return _problem(problem)

    def _dev(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        route = path[len(DEV_PREFIX):].strip("/")
        if route == "health" and method in ("GET", "HEAD"):
            answer = self.dev.health()
            return _json(200 if answer.get("status") == "ok" else 503, answer)
        if route == "clock" and method == "GET":
            return _json(200, self.dev.clock_state())
        if route == "clock" and method == "POST":
            data = _json_body(body)
            seconds = data.get("advance_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 366 * 86400:
                raise Problem(422, "Invalid advance_seconds",
                              "advance_seconds must be a number of seconds between 0 and 31622400 (the clock only moves forward)")
            return _json(200, self.dev.advance_clock(float(seconds)))
        if route == "database" and method == "POST":
            seconds = _json_body(body).get("resuming_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
                raise Problem(422, "Invalid resuming_seconds",
                              "resuming_seconds must be a number of seconds between 0 and 3600 (0 wakes the database)")
            return _json(200, self.dev.pause_database(float(seconds)))
        if route == "token" and method == "POST":
            email = _json_body(body).get("email")
            if not isinstance(email, str) or "@" not in email:
                raise Problem(422, "Invalid email", "send {\"email\": \"<a seeded agent's address>\"}")
            return _json(200, {"token": self.dev.issue_token(email.strip().lower())})
        raise Problem(404, "Not found",
                      f"{method} {path}: the dev endpoints are GET health, GET/POST clock, POST database, POST token under {DEV_PREFIX}")

    def _api(self, method: str, raw_path: str, headers: dict[str, str], body: bytes,
             source_ip: str) -> tuple[int, dict[str, list[str]], bytes]:
        claims = None
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Problem(401, "Unauthorized", "Authorization must be 'Bearer <token>' (see .local/tokens.json)")
            try:
                claims = tokens.authorizer_claims(tokens.verify(token.strip(), self.dev.token_key))
            except tokens.InvalidToken as exc:
                raise Problem(401, "Unauthorized", str(exc)) from exc
        # Without a token the request goes on without claims: functions/api decides which routes
        # are public (in AWS the Cognito authorizer sits only on the agent routes).
        event = proxy_event(method, raw_path, headers, body, source_ip=source_ip, claims=claims)
        try:
            result = self.functions.invoke("api", event)
        except FunctionUnavailable as exc:
            raise Problem(503, "API not available", f"{exc}: the local stack serves only /api/v1/dev/ until it exists") from exc
        except Exception as exc:
            log.exception("functions/api raised on %s %s", method, raw_path)
            raise Problem(502, "Bad gateway", f"functions/api raised {type(exc).__name__}: {exc}") from exc
        return _from_proxy_result(result)

    def _static(self, method: str, path: str) -> tuple[int, dict[str, list[str]], bytes]:
        if method not in ("GET", "HEAD"):
            raise Problem(405, "Method not allowed", "web/ serves static files with GET")
        relative = path.lstrip("/") or "index.html"
        target = (self.web_dir / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.web_dir):
            raise Problem(404, "Not found", path)
        if not target.is_file():
            if relative == "index.html":
                return 200, {"content-type": ["text/html; charset=utf-8"]}, _PLACEHOLDER
            raise Problem(404, "Not found", f"{path} is not in web/")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        return 200, {"content-type": [content_type], "cache-control": ["no-cache"]}, target.read_bytes()


_PLACEHOLDER = (b"<!doctype html><html lang=en><meta charset=utf-8><title>Helpdesk (local)</title>"
                b"<h1>Helpdesk local stack</h1><p>web/index.html does not exist yet. The API is under "
                b"<code>/api/v1/</code>; see <code>/api/v1/dev/health</code>.</p></html>")


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise Problem(400, "Invalid JSON", f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Problem(400, "Invalid JSON", "the body must be a JSON object")
    return data


def _json(status: int, data: Any) -> tuple[int, dict[str, list[str]], bytes]:
    return status, {"content-type": ["application/json"]}, json.dumps(data, default=str).encode()


def _problem(problem: Problem) -> tuple[int, dict[str, list[str]], bytes]:
    body = {"type": "about:blank", "title": problem.title, "status": problem.status, "detail": problem.detail}
    return problem.status, {"content-type": ["application/problem+json"]}, json.dumps(body).encode()


def _from_proxy_result(result: Any) -> tuple[int, dict[str, list[str]], bytes]:
    if not isinstance(result, dict) or "statusCode" not in result:
        raise Problem(502, "Bad gateway", "functions/api did not return an API Gateway proxy result (statusCode, headers, body)")
    headers: dict[str, list[str]] = {}
    for key, value in (result.get("headers") or {}).items():
        headers.setdefault(key.lower(), []).append(str(value))
    for key, values in (result.get("multiValueHeaders") or {}).items():
        merged = headers.setdefault(key.lower(), [])
        merged.extend(str(v) for v in values if str(v) not in merged)
    headers.pop("content-length", None)
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return int(result["statusCode"]), headers, payload


def start_thread(front: HttpFront, name: str = "local-http") -> Callable[[], None]:
    import threading

    thread = threading.Thread(target=front.serve_forever, name=name, daemon=True)
    thread.start()

    def stop() -> None:
        front.shutdown()
        thread.join(timeout=5)

    return stop

"""Fixtures shared by the integration tests of several packages."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest


@dataclass
class SlackStub:
    """Slack's Web API on 127.0.0.1 for the help desk's Slack clients (SlackApi base_url = `url`).

    chat.postMessage is recorded in `posts` (with its path and Content-Type); users.info answers from
    `users` (Slack user id -> email) and records `lookups`. Failures: `fail_with` makes every post
    answer ok=false with that error; `fail` maps a channel to (HTTP status, error) for that channel only.
    """

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    fail_with: str = ""
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)

    def answer(self, path: str, content_type: str | None, raw: bytes) -> tuple[int, dict[str, Any]]:
        if path.endswith("/users.info"):
            user = parse_qs(raw.decode())["user"][0]
            self.lookups.append(user)
            email = self.users.get(user)
            return 200, ({"ok": True, "user": {"id": user, "profile": {"email": email}}} if email
                         else {"ok": False, "error": "user_not_found"})
        if self.fail_with:
            return 200, {"ok": False, "error": self.fail_with}
        body = json.loads(raw or b"{}")
        status, error = self.fail.get(body.get("channel"), (200, ""))
        if status != 200 or error:
            return status, {"ok": False, "error": error or "internal_error"}
        self.posts.append({"path": path, "content_type": content_type, **body})
        return 200, {"ok": True, "channel": body.get("channel"), "ts": f"1700000999.{len(self.posts):06d}"}


@pytest.fixture
def slack_stub():
    stub = SlackStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            stub.auth.append(self.headers.get("Authorization", ""))
            status, answer = stub.answer(self.path, self.headers.get("Content-Type"), raw)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    yield stub
    server.shutdown()
    server.server_close()

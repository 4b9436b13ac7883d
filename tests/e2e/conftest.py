"""The local stack for end-to-end tests: `python -m local` in a child process, on free loopback
ports, with its own data directory (PostgreSQL, tokens, Maildir) under pytest's tmp dir.

Fixtures: `local_stack` (session: one stack for every e2e and browser test), `http` (a tiny JSON
client), `agent_token(email)`; `free_port()` for tests that need one.
"""
from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import uuid
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(self, method: str, path: str, data: Any = None, *, token: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30) -> Answer:
        body = None if data is None else (data if isinstance(data, bytes) else json.dumps(data).encode())
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> Answer:
        return self.request("POST", path, data if data is not None else {}, **kw)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory):
    from local.stack import LocalStackProcess

    stack = LocalStackProcess(ROOT, http_port=free_port(), smtp_port=free_port(),
                              data_dir=tmp_path_factory.mktemp("local-stack"), sweep_interval=5)
    stack.start()
    yield stack
    dead = _dead_letters(stack)
    code = stack.stop()
    # Nothing the stack accepted may be lost: no inbound, outbound or notify message in a DLQ after the run.
    assert not dead, f"messages in the local stack's dead-letter queues after the e2e run: {dead}\n{stack.log_tail()}"
    if code != 0:
        print(f"local stack exited with {code}:\n{stack.log_tail()}")


def _dead_letters(stack) -> dict[str, int]:
    try:
        with urllib.request.urlopen(f"{stack.url}/api/v1/dev/health", timeout=10) as answer:
            queues = json.loads(answer.read()).get("queues") or {}
    except (OSError, ValueError) as exc:
        return {"(health unreadable)": str(exc)}  # type: ignore[dict-item]
    return {name: q["dead_letters"] for name, q in queues.items() if q.get("dead_letters")}


@pytest.fixture(scope="session")
def http(local_stack) -> Http:
    return Http(local_stack.url)


@pytest.fixture(scope="session")
def tokens(local_stack) -> dict[str, str]:
    return json.loads(local_stack.tokens_path.read_text())


@pytest.fixture(scope="session")
def health(http) -> dict[str, Any]:
    answer = http.get("/api/v1/dev/health")
    assert answer.status == 200, answer.body
    return answer.json()


@pytest.fixture
def require_functions(health):
    """require_functions("api", "inbound_email"): skip, naming what is missing, unless they exist."""

    def require(*names: str) -> None:
        missing = [n for n in names if not health["functions"].get(n)]
        if missing:
            pytest.skip(f"functions/{', functions/'.join(missing)} not available yet (the stack logs it at start)")

    return require


@pytest.fixture(scope="session")
def mailed_portal_token(local_stack):
    """The portal token of the web-form ticket acknowledged to `address`, read from the acknowledgement
    mail in the stack's Maildir: the form never answers the link (only the mailbox's owner gets it)."""
    import mailbox
    import time
    from email import message_from_bytes, policy

    def read(address: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if local_stack.maildir_path.is_dir():
                box = mailbox.Maildir(str(local_stack.maildir_path), create=False)
                for key in list(box.keys()):
                    mail = message_from_bytes(box.get_bytes(key), policy=policy.default)
                    if address.lower() not in (mail.get("To") or "").lower():
                        continue
                    for line in mail.get_body(("plain",)).get_content().splitlines():
                        if "/portal.html#" in line:
                            return line.strip().split("#", 1)[1]
            time.sleep(0.3)
        raise AssertionError(f"no acknowledgement with a portal link to {address} after {timeout} s:\n{local_stack.log_tail()}")

    return read


# -- push: a minimal AppSync Events client (the protocol local/events.py serves) -----------------
EVENTS_PROTOCOL = "aws-appsync-event-ws"


def _events_header(token: str) -> str:
    doc = json.dumps({"host": "local", "Authorization": token}).encode()
    return "header-" + base64.urlsafe_b64encode(doc).rstrip(b"=").decode()


class EventsClient:
    """A minimal AppSync Events client: connect, subscribe, wait for data. Scenarios run with
    EventsClient.run(coro): on a thread of their own, since Playwright's sync API may hold this one's loop."""

    @staticmethod
    def run(coro):
        import threading

        outcome: dict = {}

        def target() -> None:
            try:
                outcome["value"] = asyncio.run(coro)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
                outcome["error"] = exc

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(60)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.ws = None
        self.data: list[tuple[str, dict]] = []
        self.replies: dict[str, dict] = {}

    async def __aenter__(self) -> "EventsClient":
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, subprotocols=[EVENTS_PROTOCOL, _events_header(self.token)])
        await self.ws.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await self.ws.recv())
        assert ack["type"] == "connection_ack", ack
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def _until(self, predicate, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = json.loads(await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if message["type"] == "data":
                self.data.append((message["id"], json.loads(message["event"])))
            elif "id" in message:
                self.replies[message["id"]] = message
            found = predicate()
            if found:
                return found
        return predicate()

    async def subscribe(self, channel: str, token: str | None = None) -> dict:
        sub_id = str(uuid.uuid4())
        await self.ws.send(json.dumps({"type": "subscribe", "id": sub_id, "channel": channel,
                                       "authorization": {"Authorization": token or self.token}}))
        return await self._until(lambda: self.replies.get(sub_id), 5)

    async def publish(self, channel: str, event: dict) -> dict:
        pub_id = str(uuid.uuid4())
        await self.ws.send(json.dumps({"type": "publish", "id": pub_id, "channel": channel, "events": [json.dumps(event)],
                                       "authorization": {"Authorization": self.token}}))
        return await self._until(lambda: self.replies.get(pub_id), 5)

    async def wait_for(self, match, timeout: float = 5.0):
        return await self._until(lambda: next((e for _, e in self.data if match(e)), None), timeout)



@pytest.fixture(scope="session")
def events_client() -> type:
    """The EventsClient class: `async with events_client(realtime_url, token) as c: await c.subscribe(...)`."""
    return EventsClient

"""Slack on the local stack, with no Slack workspace and no internet.

- Keys: a signing secret and a bot token, generated once and kept in `.local/slack.json`, stored in
  moto's Secrets Manager as the JSON secret {"bot_token", "signing_secret"} exactly as AWS keeps it
  (infra sets SLACK_SECRET_ARN; so does the stack here). `python -m local.slack_event` signs test
  events with the signing secret from that file.
- The Slack Web API stand-in: a loopback HTTP server answering the methods the help desk calls
  (chat.postMessage, users.info) the way Slack does, checking the bot token. Every post is appended
  to `.local/slack/posts.jsonl` (what the Maildir is for mail). SLACK_API_BASE_URL points at it.
- A demo support channel (DEMO_CHANNEL) connected to the Technical team by local.seed.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("local.slack")

SECRET_NAME = "helpdesk/slack"
DEMO_CHANNEL = "C0HELPDESK"
DEMO_CHANNEL_NAME = "#help-desk (local)"
BOT_USER = "U0HELPDESKBOT"
DEFAULT_USER = "U0CUSTOMER1"
EVENTS_PATH = "/api/v1/channels/slack/events"
MAX_REQUEST_BYTES = 1 << 20


def config_path(data_dir: Path) -> Path:
    return Path(data_dir) / "slack.json"


def posts_path(data_dir: Path) -> Path:
    return Path(data_dir) / "slack" / "posts.jsonl"


def keys(data_dir: Path) -> dict[str, str]:
    """{signing_secret, bot_token}: kept in the data dir so signed requests and tokens survive restarts."""
    path = config_path(data_dir)
    doc = json.loads(path.read_text()) if path.exists() else {}
    return {"signing_secret": str(doc.get("signing_secret") or secrets.token_hex(16)),
            "bot_token": str(doc.get("bot_token") or "xoxb-local-" + secrets.token_hex(12))}


def store_secret(secretsmanager: Any, doc: dict[str, str]) -> str:
    """The Slack secret in (moto) Secrets Manager; returns its ARN. Idempotent."""
    value = json.dumps({"bot_token": doc["bot_token"], "signing_secret": doc["signing_secret"]})
    try:
        return secretsmanager.create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=SECRET_NAME, SecretString=value)
        return secretsmanager.describe_secret(SecretId=SECRET_NAME)["ARN"]


def write_config(data_dir: Path, doc: dict[str, str], *, events_url: str, api_base_url: str, secret_arn: str) -> Path:
    path = config_path(data_dir)
    path.write_text(json.dumps({
        **doc, "events_url": events_url, "api_base_url": api_base_url, "secret_arn": secret_arn,
        "channel": DEMO_CHANNEL, "bot_user": BOT_USER, "posts": str(posts_path(data_dir)),
    }, indent=2) + "\n")
    path.chmod(0o600)
    return path


@dataclass
class SlackApiStandIn:
    """Slack's Web API on a loopback port. start() returns the base URL (ending in /api/)."""

    bot_token: str
    posts_file: Path
    host: str = "127.0.0.1"
    port: int = 0
    posted: int = 0
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_ts: float = 0.0

    def start(self) -> str:
        self.posts_file.parent.mkdir(parents=True, exist_ok=True)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_REQUEST_BYTES:
                    return self._answer(413, {"ok": False, "error": "request_too_large"})
                raw = self.rfile.read(length)
                method = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
                status, doc = stand_in.call(method, self.headers.get("Authorization") or "",
                                            self.headers.get("Content-Type") or "", raw)
                self._answer(status, doc)

            def _answer(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("slack stand-in: " + fmt, *args)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="slack-api", daemon=True).start()
        return f"http://{self.host}:{self._server.server_address[1]}/api/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the Web API methods ------------------------------------------------------------------
    def call(self, method: str, authorization: str, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, Slack's JSON answer). Slack answers 200 with ok=false for API errors."""
        if authorization != f"Bearer {self.bot_token}":
            return 200, {"ok": False, "error": "invalid_auth" if authorization else "not_authed"}
        try:
            if content_type.startswith("application/json"):
                args = json.loads(raw or b"{}")
            else:
                args = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        except ValueError:
            return 200, {"ok": False, "error": "invalid_json"}
        if not isinstance(args, dict):
            return 200, {"ok": False, "error": "invalid_arguments"}
        if method == "chat.postMessage":
            return 200, self.post_message(args)
        if method == "users.info":
            user = str(args.get("user") or "")
            if not user:
                return 200, {"ok": False, "error": "user_not_found"}
            # No email on local users: the intake falls back to its placeholder address.
            return 200, {"ok": True, "user": {"id": user, "name": user.lower(), "profile": {"real_name": user}}}
        return 200, {"ok": False, "error": "unknown_method"}

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, text = str(args.get("channel") or ""), args.get("text")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not isinstance(text, str) or not text.strip():
            return {"ok": False, "error": "no_text"}
        with self._lock:  # Slack's ts: unique per channel, increasing
            stamp = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = stamp
            ts = f"{stamp:.6f}"
            record = {"method": "chat.postMessage", "channel": channel, "thread_ts": args.get("thread_ts"),
                      "ts": ts, "text": text, "user": BOT_USER,
                      "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            with open(self.posts_file, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.posted += 1
        log.info("Slack post to %s (thread %s) recorded in %s", channel, args.get("thread_ts"), self.posts_file)
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"type": "message", "user": BOT_USER, "text": text, "ts": ts,
                            **({"thread_ts": args["thread_ts"]} if args.get("thread_ts") else {})}}


def read_posts(data_dir: Path) -> list[dict[str, Any]]:
    path = posts_path(data_dir)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

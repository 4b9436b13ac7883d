"""Post a correctly signed Slack message event to the local stack, as Slack's Events API would.

    python -m local.slack_event "My laptop will not boot"           # a new message in the demo channel: a ticket
    python -m local.slack_event "Still broken" --thread 1767000000.000100   # a reply in that message's thread
    python -m local.slack_event --posts                                # what the help desk posted back to Slack

The signing secret and the events URL come from `.local/slack.json` (written by `make run`). The
request timestamp follows the stack's dev clock (`.local/clock-offset`), as the server checks it
against that clock. Prints the server's answer and the message's ts (pass it as --thread to reply).
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local import slack

ROOT = Path(__file__).resolve().parent.parent


def clock_offset(data_dir: Path) -> float:
    try:
        return float((Path(data_dir) / "clock-offset").read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0.0


def message_event(text: str, *, channel: str = slack.DEMO_CHANNEL, user: str = slack.DEFAULT_USER,
                  thread_ts: str | None = None, now: float | None = None) -> dict[str, Any]:
    """An Events API envelope holding one `message` event (Slack's shape, trimmed to what is used)."""
    now = time.time() if now is None else now
    ts = f"{now:.6f}"
    event: dict[str, Any] = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                             "event_ts": ts, "channel_type": "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {"token": "local", "team_id": "T0LOCAL", "api_app_id": "A0LOCAL", "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(8).upper(), "event_time": int(now), "event": event,
            "authorizations": [{"team_id": "T0LOCAL", "user_id": slack.BOT_USER, "is_bot": True}]}


def signed_headers(signing_secret: str, body: str, timestamp: int) -> dict[str, str]:
    from helpdesk.intake.slack import sign_request

    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign_request(signing_secret, str(timestamp), body)}


def post(url: str, body: str, headers: dict[str, str], timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the local stack
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace")


def send(data_dir: Path, text: str, *, thread_ts: str | None = None, channel: str | None = None,
         user: str = slack.DEFAULT_USER, url: str | None = None) -> tuple[int, Any, dict[str, Any]]:
    """Sign and post one message event; (HTTP status, answer, the envelope sent)."""
    path = slack.config_path(data_dir)
    if not path.exists():
        raise SystemExit(f"{path} does not exist: start the local stack first (make run)")
    config = json.loads(path.read_text())
    now = time.time() + clock_offset(data_dir)
    envelope = message_event(text, channel=channel or config.get("channel") or slack.DEMO_CHANNEL, user=user,
                             thread_ts=thread_ts, now=now)
    body = json.dumps(envelope)
    status, answer = post(url or config["events_url"], body, signed_headers(config["signing_secret"], body, int(now)))
    return status, answer, envelope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.slack_event", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="the message text")
    parser.add_argument("--thread", metavar="TS", help="reply in the thread of this message ts")
    parser.add_argument("--channel", help=f"Slack channel id (default: the demo channel {slack.DEMO_CHANNEL})")
    parser.add_argument("--user", default=slack.DEFAULT_USER, help="the Slack user id writing (default %(default)s)")
    parser.add_argument("--url", help="the events endpoint (default: from .local/slack.json)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local", help="the stack's data dir (default .local)")
    parser.add_argument("--posts", action="store_true", help="print what the help desk posted to Slack, then exit")
    args = parser.parse_args(argv)
    if args.posts:
        for item in slack.read_posts(args.data_dir):
            print(json.dumps(item, ensure_ascii=False))
        return 0
    if not args.text:
        parser.error("the message text is required (or --posts)")
    status, answer, envelope = send(args.data_dir, args.text, thread_ts=args.thread, channel=args.channel,
                                    user=args.user, url=args.url)
    print(json.dumps({"status": status, "answer": answer, "ts": envelope["event"]["ts"],
                      "channel": envelope["event"]["channel"]}, indent=2))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())

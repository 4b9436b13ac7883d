"""Idle requests per agent-hour: what an open page asks the API while nothing happens.

    .venv/bin/python scripts/measure_idle_requests.py                  # this checkout
    git archive <rev> | tar -x -C /tmp/before && \\
        .venv/bin/python scripts/measure_idle_requests.py --root /tmp/before   # another revision

Starts that checkout's local stack (`python -m local`, free ports, a temporary data directory),
opens in headless chromium, one at a time: an agent's team queue, the same agent's ticket page, and
a customer's chat widget with a conversation started; counts the /api/ requests each makes over
--window seconds after it settled, and prints them scaled to an hour (JSON on the last line). The
local-only dev clock sync (/api/v1/dev/...) is counted apart: a deployed stage has no such route.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def measure(root: Path, window: float) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    from local.stack import LocalStackProcess

    with tempfile.TemporaryDirectory(prefix="idle-requests-") as data_dir:
        stack = LocalStackProcess(root, http_port=free_port(), smtp_port=free_port(), data_dir=Path(data_dir)).start(timeout=300)
        try:
            base = stack.url
            admin = json.loads(stack.tokens_path.read_text())["admin@example.com"]
            suffix = uuid.uuid4().hex[:8]
            team = call(base, "POST", "/api/v1/teams", {"name": f"Idle {suffix}", "assignment_mode": "pull"}, admin)
            email = f"idle.{suffix}@example.com"
            call(base, "POST", "/api/v1/agents", {"email": email, "name": "Idle Agent", "role": "agent", "team_ids": [team["id"]]}, admin)
            ticket = call(base, "POST", "/api/v1/tickets", {"subject": "Idle", "body": "nothing happens",
                                                            "requester_email": "c@example.org", "team_id": team["id"]}, admin)
            results: dict[str, dict[str, float]] = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                pages = {"team queue": "/index.html#/view/team", "ticket page": f"/index.html#/ticket/{ticket['ref']}",
                         "chat widget": "/chat/demo.html"}
                for name, path in pages.items():
                    context = browser.new_context(base_url=base)
                    page = context.new_page()
                    seen: list[str] = []
                    page.on("request", lambda r: seen.append(r.url) if "/api/" in r.url else None)
                    page.goto(path)
                    page.wait_for_selector("body")
                    if name == "chat widget":
                        page.get_by_role("button", name="Chat with support").click()
                        page.get_by_label("Your name").fill("Idle Visitor")
                        page.get_by_label("How can we help?").fill("Just looking")
                        page.get_by_role("button", name="Start chat").click()
                        page.locator(".hdchat-log").filter(has_text="Just looking").wait_for()
                    else:
                        page.wait_for_selector("body[data-ready]")
                        page.get_by_label("Agent email").fill(email)
                        page.get_by_role("button", name="Sign in", exact=True).click()
                        page.wait_for_selector("#nav:not([hidden])")
                    page.wait_for_timeout(3000)  # the page's first reads and its subscription
                    seen.clear()
                    page.wait_for_timeout(window * 1000)
                    api = [u for u in seen if "/api/v1/dev/" not in u]
                    scale = 3600 / window
                    results[name] = {"requests_per_hour": round(len(api) * scale),
                                     "dev_clock_requests_per_hour": round((len(seen) - len(api)) * scale)}
                    context.close()
                browser.close()
            return results
        finally:
            stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose stack and web pages to measure")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of idleness counted per page (default 60)")
    args = parser.parse_args()
    started = time.monotonic()
    results = measure(args.root.resolve(), args.window)
    for name, figures in results.items():
        print(f"{name:12} {figures['requests_per_hour']:6d} API requests per hour idle"
              f" (+{figures['dev_clock_requests_per_hour']} local dev-clock syncs)")
    print(f"({args.window:.0f} s window per page, {time.monotonic() - started:.0f} s in all)")
    print(json.dumps({"root": str(args.root), "window_seconds": args.window, "pages": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

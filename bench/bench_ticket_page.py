"""The agent's ticket page in a real browser: time until it is usable on a 50-message ticket, and the
API calls the page makes for one view (the first load, then each refresh tick).

Run: .venv/bin/python bench/bench_ticket_page.py [--messages 50] [--repeat 7]

Starts the local stack (`python -m local`) on free ports with a scratch data dir, creates a ticket
with --messages messages (the customer's first one, then agent replies and notes), signs in as the
seeded admin in headless Debian chromium (scripts/ensure_chromium.sh) and opens the ticket --repeat
times. "Usable" means: the conversation shows every message and the reply box accepts text. The
time is measured in the page (performance.now() from the navigation to the first frame where both
hold), the same way before and after a change, so the figures compare. API calls are the /api/v1
requests the page made until usable, and in the first refresh tick after it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.stack import LocalStackProcess  # noqa: E402
from tests.e2e.conftest import Http, free_port  # noqa: E402

USABLE_JS = """
(count) => {
  const shown = document.querySelectorAll('.conversation li.message').length;
  const box = document.querySelector('form.composer textarea');
  return shown >= count && box && !box.disabled;
}
"""


def seed(http: Http, token: str, messages: int) -> str:
    def call(method: str, path: str, data=None):
        answer = http.request(method, "/api/v1" + path, data, token=token)
        assert answer.status in (200, 201), (path, answer.status, answer.body[:300])
        return answer.json()

    ticket = call("POST", "/tickets", {"subject": "Printer jams on every second page",
                                       "body": "The printer jams.\n" * 20, "requester_email": "bench.page@example.org"})
    for n in range(1, messages):
        call("POST", f"/tickets/{ticket['id']}/messages",
             {"body": f"Step {n}: please try this and tell us what happens.\n" * 8,
              "visibility": "internal" if n % 5 == 0 else "public"})
    return ticket["ref"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the tree whose web/ and local stack to serve (e.g. an older commit's, exported with git archive)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data_dir:
        stack = LocalStackProcess(args.root, http_port=free_port(), smtp_port=free_port(), data_dir=Path(data_dir))
        stack.start()
        try:
            http = Http(stack.url)
            tokens = json.loads(stack.tokens_path.read_text())
            ref = seed(http, tokens["admin@example.com"], args.messages)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=stack.url)
                tab = context.new_page()
                calls: list[str] = []
                tab.on("request", lambda r: calls.append(f"{r.method} {r.url.split('/api/v1', 1)[1]}")
                       if "/api/v1/" in r.url else None)
                tab.goto("/index.html")
                tab.wait_for_selector("body[data-ready]")
                tab.get_by_label("Agent email").fill("admin@example.com")
                tab.get_by_role("button", name="Sign in", exact=True).click()
                tab.wait_for_selector("#nav:not([hidden])")
                times, first_load, tick, blocking = [], [], [], 0
                for i in range(args.repeat):
                    tab.evaluate("() => { location.hash = '#/view/all'; }")
                    tab.wait_for_selector("h1")
                    tab.wait_for_timeout(300)
                    calls.clear()
                    started = tab.evaluate("() => { window.__benchStart = performance.now(); "
                                           f"location.hash = '#/ticket/{ref}'; return window.__benchStart; }}")
                    handle = tab.wait_for_function(
                        f"() => ({USABLE_JS})({args.messages}) ? performance.now() : false", polling="raf", timeout=30_000)
                    usable_at = handle.json_value()
                    times.append(usable_at - started)
                    if i == 0:
                        # The page's own mark when it has one (the calls it starts after it do not block).
                        mark = tab.evaluate("() => { const m = performance.getEntriesByName('ticket:usable', 'mark'); "
                                            "return m.length ? m[m.length - 1].startTime : null; }")
                        blocking_before = mark if mark is not None else usable_at
                        blocking = tab.evaluate(
                            "([from, to]) => performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/v1/')"
                            " && r.startTime >= from && r.startTime <= to).length", [started, blocking_before])
                    first_load = list(calls) if i == 0 else first_load
                    if i == 0:
                        calls.clear()
                        tab.wait_for_timeout(6500)  # one refresh tick (config refreshSeconds, 5 s)
                        tick = list(calls)
                browser.close()
        finally:
            stack.stop()
    print(f"ticket page, {args.messages} messages, {args.repeat} loads")
    print(f"  usable after: median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms")
    print(f"  API calls before the page is usable (blocking): {blocking}")
    print(f"  API calls of the page view (by the usable frame): {len(first_load)}: {first_load}")
    print(f"  API calls per refresh tick: {len(tick)}: {tick}")


if __name__ == "__main__":
    main()

"""Browser tests: Python Playwright (sync API) driving Debian's chromium, headless, against the
real local stack (`local_stack` from tests/e2e/conftest.py: `python -m local` in a child process on
free ports with a temporary data dir).

Chromium comes from scripts/ensure_chromium.sh (apt-get install chromium when /usr/bin/chromium is
missing); Playwright never downloads a browser. The suite is skipped, with the reason, only when
chromium cannot be installed here. Screenshots go to .local/artifacts/browser/ (gitignored), or to
$HELPDESK_ARTIFACTS_DIR when set.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Root in a container: no user namespaces for the sandbox, no GPU, a small /dev/shm.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ARTIFACTS = Path(os.environ.get("HELPDESK_ARTIFACTS_DIR", ROOT / ".local" / "artifacts" / "browser"))
VIEWPORT = {"width": 1280, "height": 900}
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    script = ROOT / "scripts" / "ensure_chromium.sh"
    try:
        done = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot run {script}: {exc}")
    if done.returncode != 0 or not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed and cannot be installed here: {done.stderr.strip() or done.stdout.strip()}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # only this run's screenshots remain
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def web_config() -> dict[str, Any]:
    return json.loads((ROOT / "web" / "config.json").read_text())


@dataclass
class PageProblems:
    """Uncaught page errors and dialogs (a dialog would mean injected script ran)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    unload_prompts: int = 0  # beforeunload dialogs (the page warned before leaving)


class Shots:
    def __init__(self, page: Any, directory: Path, test_name: str) -> None:
        self.page, self.directory, self.n = page, directory, 0
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.directory / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser, local_stack, artifacts_dir: Path, request: pytest.FixtureRequest):
    context = browser.new_context(viewport=VIEWPORT, base_url=local_stack.url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    tab = context.new_page()
    problems = PageProblems()
    tab.on("pageerror", lambda exc: problems.errors.append(str(exc)))
    tab.on("console", lambda msg: problems.console.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)

    def on_dialog(dialog: Any) -> None:
        # Confirmations (merge) are answered as the test says; anything else (an alert) is
        # recorded: it would mean user content ran as script.
        if dialog.type == "confirm":
            dialog.accept() if getattr(tab, "confirm_answer", False) else dialog.dismiss()
            return
        if dialog.type == "beforeunload":  # "leave with unsent text?": recorded, and left
            problems.unload_prompts += 1
            dialog.accept()
            return
        problems.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.problems = problems
    tab.shot = Shots(tab, artifacts_dir, request.node.name)
    yield tab
    try:
        tab.shot("final")
    finally:
        context.close()
    assert not problems.errors, f"uncaught errors in the page: {problems.errors}"


# -- data set up through the API (as the seeded admin) ------------------------------------------
@dataclass
class Api:
    http: Any
    token: str

    def call(self, method: str, path: str, data: Any = None, *, token: str | None = None, expect: int | tuple = (200, 201)) -> Any:
        answer = self.http.request(method, "/api/v1" + path, data, token=token or self.token)
        wanted = expect if isinstance(expect, tuple) else (expect,)
        assert answer.status in wanted, f"{method} {path} -> {answer.status}: {answer.body[:500]!r}"
        return answer.json() if answer.body else None


@pytest.fixture(scope="session")
def admin_api(http, tokens) -> Api:
    return Api(http, tokens["admin@example.com"])


@dataclass
class Workspace:
    """A pull-mode team with one agent, so tickets wait in the queue until "Next ticket"."""

    team_id: str
    team_name: str
    agent_id: str
    agent_email: str
    agent_token: str


def _make_workspace(admin_api: Api, http: Any, label: str) -> Workspace:
    suffix = uuid.uuid4().hex[:8]
    team = admin_api.call("POST", "/teams", {"name": f"{label} {suffix}", "assignment_mode": "pull"})
    email = f"{label.lower().replace(' ', '.')}.{suffix}@example.com"
    agent = admin_api.call("POST", "/agents", {"email": email, "name": f"{label} Agent {suffix}", "role": "agent",
                                               "team_ids": [team["id"]]})
    answer = http.post("/api/v1/dev/token", {"email": email})
    assert answer.status == 200, answer.body
    return Workspace(team["id"], team["name"], agent["id"], email, answer.json()["token"])


@pytest.fixture
def workspace(admin_api: Api, http) -> Workspace:
    """A fresh team + agent per test: queues never leak between tests."""
    return _make_workspace(admin_api, http, "Browser QA")


@pytest.fixture
def make_ticket(admin_api: Api) -> Callable[..., dict[str, Any]]:
    def make(team_id: str | None, subject: str, body: str, **extra: Any) -> dict[str, Any]:
        doc = {"subject": subject, "body": body, "requester_email": extra.pop("requester_email", "customer@example.org"),
               **({"team_id": team_id} if team_id else {}), **extra}
        return admin_api.call("POST", "/tickets", doc, expect=201)

    return make


@pytest.fixture
def sign_in(local_stack) -> Callable[[Any, str], None]:
    """Sign in through the page: type the agent's email, press Sign in (the local dev token)."""

    def go(tab: Any, email: str, hash_route: str = "") -> None:
        tab.goto("/index.html" + hash_route)
        tab.wait_for_selector("body[data-ready]")
        tab.get_by_label("Agent email").fill(email)
        tab.get_by_role("button", name="Sign in", exact=True).click()
        tab.wait_for_selector("#nav:not([hidden])")

    return go


# -- accessibility probes (run in the page) ----------------------------------------------------
UNLABELLED_CONTROLS_JS = """
() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
      && getComputedStyle(el).visibility !== 'hidden';
  const text = (el) => (el ? (el.textContent || '').trim() : '');
  const nameOf = (el) => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
    const by = el.getAttribute('aria-labelledby');
    if (by) return by.split(/\\s+/).map((id) => text(document.getElementById(id))).join(' ').trim();
    if (el.labels && el.labels.length) return Array.from(el.labels).map(text).join(' ').trim();
    if (el.tagName === 'BUTTON') return text(el);
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type)) return (el.value || '').trim();
    return (el.getAttribute('title') || '').trim();
  };
  return Array.from(document.querySelectorAll('input, select, textarea, button'))
    .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]') && (visible(el) || el.closest('[aria-hidden=true]')))
    .filter((el) => !nameOf(el))
    .map((el) => el.outerHTML.slice(0, 160));
}
"""

# WCAG 2.x relative luminance and contrast ratio for every visible element that holds text,
# against its effective background (alpha layers composited over white).
LOW_CONTRAST_JS = """
(minimum) => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                  b: top.b * top.a + under.b * (1 - top.a), a: 1 });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reverse().reduce((acc, c) => over(c, acc), { r: 255, g: 255, b: 255, a: 1 });
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const failures = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg, [hidden], [aria-hidden=true], .visually-hidden, noscript, script, style')) continue;
    const ownText = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    const isControl = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && (el.value || '').trim();
    if (!ownText && !isControl) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || !el.getClientRects().length) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const r = ratio(fg, bg);
    checked += 1;
    if (r < minimum) failures.push({ text: (el.textContent || el.value || '').trim().slice(0, 60), tag: el.tagName,
      cls: el.className && el.className.baseVal === undefined ? el.className : '', color: style.color,
      background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`, ratio: Math.round(r * 100) / 100 });
  }
  return { checked, failures };
}
"""

FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return { tag: el.tagName, id: el.id, text: (el.textContent || el.value || '').trim().slice(0, 60),
           label: el.getAttribute('aria-label') || (el.labels && el.labels[0] ? el.labels[0].textContent.trim() : ''),
           status: el.dataset ? el.dataset.status || null : null, type: el.type || null,
           outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
}
"""


def unlabelled_controls(tab: Any) -> list[str]:
    return tab.evaluate(UNLABELLED_CONTROLS_JS)


def low_contrast(tab: Any, minimum: float = 4.5) -> dict[str, Any]:
    return tab.evaluate(LOW_CONTRAST_JS, minimum)


def tab_until(tab: Any, matches: Callable[[dict], bool], limit: int = 60) -> list[dict]:
    """Press Tab until the focused element matches; return every focus stop on the way."""
    stops: list[dict] = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUS_JS)
        if focused is None:
            continue
        stops.append(focused)
        if matches(focused):
            return stops
    raise AssertionError(f"Tab never reached the control; focus went through: {json.dumps(stops)[:2000]}")


@pytest.fixture
def a11y():
    """The accessibility probes, as one object for the tests."""

    class Probes:
        unlabelled = staticmethod(unlabelled_controls)
        contrast = staticmethod(low_contrast)
        tab_until = staticmethod(tab_until)
        focus = staticmethod(lambda tab: tab.evaluate(FOCUS_JS))

    return Probes

"""Accessibility basics on every page: each control has a label, keyboard reaches the main
controls (with a visible focus ring) and activates buttons with Enter and Space, and text contrast
against its computed background is at least 4.5:1 (WCAG AA)."""
from __future__ import annotations

import uuid

import pytest

# Each test takes seconds, but they share a started local stack and a browser: the suite is ~1 min.
pytestmark = pytest.mark.slow


def _assert_good(page, a11y, where: str) -> None:
    missing = a11y.unlabelled(page)
    assert not missing, f"{where}: controls without a label: {missing}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: the page is {overflow}px wider than the window (horizontal scrolling)"
    result = a11y.contrast(page)
    assert result["checked"] > 5, f"{where}: the contrast probe found almost no text"
    assert not result["failures"], f"{where}: text below 4.5:1 contrast: {result['failures'][:10]}"


def test_sign_in_page(page, a11y):
    page.goto("/index.html")
    page.wait_for_selector("body[data-ready]")
    _assert_good(page, a11y, "sign-in")
    # The email field has focus; Enter submits (keyboard-only sign-in).
    assert page.evaluate("document.activeElement.type") == "email"


def test_workspace_lists_and_ticket_page(page, a11y, sign_in, workspace, make_ticket, admin_api):
    ticket = make_ticket(workspace.team_id, "Contrast and keyboard", "checking the page")
    admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "an internal note", "visibility": "internal"})
    sign_in(page, workspace.agent_email, "#/view/team")
    page.locator("table.tickets tbody tr").first.wait_for()
    _assert_good(page, a11y, "team queue")

    # Tab order from the top of a freshly loaded page (the session survives the reload): skip
    # link, views, search, Next ticket, then into the list.
    page.reload()
    page.locator("table.tickets tbody tr").first.wait_for()
    stops = a11y.tab_until(page, lambda f: f["text"] == ticket["ref"])
    labels = [s["text"] or s["label"] for s in stops]
    for expected in ("Skip to main content", "My tickets", "Team queue", "At risk", "All tickets", "Reports",
                     "Search tickets", "Next ticket"):
        assert expected in labels, f"Tab never reached {expected!r}: {labels}"
    assert labels.index("My tickets") < labels.index("Search tickets") < labels.index("Next ticket") < labels.index(ticket["ref"])
    assert all(s["outline"] for s in stops), f"focus not visible on: {[s for s in stops if not s['outline']]}"

    # Enter on a focused link opens the ticket.
    page.keyboard.press("Enter")
    page.wait_for_selector(f"article.ticket[data-ticket-id='{ticket['id']}']")
    page.locator(".message.internal").wait_for()
    _assert_good(page, a11y, "ticket page")

    # Keyboard: reach the status buttons, activate with Space; the reply box and its toggle.
    stops = a11y.tab_until(page, lambda f: f["status"] == "assigned" or f["status"] == "spam")
    page.evaluate("document.activeElement.blur()")
    page.locator("button[data-status='spam']").focus()
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Spam'")
    page.locator("button[data-status='new']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'New'")

    page.get_by_label("Public reply to the customer").focus()
    page.keyboard.press("ArrowRight")  # radio group: arrow keys move the choice
    assert page.get_by_label("Internal note for agents").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Tab")  # the reply's "Attach files" input comes before the send button
    assert page.evaluate("document.activeElement.type") == "file"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add internal note"
    page.keyboard.press("Enter")
    page.locator(".message.internal", has_text="typed with the keyboard").wait_for()
    _assert_good(page, a11y, "ticket page with internal composer")


@pytest.mark.parametrize("route", ["#/view/mine", "#/view/all", "#/view/at-risk", "#/reports"])
def test_other_workspace_pages(page, a11y, sign_in, route):
    sign_in(page, "admin@example.com", route)
    page.wait_for_selector("main h1")
    page.wait_for_timeout(300)
    _assert_good(page, a11y, route)


def test_contact_and_portal_pages(page, a11y, http, mailed_portal_token):
    page.goto("/contact.html")
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Subject").fill("contrast")
    _assert_good(page, a11y, "contact form")
    email = f"a11y.portal.{uuid.uuid4().hex[:6]}@example.org"
    answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": "Portal a11y", "body": "hello"})
    assert answer.status == 201, answer.body
    page.goto(f"/portal.html?token={mailed_portal_token(email)}")
    page.locator(".message").first.wait_for()
    _assert_good(page, a11y, "portal")


def test_the_probes_catch_what_they_should(page, a11y):
    """The checks are not vacuous: an unlabelled input and grey-on-white text are reported."""
    page.goto("/contact.html")
    page.wait_for_selector("body[data-ready]")
    page.evaluate("""() => {
        const p = document.createElement('p'); p.textContent = 'too faint'; p.style.color = '#bbbbbb';
        const i = document.createElement('input'); i.id = 'naked';
        document.getElementById('main').append(p, i);
    }""")
    assert any("naked" in html for html in a11y.unlabelled(page))
    assert any(f["text"] == "too faint" for f in a11y.contrast(page)["failures"])

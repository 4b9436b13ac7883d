"""The agent workspace in a real browser against the real local stack: sign in, the queue, claim
with "Next ticket", reply in public and internally, resolve; the DOM and the API must agree."""
from __future__ import annotations

import re
import uuid

import pytest

from helpdesk.tickets.states import TRANSITIONS, Status

# Each test takes seconds, but they share a started local stack and a browser: the suite is ~1 min.
pytestmark = pytest.mark.slow

# Moves the ticket page leaves to their own forms (merge needs a target, assign needs an agent).
FORM_ONLY = {"merged", "assigned"}
HOSTILE_SUBJECT = "<img src=x onerror=alert('subject')> Printer <b>on fire</b>"
HOSTILE_BODY = "Hello <script>alert('body')</script>\nSELECT * FROM agents; DROP TABLE tickets; --"


def expected_buttons(status: str) -> set[str]:
    return {s.value for s in TRANSITIONS[Status(status)]} - FORM_ONLY


def status_buttons(tab) -> set[str]:
    return set(tab.locator("button[data-status]").evaluate_all("els => els.map(e => e.dataset.status)"))


def test_sign_in_claim_reply_internal_note_and_resolve(page, sign_in, workspace, make_ticket, admin_api):
    word = f"zebra{uuid.uuid4().hex[:6]}"
    ticket = make_ticket(workspace.team_id, f"{HOSTILE_SUBJECT} {word}", HOSTILE_BODY, priority="high")

    sign_in(page, workspace.agent_email)
    page.shot("signed-in")
    assert workspace.agent_email in page.inner_text("#whoami") or "Agent" in page.inner_text("#whoami")

    # The team queue lists the new ticket, its subject as literal text.
    page.get_by_role("link", name="Team queue").click()
    row = page.locator("table.tickets tbody tr", has_text=word)
    row.wait_for()
    assert HOSTILE_SUBJECT in row.inner_text()
    page.shot("team-queue")

    # Next ticket claims it and opens it.
    page.get_by_role("button", name="Next ticket").click()
    page.wait_for_selector(f"article.ticket[data-ticket-id='{ticket['id']}']")
    assert page.inner_text("#ticket-status") == "Assigned"
    assert "Claimed " + ticket["ref"] in page.inner_text("#status-line")
    title = page.inner_text("h1#page-title")
    assert title == f"{ticket['ref']}: {HOSTILE_SUBJECT} {word}"
    # Tickets carry HTML and SQL: shown as text, never parsed or run.
    assert page.locator("main img, main script, h1 b").count() == 0
    assert HOSTILE_BODY.replace("\n", "") in page.inner_text(".message.public .message-body").replace("\n", "")
    assert status_buttons(page) == expected_buttons("assigned")
    # the requester's name or address, once the customer panel (read after the page is usable) is there
    page.locator(".message.author-customer .author", has_text="customer@example.org").first.wait_for()
    page.shot("claimed")

    page.locator("button[data-status='in_progress']").click()
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'In progress'")
    assert status_buttons(page) == expected_buttons("in_progress")

    # A public reply (the default) ...
    page.get_by_label("Public reply (sent to the customer)").fill("We are on it <b>now</b>")
    page.get_by_role("button", name="Send public reply").click()
    page.locator(".message.public", has_text="We are on it <b>now</b>").wait_for()

    # ... and an internal note: the toggle changes the composer's label, style and button.
    page.get_by_label("Internal note for agents").check()
    assert "internal" in page.locator("form.composer").get_attribute("class")
    page.get_by_label("Internal note (visible to agents only, never sent to the customer)").fill("Check the fuser first")
    page.get_by_role("button", name="Add internal note").click()
    note = page.locator(".message.internal", has_text="Check the fuser first")
    note.wait_for()
    page.shot("replied")

    # Public and internal messages differ in label (text), not only in colour.
    assert "Internal note" in note.locator(".badge").inner_text()
    public = page.locator(".message.public", has_text="We are on it")
    assert "Public reply" in public.locator(".badge").inner_text()
    assert note.evaluate("e => getComputedStyle(e).borderTopStyle") != public.evaluate("e => getComputedStyle(e).borderTopStyle")

    page.locator("button[data-status='resolved']").click()
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Resolved'")
    assert status_buttons(page) == expected_buttons("resolved")
    page.shot("resolved")

    # The API agrees with what the page shows.
    stored = admin_api.call("GET", f"/tickets/{ticket['id']}")
    assert stored["status"] == "resolved"
    assert stored["assignee_id"] == workspace.agent_id
    assert stored["first_response_at"], "the public reply is the first response"
    by_visibility = {(m["visibility"], m["body"]) for m in stored["messages"]}
    assert ("public", "We are on it <b>now</b>") in by_visibility
    assert ("internal", "Check the fuser first") in by_visibility
    assert not page.problems.dialogs, f"user content ran as script: {page.problems.dialogs}"


def test_views_mine_all_search_and_at_risk(page, sign_in, workspace, make_ticket, admin_api):
    word = f"quokka{uuid.uuid4().hex[:6]}"
    ticket = make_ticket(workspace.team_id, f"Invoice {word} missing", "Where is my invoice?")
    admin_api.call("POST", f"/tickets/{ticket['id']}/assign", {"agent_id": workspace.agent_id})

    sign_in(page, workspace.agent_email, "#/view/mine")
    page.locator("table.tickets tbody tr", has_text=word).wait_for()
    assert page.locator("#nav a[aria-current='page']").inner_text() == "My tickets"
    page.shot("mine")

    page.get_by_role("link", name="All tickets").click()
    page.locator("table.tickets tbody tr", has_text=word).wait_for()

    page.get_by_label("Search tickets").fill(word)
    page.get_by_label("Search tickets").press("Enter")
    page.wait_for_selector("h1:has-text('Search:')")
    page.locator("table.tickets tbody tr", has_text=word).wait_for()
    page.shot("search")
    page.locator("table.tickets a", has_text=ticket["ref"]).first.click()
    page.wait_for_selector(f"article.ticket[data-ticket-id='{ticket['id']}']")

    page.get_by_role("link", name="At risk").click()
    page.wait_for_selector("h1:has-text('At risk')")
    page.wait_for_selector("table.tickets, p.empty")


def test_views_refresh_without_reload(page, sign_in, workspace, make_ticket):
    sign_in(page, workspace.agent_email, "#/view/team")
    page.wait_for_selector("p.empty")
    word = f"ocelot{uuid.uuid4().hex[:6]}"
    make_ticket(workspace.team_id, f"Arrived later {word}", "new while the page was open")
    # Pushed to the open page (the team's queue channel): it shows without any click.
    page.locator("table.tickets tbody tr", has_text=word).wait_for(timeout=5_000)


def test_next_ticket_on_an_empty_queue_says_so(page, sign_in, workspace):
    sign_in(page, workspace.agent_email)
    page.get_by_role("button", name="Next ticket").click()
    page.wait_for_function("document.getElementById('status-line').textContent.includes('Queue empty')")
    page.shot("queue-empty")


def test_a_stale_status_button_adopts_the_allowed_list_from_the_422(page, sign_in, workspace, make_ticket, admin_api):
    ticket = make_ticket(workspace.team_id, "Stale page", "status changes behind the page's back")
    admin_api.call("POST", f"/tickets/{ticket['id']}/assign", {"agent_id": workspace.agent_id})
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "in_progress"})
    # Keep push from reaching the page and pause its (fallback) refresh so its buttons go stale,
    # then move the ticket elsewhere.
    page.route_web_socket(re.compile(r"/event/realtime$"), lambda socket: None)  # never answers: no push
    sign_in(page, workspace.agent_email, f"#/ticket/{ticket['ref']}")
    page.wait_for_selector("button[data-status='waiting_on_customer']")
    page.evaluate("() => { for (let i = 1; i < 100000; i++) window.clearInterval(i); }")
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "resolved"})

    page.locator("button[data-status='waiting_on_customer']").click()
    page.wait_for_function("document.getElementById('status-line').dataset.kind === 'error'")
    message = page.inner_text("#status-line")
    assert "waiting" in message.lower() and "resolved" in message.lower(), message
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Resolved'")
    assert status_buttons(page) == expected_buttons("resolved")
    page.shot("adopted-allowed")


def test_assign_to_me_and_merge(page, sign_in, workspace, make_ticket, admin_api):
    keep = make_ticket(workspace.team_id, "Keep this one", "first report")
    dupe = make_ticket(workspace.team_id, "Same problem again", "second report")
    sign_in(page, workspace.agent_email, f"#/ticket/{dupe['ref']}")
    page.wait_for_selector(f"article.ticket[data-ticket-id='{dupe['id']}']")
    page.get_by_role("button", name="Assign to me").click()
    page.wait_for_function("document.getElementById('ticket-assignee').textContent.includes('Agent')")
    assert admin_api.call("GET", f"/tickets/{dupe['id']}")["assignee_id"] == workspace.agent_id

    page.confirm_answer = True  # accept the merge confirmation
    page.get_by_label("Merge into ticket").fill(keep["ref"])
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_selector(f"article.ticket[data-ticket-id='{keep['id']}']")
    assert re.search(r"merged into", page.inner_text("#status-line"))
    page.locator(".message", has_text="second report").wait_for()
    page.shot("merged")
    gone = admin_api.http.get(f"/api/v1/tickets/{dupe['id']}", token=admin_api.token)
    assert gone.status == 410


def test_ticket_sla_countdown_is_shown(page, sign_in, workspace, make_ticket):
    ticket = make_ticket(workspace.team_id, "SLA countdown", "how long do I have?", priority="urgent")
    sign_in(page, workspace.agent_email, f"#/ticket/{ticket['ref']}")
    clocks = page.locator(".sla-list li")
    clocks.first.wait_for()
    texts = clocks.all_inner_texts()
    if texts == ["No SLA clock on this ticket."]:
        return  # no policy matched this ticket: the page says so (nothing to count down)
    assert any(re.search(r"Due in \d+|Breached|Met|Paused", t) for t in texts), texts
    first = page.locator(".sla-list li[data-kind='first_response']")
    if first.count() and "Due in" in first.inner_text():
        before = first.inner_text()
        page.wait_for_timeout(1_200)
        assert first.inner_text() != before, "the countdown ticks every second"


def test_reports_page_shows_charts_or_says_not_available(page, sign_in, workspace, make_ticket, admin_api):
    # One answered and resolved ticket, so the report has a team with figures.
    ticket = make_ticket(workspace.team_id, "Report me", "for the charts")
    admin_api.call("POST", f"/tickets/{ticket['id']}/assign", {"agent_id": workspace.agent_id})
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "in_progress"})
    admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "answer", "visibility": "public"})
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "resolved"})

    sign_in(page, "admin@example.com", "#/reports")
    page.wait_for_selector("svg.chart, #report-unavailable, p.empty")
    page.shot("reports")
    if page.locator("#report-unavailable").count():
        assert "not available" in page.inner_text("#report-unavailable").lower()
        return
    assert page.locator(".report-output svg.chart[role='img']").count() == 3
    rows = page.locator(".report-output table.report-table tbody tr")
    assert rows.last.locator("th").inner_text() == "All teams"
    ours = page.locator(".report-output table.report-table tbody tr", has_text=workspace.team_name)
    assert ours.count() == 1
    cells = ours.locator("td").all_inner_texts()
    assert cells[0] != "—" and cells[3] != "—", f"first response and resolution p50 of {workspace.team_name}: {cells}"
    assert workspace.team_name[:23] in page.locator(".report-output svg.chart").first.inner_html()


def test_dev_clock_page_moves_the_clock_and_countdowns_follow_the_server_time(page, sign_in, workspace, make_ticket):
    """The dev clock endpoints are played by the test (the shared stack's clock must not move for
    other tests); the page must show the server's time and count SLA deadlines from it."""
    from datetime import datetime, timedelta, timezone

    ticket = make_ticket(workspace.team_id, "Clock test", "deadline check", priority="urgent")
    offset = {"seconds": 0.0}
    posted: list[dict] = []

    def clock(route):
        if route.request.method == "POST":
            body = route.request.post_data_json
            posted.append(body)
            offset["seconds"] += body["advance_seconds"]
        now = datetime.now(timezone.utc) + timedelta(seconds=offset["seconds"])
        route.fulfill(json={"now": now.isoformat(), "offset_seconds": offset["seconds"], "sweep": {"breaches": 0}})

    page.route("**/api/v1/dev/clock", clock)
    sign_in(page, workspace.agent_email, "#/dev")
    page.get_by_role("link", name="Dev clock").wait_for()
    page.wait_for_selector("#dev-clock-now")
    assert "(real time)" in page.inner_text("#dev-clock-now")
    page.get_by_role("button", name="+ 3 days").click()
    page.wait_for_function("document.getElementById('dev-clock-now').textContent.includes('ahead of real time')")
    assert posted == [{"advance_seconds": 259200}]
    assert "3d 0h ahead" in page.inner_text("#dev-clock-now")
    page.shot("dev-clock")

    page.goto(f"/index.html#/ticket/{ticket['ref']}")
    page.locator(".sla-list li").first.wait_for()
    running = [t for t in page.locator(".sla-list li").all_inner_texts() if "Due in" in t or "Breached" in t]
    if running:  # every running clock is due within 3 days of now: all show as breached
        assert all("Breached" in t for t in running), running

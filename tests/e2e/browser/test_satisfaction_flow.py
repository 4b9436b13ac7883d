"""The customer's side of a resolve in a real browser, on the local stack: an agent resolves the
ticket -> the solved mail lands in the Maildir -> its "good" link opens the survey page, which
records the rating (the link itself changes nothing) and takes a comment -> the portal shows the
rating -> the rating and comment show in the reports page. Accessibility checks on the new pages."""
from __future__ import annotations

import mailbox
import re
import time
import uuid
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow
SURVEY_LINK = re.compile(r"https?://\S+/satisfaction\.html\?answer=(good|bad|not_solved)#\S+")


def _solved_mail_links(local_stack, address: str, timeout: float = 30.0) -> dict[str, str]:
    """answer -> link (path, query and fragment) of the solved mail to `address` in the Maildir."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if local_stack.maildir_path.is_dir():
            box = mailbox.Maildir(str(local_stack.maildir_path), create=False)
            for key in list(box.keys()):
                mail = message_from_bytes(box.get_bytes(key), policy=policy.default)
                if address.lower() not in (mail.get("To") or "").lower():
                    continue
                links = {m.group(1): m.group(0) for m in SURVEY_LINK.finditer(mail.get_body(("plain",)).get_content())}
                if links:
                    return {answer: "{0.path}?{0.query}#{0.fragment}".format(urlsplit(url)) for answer, url in links.items()}
        time.sleep(0.3)
    raise AssertionError(f"no solved mail to {address} after {timeout} s:\n{local_stack.log_tail()}")


def _accessible(page, a11y, where: str) -> None:
    assert not a11y.unlabelled(page), f"{where}: controls without a label: {a11y.unlabelled(page)}"
    result = a11y.contrast(page)
    assert not result["failures"], f"{where}: text below 4.5:1 contrast: {result['failures'][:10]}"


def _resolved_web_ticket(http, admin_api, subject: str) -> tuple[str, str]:
    email = f"csat.{uuid.uuid4().hex[:8]}@example.org"
    answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": subject, "body": "It broke."})
    assert answer.status == 201, answer.body
    ref = answer.json()["ref"]
    admin_api.call("POST", f"/tickets/{ref}/messages", {"body": "Fixed it for you.", "visibility": "public"})
    for status in ("in_progress", "resolved"):
        ticket = admin_api.call("GET", f"/tickets/{ref}")
        if ticket["status"] != status:
            admin_api.call("POST", f"/tickets/{ref}/status", {"status": status})
    return email, ref


def test_solved_mail_rating_link_to_page_to_reports(page, http, admin_api, local_stack, mailed_portal_token, a11y, sign_in):
    subject = f"Printer {uuid.uuid4().hex[:6]}"
    email, ref = _resolved_web_ticket(http, admin_api, subject)
    links = _solved_mail_links(local_stack, email)
    assert set(links) == {"good", "bad", "not_solved"}

    page.goto(links["good"])
    page.wait_for_selector("body[data-ready]")
    page.locator("#survey-rating", has_text="Good, I'm satisfied").wait_for()
    assert f"{ref}: {subject}" in page.inner_text("#survey-title")
    assert "Thank you, your rating was recorded." in page.inner_text("#status-line")
    assert page.get_by_role("button", name="Good, I'm satisfied").get_attribute("aria-pressed") == "true"
    _accessible(page, a11y, "survey page")
    page.shot("rated")
    page.get_by_label("Anything you want to add? (optional)").fill("Quick and friendly <b>thanks</b>")
    page.get_by_role("button", name="Send comment").click()
    page.locator("#status-line", has_text="Thank you for your comment.").wait_for()
    rating = admin_api.call("GET", f"/tickets/{ref}")["satisfaction"]
    assert rating["rating"] == "good" and rating["comment"] == "Quick and friendly <b>thanks</b>"

    # Opening the link again changes nothing and says so.
    page.reload()
    page.wait_for_selector("body[data-ready]")
    page.locator("#survey-rating", has_text="Good, I'm satisfied").wait_for()
    assert admin_api.call("GET", f"/tickets/{ref}")["satisfaction"]["rated_at"] == rating["rated_at"]

    # The portal shows the same answer, the status in the customer's words, and closes on "solved".
    page.goto(f"/portal.html#{mailed_portal_token(email)}")
    page.wait_for_selector("body[data-ready]")
    assert page.inner_text("#portal-status") == "Solved"
    page.locator("#survey-rating", has_text="Good, I'm satisfied").wait_for()
    _accessible(page, a11y, "portal with survey")
    page.get_by_role("button", name="Yes, it's solved: close my request").click()
    page.locator("#survey-status", has_text="Closed").wait_for()
    assert admin_api.call("GET", f"/tickets/{ref}")["status"] == "closed"
    page.shot("portal-closed")

    sign_in(page, "admin@example.com", "#/reports")
    page.locator("#satisfaction-summary").wait_for()
    assert "Score" in page.inner_text("#satisfaction-summary")
    page.locator("#satisfaction-comments li", has_text="Quick and friendly <b>thanks</b>").wait_for()
    assert ref in page.inner_text("#satisfaction-comments")
    _accessible(page, a11y, "reports with satisfaction")
    page.shot("reports")


def test_not_solved_link_reopens_only_when_the_customer_presses_the_button(page, http, admin_api, local_stack):
    email, ref = _resolved_web_ticket(http, admin_api, f"Router {uuid.uuid4().hex[:6]}")
    links = _solved_mail_links(local_stack, email)
    page.goto(links["not_solved"])
    page.wait_for_selector("body[data-ready]")
    assert admin_api.call("GET", f"/tickets/{ref}")["status"] == "resolved"  # opening the page changed nothing
    box = page.get_by_label("What is still wrong? (optional)")
    assert page.evaluate("document.activeElement.name") == "not_solved"
    box.fill("The light is still red.")
    page.get_by_role("button", name="It's not solved: reopen my request").click()
    page.locator("#status-line", has_text="We reopened your request").wait_for()
    ticket = admin_api.call("GET", f"/tickets/{ref}")
    assert ticket["status"] == "in_progress" and ticket["messages"][0]["body"] == "The light is still red."
    assert "you can rate it once it is solved" in page.inner_text("main")


def test_the_customers_other_requests_after_a_mailed_link(page, http, local_stack, mailed_portal_token, a11y):
    email = f"others.{uuid.uuid4().hex[:8]}@example.org"
    refs = []
    for subject in ("First question", "Second question"):
        answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": subject, "body": "?"})
        assert answer.status == 201, answer.body
        refs.append(answer.json()["ref"])
    page.goto(f"/portal.html#{mailed_portal_token(email)}")
    page.wait_for_selector("body[data-ready]")
    page.get_by_role("button", name="Email me the list of my requests").click()
    page.locator("#status-line", has_text="We emailed you a link").wait_for()

    deadline, link = time.monotonic() + 30, None
    while link is None and time.monotonic() < deadline:
        box = mailbox.Maildir(str(local_stack.maildir_path), create=False)
        for key in list(box.keys()):
            mail = message_from_bytes(box.get_bytes(key), policy=policy.default)
            if email in (mail.get("To") or "") and "/requests.html#" in mail.get_body(("plain",)).get_content():
                link = re.search(r"/requests\.html#\S+", mail.get_body(("plain",)).get_content()).group(0)
        time.sleep(0.3)
    assert link, f"no requests link mailed to {email}:\n{local_stack.log_tail()}"
    page.goto(link)
    page.wait_for_selector("body[data-ready]")
    table = page.inner_text("#requests-table")
    assert all(ref in table for ref in refs) and "First question" in table
    assert "Open" in table and "assigned" not in table  # the customer's words for the status
    _accessible(page, a11y, "requests page")
    page.get_by_role("link", name=refs[0]).click()
    page.wait_for_selector("body[data-ready]")
    assert refs[0] in page.inner_text("#portal-title")

"""The customer side in a real browser: the web form (contact.html) and the portal (portal.html)."""
from __future__ import annotations

import uuid

import pytest

# Each test takes seconds, but they share a started local stack and a browser: the suite is ~1 min.
pytestmark = pytest.mark.slow


def _open_form(page):
    page.goto("/contact.html")
    page.wait_for_selector("body[data-ready]")


def test_contact_form_opens_a_ticket_and_confirms_its_reference(page, admin_api):
    word = f"walrus{uuid.uuid4().hex[:6]}"
    email = f"web.{uuid.uuid4().hex[:6]}@example.org"
    _open_form(page)
    page.get_by_label("Your email address").fill(email)
    page.get_by_label("Your name (optional)").fill("Wendy <Web>")
    page.get_by_label("Subject").fill(f"Parcel {word} never arrived")
    page.get_by_label("How can we help?").fill("Tracking says delivered; it is not here. <script>x()</script>")
    page.shot("filled")
    page.get_by_role("button", name="Send to support").click()
    page.wait_for_selector("#contact-done:not([hidden])")
    ref = page.inner_text("#ticket-ref")
    assert ref.startswith("TKT-")
    assert email in page.inner_text("#contact-done")
    page.shot("confirmed")

    stored = admin_api.call("GET", f"/tickets/{ref}")
    assert stored["channel"] == "web"
    assert word in stored["subject"]
    assert any("<script>x()</script>" in m["body"] for m in stored["messages"])


def test_contact_form_names_what_is_missing(page):
    _open_form(page)
    page.get_by_role("button", name="Send to support").click()
    page.wait_for_function("document.getElementById('status-line').dataset.kind === 'error'")
    text = page.inner_text("#status-line")
    assert "email" in text and "subject" in text.lower()
    assert page.get_by_label("Your email address").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "contact-email"


def test_honeypot_is_hidden_from_people_and_keyboards(page, a11y):
    _open_form(page)
    honeypot = page.locator("#contact-website")
    box = honeypot.bounding_box()
    viewport = page.viewport_size
    # Off-screen and tiny: not something a person sees or fills.
    assert box is None or box["x"] + box["width"] <= 0 or box["x"] >= viewport["width"] or box["width"] <= 1
    assert honeypot.get_attribute("tabindex") == "-1"
    assert page.locator(".hp-field").get_attribute("aria-hidden") == "true"
    stops = a11y.tab_until(page, lambda f: f["text"] == "Send to support")
    assert all(s["id"] != "contact-website" for s in stops)


def test_kb_suggestions_appear_while_typing_when_articles_match(page, admin_api):
    articles = admin_api.call("GET", "/kb/articles").get("items", [])
    published = [a for a in articles if a.get("title")]
    _open_form(page)
    if not published:
        return  # nothing to suggest: the box stays hidden (checked below)
    title = published[0]["title"]
    page.get_by_label("Subject").fill(title)
    page.get_by_label("How can we help?").fill(title)
    page.wait_for_selector("#kb-suggestions:not([hidden])", timeout=5_000)
    assert page.locator("#kb-list li").count() >= 1
    # The snippet marks the matched words as elements, never as markup shown in the text.
    first = page.locator("#kb-list li").first
    assert first.locator("mark").count() >= 1
    assert "<b>" not in first.inner_text() and "<mark" not in first.inner_text()
    page.shot("suggestions")


def test_portal_shows_public_conversation_only_and_takes_a_reply(page, http, admin_api, mailed_portal_token):
    email = f"portal.{uuid.uuid4().hex[:6]}@example.org"
    answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": "Portal check",
                                                  "body": "My <i>first</i> message"})
    assert answer.status == 201, answer.body
    created = answer.json()
    admin_api.call("POST", f"/tickets/{created['ref']}/messages", {"body": "SECRET internal note", "visibility": "internal"})
    admin_api.call("POST", f"/tickets/{created['ref']}/messages", {"body": "Public answer from support", "visibility": "public"})

    page.goto(f"/portal.html?token={mailed_portal_token(email)}")
    page.wait_for_selector("body[data-ready]")
    page.locator(".message", has_text="Public answer from support").wait_for()
    main = page.inner_text("main")
    assert "My <i>first</i> message" in main
    assert "SECRET" not in page.content()
    assert created["ref"] in page.inner_text("#portal-title")
    page.shot("portal")

    page.get_by_label("Your reply").fill("Thanks, one more detail")
    page.get_by_role("button", name="Send reply").click()
    page.locator(".message", has_text="Thanks, one more detail").wait_for()
    stored = admin_api.call("GET", f"/tickets/{created['ref']}")
    assert any(m["body"] == "Thanks, one more detail" and m["author_type"] == "customer" for m in stored["messages"])


def test_portal_link_in_fragment_form_works_and_a_bad_token_is_explained(page, http, mailed_portal_token):
    email = f"frag.{uuid.uuid4().hex[:6]}@example.org"
    answer = http.post("/api/v1/public/tickets", {"requester_email": email, "subject": "Fragment link", "body": "hello"})
    assert answer.status == 201, answer.body
    page.goto(f"/portal.html#{mailed_portal_token(email)}")
    page.wait_for_selector("body[data-ready]")
    page.locator(".message", has_text="hello").wait_for()

    page.goto("/portal.html?token=not-a-real-token")
    page.wait_for_selector("body[data-ready]")
    assert "not valid" in page.inner_text("#portal-error") or "could not be loaded" in page.inner_text("#portal-error")


def test_contact_form_uploads_attachments_to_s3_and_the_agent_sees_them(page, admin_api, sign_in):
    _open_form(page)
    page.get_by_label("Your email address").fill(f"files.{uuid.uuid4().hex[:6]}@example.org")
    page.get_by_label("Subject").fill("Screenshot of the error")
    page.get_by_label("How can we help?").fill("See the attached log.")
    page.get_by_label("Attachments (optional, up to 5 files of 10 MB each)").set_input_files(
        [{"name": "error log.txt", "mimeType": "text/plain", "buffer": b"Traceback: boom\n"}])
    page.get_by_role("button", name="Send to support").click()
    page.wait_for_selector("#contact-done:not([hidden]), #status-line[data-kind='error']")
    assert page.locator("#contact-done").is_visible(), page.inner_text("#status-line")
    ref = page.inner_text("#ticket-ref")

    stored = admin_api.call("GET", f"/tickets/{ref}")
    files = [a for m in stored["messages"] for a in (m.get("attachments") or [])]
    assert [f["filename"] for f in files] == ["error log.txt"]
    assert files[0]["size"] == len(b"Traceback: boom\n")

    sign_in(page, "admin@example.com", f"#/ticket/{ref}")
    page.locator(".attachments li", has_text="error log.txt").wait_for()
    page.shot("agent-sees-attachment")

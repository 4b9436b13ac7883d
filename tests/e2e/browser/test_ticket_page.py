"""The ticket page of the agent workspace (issue 18) in a real browser against the real local stack:
the whole mail (isolated HTML, image previews), the customer panel, the activity log, priority and tags,
macros, the composer (drafts, send and set status, the closed-ticket warning, never crossing an unseen
message), presence, keys, merge with preview, assignment semantics, phones. Assertions are on what the
agent sees; screenshots at 1440x900 and 390x844 go to the artifacts dir."""
from __future__ import annotations

import base64
import smtplib
import time
import uuid
from email.message import EmailMessage

import pytest

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# A 2x2 red PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")


def _claim(admin_api, workspace, ticket, *, start=True):
    admin_api.call("POST", f"/tickets/{ticket['id']}/assign", {"agent_id": workspace.agent_id})
    if start:
        admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "in_progress"})


def _open(page, sign_in, workspace, ticket):
    sign_in(page, workspace.agent_email, f"#/ticket/{ticket['ref']}")
    page.wait_for_selector("main[data-ticket-usable]")


def _assert_accessible(page, a11y, where):
    missing = a11y.unlabelled(page)
    assert not missing, f"{where}: controls without an accessible name: {missing}"
    result = a11y.contrast(page)
    assert not result["failures"], f"{where}: text below 4.5:1 contrast: {result['failures'][:10]}"


def _wait_for(find, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.3)
    return None


def test_an_html_mail_is_shown_isolated_with_its_table_links_and_image(page, sign_in, workspace, admin_api,
                                                                       local_stack, require_functions):
    require_functions("inbound_email", "api")
    marker = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = "Hana Html <hana@customer.test>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Invoice table {marker}"
    mail["Message-ID"] = f"<{marker}@customer.test>"
    mail.set_content(f"Invoice {marker}\nItem  Price\nPaper 3.50\nSee https://example.org/help")
    mail.add_alternative(
        f"<p>Invoice {marker}</p><table><tr><th>Item</th><th>Price</th></tr><tr><td>Paper</td><td>3.50</td></tr></table>"
        "<p><a href='https://example.org/help'>our help page</a></p><script>alert('mail')</script>"
        "<img src='https://tracker.example/pixel.gif' alt='tracker'>", subtype="html")
    mail.add_attachment(PNG, maintype="image", subtype="png", filename="screenshot.png")
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)

    def find():
        answer = admin_api.call("GET", "/tickets?view=all&limit=100")
        return next((t for t in answer["items"] if marker in t["subject"]), None)

    ticket = _wait_for(find)
    assert ticket, f"no ticket for the mail:\n{local_stack.log_tail()}"
    ticket["ref"] = f"TKT-{ticket['number']}"
    _open(page, sign_in, workspace, ticket)

    # The image attachment is previewed inline.
    preview = page.locator(".image-preview img[alt='Attached image screenshot.png']")
    preview.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('.image-preview img'); return i && i.complete && i.naturalWidth === 2; }")

    page.get_by_role("button", name="Show the quoted and forwarded text").click()
    page.get_by_text("Show as the mail looked (HTML)").click()
    frame_el = page.locator("iframe.mail-html")
    frame_el.wait_for()
    assert frame_el.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"  # no scripts, no same origin
    frame = frame_el.content_frame
    assert frame.locator("table tr").count() == 2  # the table keeps its shape
    assert frame.locator("td", has_text="3.50").count() == 1
    link = frame.locator("a", has_text="our help page")
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert frame.locator("script").count() == 0
    page.shot("html-mail")
    assert not page.problems.dialogs, page.problems.dialogs


def test_customer_panel_activity_priority_and_tags(page, sign_in, workspace, make_ticket, admin_api, a11y):
    email = f"pat.{uuid.uuid4().hex[:6]}@customer.test"
    older = make_ticket(workspace.team_id, "Older question", "First one", requester_email=email, requester_name="Pat Lee")
    ticket = make_ticket(workspace.team_id, "Printer jams", "It jams.", requester_email=email, tags=["hardware"])
    _claim(admin_api, workspace, ticket)
    page.set_viewport_size(DESKTOP)
    _open(page, sign_in, workspace, ticket)

    panel = page.locator(".customer-panel")
    panel.locator("#requester-name", has_text="Pat Lee").wait_for()
    assert "standard" in panel.inner_text()
    panel.get_by_role("link", name=f"{older['ref']}: Older question").wait_for()

    # The activity log sits in the conversation: who did what, when.
    page.locator(".activity", has_text="Status: Assigned → In progress").wait_for()
    assert "by " in page.locator(".activity", has_text="Assigned to").first.inner_text()

    page.get_by_label("Priority", exact=True).select_option("high")
    page.locator(".activity", has_text="Priority: normal → high").wait_for()
    assert "priority is now high" in page.inner_text("#status-line")

    page.get_by_label("Add tags").fill("vip, billing")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator(".activity", has_text="Tags: added vip, billing").wait_for()
    assert page.locator(".tag-list .tag > span").all_inner_texts() == ["hardware", "vip", "billing"]
    page.get_by_role("button", name="Remove tag hardware").click()
    page.locator(".activity", has_text="Tags: removed hardware").wait_for()
    assert admin_api.call("GET", f"/tickets/{ticket['id']}")["tags"] == ["vip", "billing"]
    page.shot("panel-activity-desktop")
    _assert_accessible(page, a11y, "ticket page with panel")

    # The older ticket is a click away.
    panel.get_by_role("link", name=f"{older['ref']}: Older question").click()
    page.wait_for_function(f"document.querySelector('h1#page-title').textContent.startsWith('{older['ref']}:')")
    assert page.inner_text("#status-line") == ""  # the status line speaks of the page it was said on


def test_macros_are_managed_and_applied_in_one_step(page, sign_in, workspace, make_ticket, admin_api, a11y):
    ticket = make_ticket(workspace.team_id, "Where is my parcel", "It has not arrived.", requester_name="Robin Hood",
                         requester_email=f"robin.{uuid.uuid4().hex[:6]}@customer.test")
    _claim(admin_api, workspace, ticket)
    name = f"Ask for order number {uuid.uuid4().hex[:4]}"
    page.set_viewport_size(DESKTOP)
    sign_in(page, workspace.agent_email, "#/macros")
    page.get_by_role("heading", name="New macro").wait_for()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Reply text (optional)").fill("Hi {{requester.first_name}}, what is the order number for {{ticket.ref}}?")
    page.get_by_label("Set status").select_option("waiting_on_customer")
    page.get_by_label("Add tags").fill("needs-info")
    page.get_by_role("button", name="Create macro").click()
    page.locator(".macro-item", has_text=name).wait_for()
    page.shot("macros-desktop")
    _assert_accessible(page, a11y, "macros page")

    page.goto(f"/index.html#/ticket/{ticket['ref']}")
    page.wait_for_selector("main[data-ticket-usable]")
    macro = page.get_by_label("Macro", exact=True)
    macro.focus()
    page.locator("select[name=macro] option", has_text=name).wait_for(state="attached")
    macro.select_option(label=name)
    preview = page.locator(".macro-preview")
    preview.get_by_text(f"Hi Robin, what is the order number for {ticket['ref']}?").wait_for()
    assert "sets status Waiting on customer" in preview.inner_text() and "adds tags needs-info" in preview.inner_text()
    page.shot("macro-preview")
    preview.get_by_role("button", name="Apply macro").click()
    page.locator(".message.public .message-body", has_text=f"Hi Robin, what is the order number for {ticket['ref']}?").wait_for()
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Waiting on customer'")
    assert page.locator(".tag-list .tag", has_text="needs-info").count() == 1
    assert "applied" in page.inner_text("#status-line")


def test_drafts_survive_a_reload_and_a_newer_message_asks_before_sending(page, sign_in, workspace, make_ticket,
                                                                          admin_api, tokens, events_client):
    ticket = make_ticket(workspace.team_id, "Refund", "I want my money back.")
    _claim(admin_api, workspace, ticket)
    _open(page, sign_in, workspace, ticket)
    box = page.get_by_label("Public reply (sent to the customer)")
    box.fill("We will refund you today.")
    page.locator(".draft-note", has_text="Draft saved").wait_for()
    prevented = page.evaluate("() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; }")
    assert prevented  # leaving with unsent text asks first

    page.reload()
    page.wait_for_selector("main[data-ticket-usable]")
    assert page.problems.unload_prompts == 1  # the browser asked before leaving
    assert page.get_by_label("Public reply (sent to the customer)").input_value() == "We will refund you today."
    assert "Draft restored" in page.inner_text(".draft-note")

    # Another agent is writing, then answers: presence shows it, and sending asks first.
    tara = tokens["tara@example.com"]
    # Tara's page announces itself over push (the Event API), as web/js/presence.js does when connected.
    page.wait_for_selector("body[data-live='connected']")

    async def tara_replies(url: str) -> None:
        async with events_client(url, tara) as client:
            await client.publish(f"/tickets/{ticket['id']}", {"kind": "presence", "state": "replying"})

    events_client.run(tara_replies(admin_api.call("GET", "/live", token=tara)["realtime"]))
    page.locator(".presence", has_text="is writing a reply").wait_for(timeout=15_000)
    admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Refund already sent by Tara."}, token=tara)
    page.get_by_role("button", name="Send public reply").click()
    ask = page.locator(".newer-messages")
    ask.get_by_text("1 new message arrived after your draft began. Send anyway?").wait_for()
    assert "Refund already sent by Tara." in ask.inner_text()
    page.shot("newer-message-ask")
    ask.get_by_role("button", name="Review first").click()
    assert page.get_by_label("Public reply (sent to the customer)").input_value() == "We will refund you today."
    messages = admin_api.call("GET", f"/tickets/{ticket['id']}")["messages"]
    assert [m["body"] for m in messages].count("We will refund you today.") == 0  # nothing sent by accident

    # Having read it, the agent sends and resolves in one go; the draft is gone.
    page.get_by_role("button", name="Send and resolve").click()
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Resolved'")
    assert page.get_by_label("Public reply (sent to the customer)").input_value() == ""
    page.reload()
    page.wait_for_selector("main[data-ticket-usable]")
    assert page.get_by_label("Public reply (sent to the customer)").input_value() == ""


def test_keys_closed_warning_and_assignment_semantics(page, sign_in, workspace, make_ticket, admin_api):
    ticket = make_ticket(workspace.team_id, "Keyboard person", "Hello")
    _open(page, sign_in, workspace, ticket)
    assert page.inner_text("#ticket-status") == "New"
    # No "Mark assigned": assigned is entered by assigning, never by a bare status change.
    assert page.locator("button[data-status='assigned']").count() == 0

    page.locator("body").press("?")
    page.get_by_role("heading", name="Keyboard shortcuts").wait_for()
    page.keyboard.press("Escape")
    page.locator("body").press("n")
    assert page.evaluate("document.activeElement.name") == "body"
    assert "internal" in page.locator("form.composer").get_attribute("class")
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.locator("body").press("r")
    assert "internal" not in page.locator("form.composer").get_attribute("class")

    # A public reply on a ticket nobody owns assigns it to the replying agent.
    page.keyboard.type("On it.")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Assigned'")
    assert page.inner_text("#ticket-assignee") != "Unassigned"

    # Duplicate names the ticket it duplicates, from any open status.
    other = make_ticket(workspace.team_id, "The original", "First report")
    page.locator("button[data-status='duplicate']").click()
    page.get_by_label("Duplicate of ticket").fill(other["ref"])
    page.get_by_role("button", name="Confirm duplicate").click()
    page.wait_for_function("document.getElementById('ticket-status').textContent === 'Duplicate'")
    page.locator(".related [data-relation='duplicate_of'], .related li", has_text=other["ref"]).first.wait_for()

    # A closed ticket: a public reply says what the customer's answer will do.
    closed = make_ticket(workspace.team_id, "Old matter", "Long ago")
    _claim(admin_api, workspace, closed)
    admin_api.call("POST", f"/tickets/{closed['id']}/status", {"status": "resolved"})
    admin_api.call("POST", f"/tickets/{closed['id']}/status", {"status": "closed"})
    page.goto(f"/index.html#/ticket/{closed['ref']}")
    page.wait_for_selector("main[data-ticket-usable]")
    warning = page.locator(".warning-notice")
    assert warning.is_visible() and "is closed" in warning.inner_text() and "reopens it" in warning.inner_text()
    page.get_by_label("Internal note for agents").check()
    assert not warning.is_visible()


def test_merge_picker_previews_and_the_merged_ticket_says_where_it_went(page, sign_in, workspace, make_ticket,
                                                                       admin_api):
    email = f"mo.{uuid.uuid4().hex[:6]}@customer.test"
    keep = make_ticket(workspace.team_id, "Broken screen", "Cracked", requester_email=email)
    extra = make_ticket(workspace.team_id, "Broken screen again", "Still cracked", requester_email=email)
    page.confirm_answer = True
    _open(page, sign_in, workspace, extra)
    page.locator(f"datalist option[value='{keep['ref']}']").wait_for(state="attached")
    page.get_by_label("Merge into ticket").fill(keep["ref"])
    page.locator(".merge-preview", has_text=f"{keep['ref']}: Broken screen · New").wait_for()
    assert "same customer" in page.inner_text(".merge-preview")
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_function(f"document.querySelector('h1#page-title').textContent.startsWith('{keep['ref']}:')")
    assert f"{extra['ref']} was merged into {keep['ref']}" in page.inner_text("#status-line")
    page.locator(".related li", has_text=extra["ref"]).wait_for()

    # Opening the merged ticket's old reference lands on the ticket it went to, and says so by ref.
    page.goto(f"/index.html#/ticket/{extra['ref']}")
    page.wait_for_function(f"document.querySelector('h1#page-title').textContent.startsWith('{keep['ref']}:')")
    page.locator("#status-line", has_text=f"{extra['ref']} was merged into {keep['ref']}").wait_for()


def test_on_a_phone_the_actions_are_at_hand(page, sign_in, workspace, make_ticket, admin_api, a11y):
    ticket = make_ticket(workspace.team_id, "Phone view", "Long conversation")
    _claim(admin_api, workspace, ticket)
    for n in range(12):
        admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": f"Update {n}\n" * 6})
    page.set_viewport_size(PHONE)
    _open(page, sign_in, workspace, ticket)
    jumps = page.locator("nav.ticket-jumps")
    assert jumps.is_visible()
    page.shot("ticket-phone-top")
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(200)
    box = jumps.bounding_box()
    assert box and 0 <= box["y"] < PHONE["height"], "the section jumps stay on screen while scrolling"
    jumps.get_by_role("link", name="Status").click()
    focused = page.evaluate("document.activeElement.dataset.status || ''")
    assert focused, "the Status jump lands on the status buttons"
    jumps.get_by_role("link", name="Reply").click()
    assert page.evaluate("document.activeElement.name") == "body"
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
        .map((e) => e.tagName + '.' + e.className).slice(0, 5)""")
    assert not wide, f"no sideways scrolling; too wide: {wide}"
    page.shot("ticket-phone-reply")
    _assert_accessible(page, a11y, "ticket page on a phone")
    page.goto("/index.html#/macros")
    page.get_by_role("heading", name="New macro").wait_for()
    page.shot("macros-phone")


def test_a_long_conversation_shows_the_latest_and_earlier_ones_on_request(page, sign_in, workspace, make_ticket,
                                                                          admin_api):
    ticket = make_ticket(workspace.team_id, "Long story", "Message 0")
    _claim(admin_api, workspace, ticket)
    for n in range(1, 55):
        admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": f"Message {n}", "visibility": "internal"})
    _open(page, sign_in, workspace, ticket)
    assert page.locator(".conversation li.message").count() == 50
    page.get_by_text("5 earlier message(s) are not shown").wait_for()
    page.get_by_role("button", name="Show earlier messages").click()
    page.locator(".message-body", has_text="Message 0").wait_for()
    assert page.locator(".conversation li.message").count() == 55
    bodies = page.locator(".conversation li.message .message-body").all_inner_texts()
    assert bodies[:2] == ["Message 0", "Message 1"] and bodies[-1] == "Message 54"

"""The chat widget (web/chat/widget.js on web/chat/demo.html) against the real local stack: a
customer opens the chat with the keyboard, starts a conversation, sends a message; an agent
replies through the API; the reply appears in the widget's live log; internal notes never do."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_customer_chats_and_sees_the_agent_reply(page, admin_api, workspace, http, a11y):
    page.goto("/chat/demo.html")
    launcher = page.get_by_role("button", name="Chat with support")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Your name")).to_be_focused()
    assert a11y.unlabelled(page) == []
    page.get_by_label("Your name").fill("Lin Widget")
    page.get_by_label("Email (optional, for the transcript)").fill("lin.widget@example.org")
    page.get_by_label("How can we help?").fill("My parcel never arrived")
    page.get_by_role("button", name="Start chat").click()

    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_contain_text("My parcel never arrived")
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"TKT-\d+"))
    ref = re.search(r"TKT-\d+", status.inner_text()).group(0)

    box = page.get_by_label("Your message")
    expect(box).to_be_focused()
    box.fill("Order 1234, sent last week")
    box.press("Enter")  # Enter sends
    expect(log).to_contain_text("Order 1234, sent last week")
    page.shot("customer-wrote")

    admin_api.call("POST", f"/tickets/{ref}/messages", {"body": "checking the carrier", "visibility": "internal"}, expect=201)
    admin_api.call("POST", f"/tickets/{ref}/messages", {"body": "It is at the depot; delivery tomorrow."}, expect=201)
    # The widget polls every few seconds: the reply shows up without any action.
    expect(log).to_contain_text("It is at the depot; delivery tomorrow.", timeout=10_000)
    expect(log).not_to_contain_text("checking the carrier")
    assert log.locator("li").count() == 3
    page.shot("agent-replied")
    assert a11y.unlabelled(page) == []
    contrast = a11y.contrast(page)
    assert contrast["checked"] > 5 and contrast["failures"] == [], contrast

    ticket = admin_api.call("GET", f"/tickets/{ref}")
    assert ticket["channel"] == "chat"

    page.get_by_role("button", name="End chat").click()
    expect(status).to_contain_text("transcript")
    page.keyboard.press("Escape")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()

"""The agent attaches files to a reply in a real browser against the local stack: each chosen file is
uploaded (presigned S3 POST) and shown as a removable chip; the sent reply lists it as a link."""
from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.slow

ATTACH_LABEL = "Attach files (up to 10, 10 MB each)"


def test_reply_with_an_attached_file_shows_its_link(page, sign_in, workspace, make_ticket, admin_api):
    word = f"lynx{uuid.uuid4().hex[:6]}"
    ticket = make_ticket(workspace.team_id, f"Need the manual {word}", "Could you send me the manual?")
    sign_in(page, workspace.agent_email, f"#/ticket/{ticket['ref']}")
    page.wait_for_selector(f"article.ticket[data-ticket-id='{ticket['id']}']")

    files = page.get_by_label(ATTACH_LABEL)
    files.set_input_files([{"name": "manual v2.txt", "mimeType": "text/plain", "buffer": b"Step 1: plug it in.\n"},
                           {"name": "wrong.txt", "mimeType": "text/plain", "buffer": b"not this one\n"}])
    chips = page.locator("ul.reply-files li")
    page.wait_for_function("document.querySelectorAll('ul.reply-files li[data-state=\"ready\"]').length === 2")
    page.shot("two-files-attached")

    # Removing one by keyboard: its button is named after the file.
    page.get_by_role("button", name="Remove wrong.txt").focus()
    page.keyboard.press("Enter")
    assert chips.count() == 1 and "manual v2.txt" in chips.first.inner_text()

    page.get_by_label("Public reply (sent to the customer)").fill(f"Here is the manual {word}")
    page.get_by_role("button", name="Send public reply").click()
    message = page.locator(".message.public", has_text=f"Here is the manual {word}")
    message.locator(".attachments li", has_text="manual v2.txt").wait_for()
    assert page.locator("ul.reply-files li").count() == 0  # the composer is empty again
    page.shot("reply-with-file")

    stored = admin_api.call("GET", f"/tickets/{ticket['id']}")
    [reply] = [m for m in stored["messages"] if m["body"] == f"Here is the manual {word}"]
    assert [(a["filename"], a["size"], a["source"]) for a in reply["attachments"]] == [
        ("manual v2.txt", len(b"Step 1: plug it in.\n"), "agent_upload")]
    assert not page.problems.dialogs

"""GET /tickets/{ref}/messages/{id}: a message in full (views cut bodies at 2,000 characters), with the
quoted/forwarded part and the sanitized HTML."""
from __future__ import annotations

from email.message import EmailMessage

from helpdesk.auth.signing import Keyring
from helpdesk.events.publisher import DeferredPublisher
from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.blobs import MemoryBlobStore


def _forwarded_order(long_text: str) -> bytes:
    order = EmailMessage()
    order["From"] = "shop@store.test"
    order["Subject"] = "Your order 4711"
    order.set_content("Order 4711 confirmed: 3 x blue widget, total 42.00 EUR")
    mail = EmailMessage()
    mail["From"] = "Alice <alice@customer.test>"
    mail["To"] = "support@helpdesk.test"
    mail["Subject"] = "Wrong items"
    mail["Message-ID"] = "<fw1@customer.test>"
    mail["In-Reply-To"] = "<first@customer.test>"  # a reply: its new text is the body, the rest is quoted
    mail.set_content(long_text + "\n\nOn Mon, Support <support@helpdesk.test> wrote:\n> earlier answer\n")
    mail.add_alternative(f"<p>{long_text}</p><script>alert(1)</script>", subtype="html")
    mail.add_attachment(order)
    return mail.as_bytes()


def test_the_whole_message_is_readable(agent, db, clock):
    client, _ = agent
    long_text = "ünïcödé line of the complaint. " * 600  # 18,600 characters: several slices
    intake = EmailIntake(db, clock, DeferredPublisher(), MemoryBlobStore(), signing_keys=Keyring.single("k"),
                         support_domains={"helpdesk.test"})
    first = (b"From: alice@customer.test\r\nTo: support@helpdesk.test\r\nSubject: Wrong items\r\n"
             b"Message-ID: <first@customer.test>\r\n\r\nThe order is wrong.\r\n")
    intake.receive(first, envelope_recipients=[], raw_key="k0")
    created = intake.receive(_forwarded_order(long_text), envelope_recipients=[], raw_key="k")
    assert created.action == "threaded"
    listed = client.get(f"/api/v1/tickets/{created.ticket_id}/messages").body["items"][0]
    assert listed["body_truncated"] and len(listed["body"]) == 2000

    db.stats.calls = 0
    full = client.get(f"/api/v1/tickets/{created.ticket_id}/messages/{listed['id']}")
    assert full.status == 200, full.body
    assert full.body["body"].strip() == long_text.strip()
    assert "Order 4711 confirmed" in full.body["body_full"] and "earlier answer" in full.body["quoted"]
    assert "Order 4711 confirmed" in full.body["quoted"] and "line of the complaint" not in full.body["quoted"]
    assert "<script" not in full.body["body_html"] and long_text.strip()[:50] in full.body["body_html"]
    assert full.body["forwarded"][0]["subject"] == "Your order 4711"
    assert db.stats.calls <= 1 + 1 + 3 + 2 + 2  # principal, the read, then 15,000-character slices per long text


def test_a_message_not_on_the_ticket_is_404_and_a_bad_id_400(agent, create):
    client, _ = agent
    ticket = create(client)
    other = create(client)
    message_id = client.get(f"/api/v1/tickets/{other['id']}/messages").body["items"][0]["id"]
    assert client.get(f"/api/v1/tickets/{ticket['id']}/messages/{message_id}").status == 404
    assert client.get(f"/api/v1/tickets/{other['id']}/messages/{message_id}").body["body"] == "It is really on fire."
    assert client.get(f"/api/v1/tickets/{ticket['id']}/messages/not-a-uuid").status in (400, 422)
    assert client.get("/api/v1/tickets/TKT-999/messages/" + message_id).status == 404


def test_the_portal_shows_a_public_message_in_full_and_never_an_internal_one(api, agent, db, clock):
    from helpdesk.auth.portal import sign_portal_token
    from helpdesk.config import get_settings

    client, _ = agent
    api.post("/api/v1/public/tickets", {"requester_email": "dana@customer.test", "subject": "Where is it",
                                        "body": "Ordered last week, nothing yet."})
    ticket_id = db.query_one("SELECT id FROM tickets")["id"]
    long_answer = "Here is everything we found. " * 300  # 8,700 characters: past the 2,000 of the ticket view
    client.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": long_answer, "visibility": "public"})
    client.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "INTERNAL: grumpy", "visibility": "internal"})
    ids = {m["body"][:8]: m["id"] for m in client.get(f"/api/v1/tickets/{ticket_id}/messages").body["items"]}
    token = sign_portal_token(ticket_id, get_settings().signing_keys, clock.now())  # as the mails carry it
    view = api.get(f"/api/v1/portal/{token}").body
    answer = next(m for m in view["messages"] if m["body"].startswith("Here is"))
    assert answer["body_truncated"]
    full = api.get(f"/api/v1/portal/{token}/messages/{answer['id']}")
    assert full.status == 200 and full.body["body"] == long_answer
    assert "author_agent_id" not in full.body and "inbound_message_id" not in full.body
    assert api.get(f"/api/v1/portal/{token}/messages/{ids['INTERNAL']}").status == 404
    foreign = sign_portal_token(ticket_id, Keyring.single("someone-elses-key"), clock.now())
    assert api.get(f"/api/v1/portal/{foreign}/messages/{answer['id']}").status == 403  # a link we did not sign

"""Mail templates per team and agents' signatures: the admin API's rules, and the outbound sender
using them (acknowledgement, reply footer, signature, solved mail) with placeholders escaped in HTML."""
from __future__ import annotations

import dataclasses
import uuid
from email import message_from_bytes, policy
from typing import Any

import pytest

from helpdesk.config import get_settings
from helpdesk.outbound.email import OutboundEmail
from tests.integration.mail_world import DOMAIN, REGION, aws  # noqa: F401 (fixture)

KINDS = ["acknowledgement", "reply_footer", "solved", "csat"]


def sent_mails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [message_from_bytes(m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data, policy=policy.default)
            for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


@pytest.fixture
def sender(db, clock, aws):  # noqa: F811
    settings = dataclasses.replace(get_settings(), support_domain=DOMAIN, region=REGION, ses_configuration_set="")
    return OutboundEmail(db, aws["ses"], settings, clock)


def _queued(rows: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["event_type"] == event_type][-1:]
    return {"id": str(row["id"]), "type": row["event_type"], "ticket_id": str(row["ticket_id"]),
            "occurred_at": str(row["occurred_at"]), "payload": row["payload"]}


def test_a_team_lists_every_kind_with_the_default_until_it_writes_its_own(admin, make_team, db):
    client, admin_id = admin
    team = make_team("billing")
    listed = client.get(f"/api/v1/teams/{team}/mail-templates")
    assert listed.status == 200 and [t["kind"] for t in listed.body["items"]] == KINDS
    assert all(t["is_default"] for t in listed.body["items"])
    csat = listed.body["items"][3]
    assert "rating_good_url" in csat["placeholders"] and "{{rating_good_url}}" in csat["body_text"]

    put = client.put(f"/api/v1/teams/{team}/mail-templates/acknowledgement",
                     {"subject": "We got it: {{ticket_subject}}", "body_text": "Hi {{customer_name}}, {{ticket_ref}} is open.",
                      "body_html": "<p>Hi <b>{{ customer_name }}</b>, {{ticket_ref}} is open.</p>"})
    assert put.status == 200, put.body
    assert put.body["is_default"] is False and put.body["updated_by"] == str(admin_id)
    assert client.get(f"/api/v1/teams/{team}/mail-templates").body["items"][0]["subject"] == "We got it: {{ticket_subject}}"
    assert client.delete(f"/api/v1/teams/{team}/mail-templates/acknowledgement").status == 204
    assert client.get(f"/api/v1/teams/{team}/mail-templates").body["items"][0]["is_default"] is True
    assert client.delete(f"/api/v1/teams/{team}/mail-templates/acknowledgement").status == 404


@pytest.mark.parametrize("kind, body, says", [
    ("solved", {"body_text": "Hello {{nmae}}"}, "unknown placeholder '{{nmae}}'"),
    ("acknowledgement", {"body_text": "{{rating_good_url}}"}, "allows {{ticket_ref}}"),
    ("reply_footer", {"body_text": "x", "subject": "no"}, "only the acknowledgement and solved templates have a subject"),
    ("csat", {"body_text": "x", "body_html": "<a href='{{ rating_good_url }'>"}, "unknown placeholder"),
    ("solved", {"body_text": ""}, "body_text"),
    ("solved", {"body_text": "x", "subject": "two\nlines"}, "one line"),
    ("solved", {"body_text": "x", "colour": "red"}, "colour"),
])
def test_a_template_a_mail_could_not_render_is_refused(admin, make_team, db, kind, body, says):
    client, _ = admin
    team = make_team("billing")
    answer = client.put(f"/api/v1/teams/{team}/mail-templates/{kind}", body)
    assert answer.status == 422 and says in str(answer.body), answer.body
    assert db.query_one("SELECT count(*) AS n FROM mail_templates")["n"] == 0


def test_who_may_change_templates_and_signatures(api, admin, agent, make_team, make_agent, db):
    admin_client, _ = admin
    client, agent_id = agent
    team = make_team("billing")
    assert client.put(f"/api/v1/teams/{team}/mail-templates/solved", {"body_text": "x"}).status == 403
    assert client.get(f"/api/v1/teams/{team}/mail-templates").status == 403  # leads and admins read them
    assert admin_client.put(f"/api/v1/teams/{uuid.uuid4()}/mail-templates/solved", {"body_text": "x"}).status == 404
    assert admin_client.put(f"/api/v1/teams/{team}/mail-templates/greeting", {"body_text": "x"}).status == 422

    other, _ = make_agent("bob")
    assert client.put(f"/api/v1/agents/{agent_id}/signature", {"body_text": "Alice\nBilling team"}).status == 200
    assert client.put(f"/api/v1/agents/{other}/signature", {"body_text": "Not Bob"}).status == 403
    assert admin_client.put(f"/api/v1/agents/{other}/signature", {"body_text": "Bob"}).status == 200
    assert client.get(f"/api/v1/agents/{agent_id}/signature").body["body_text"] == "Alice\nBilling team"
    assert client.put(f"/api/v1/agents/{agent_id}/signature", {"body_text": "   "}).status == 422
    assert client.delete(f"/api/v1/agents/{agent_id}/signature").status == 204
    assert client.get(f"/api/v1/agents/{agent_id}/signature").body["body_text"] is None
    assert admin_client.put(f"/api/v1/agents/{uuid.uuid4()}/signature", {"body_text": "x"}).status == 404


def test_the_sender_uses_the_teams_templates_and_the_agents_signature(api, admin, agent, make_team, db, sender,
                                                                      publisher):
    admin_client, _ = admin
    client, agent_id = agent
    team = make_team("billing")
    db.execute("UPDATE teams SET is_default = (id = :id::uuid)", {"id": str(team)})  # the web form's tickets go here
    hostile = '<script>alert(1)</script> "Eve" & co'
    for kind, body in {
        "acknowledgement": {"subject": "Received: {{ticket_subject}}", "body_text": "Dear {{customer_name}}, got {{ticket_ref}}.",
                            "body_html": '<p class="ack">Dear {{customer_name}}, got {{ticket_ref}}.</p>'},
        "reply_footer": {"body_text": "\n\n--\nBilling team. Your request online: {{portal_url}}"},
        "solved": {"subject": "Solved: {{ticket_subject}}", "body_text": "{{agent_name}} solved {{ticket_ref}}.",
                   "body_html": "<p>{{agent_name}} solved <i>{{ticket_ref}}</i>.</p>"},
    }.items():
        assert admin_client.put(f"/api/v1/teams/{team}/mail-templates/{kind}", body).status == 200
    assert client.put(f"/api/v1/agents/{agent_id}/signature", {"body_text": "Alice <alice@billing>"}).status == 200

    form = api.post("/api/v1/public/tickets", {"requester_email": "eve@customer.test", "requester_name": hostile,
                                               "subject": "Invoice <b>wrong</b>", "body": "Please fix."})
    assert form.status == 201, form.body
    ticket_id = str(db.query_one("SELECT id FROM tickets")["id"])
    db.stats.calls = 0
    assert sender.send(_queued(publisher.published, "ticket.created")).action == "sent"
    assert db.stats.calls == 2  # as before templates: the claim reads them
    ack = sent_mails()[-1]
    assert ack["Subject"] == "Re: [TKT-1] Received: Invoice <b>wrong</b>"
    text = ack.get_body(("plain",)).get_content()
    assert text.startswith(f"Dear {hostile}, got TKT-1.") and "Billing team. Your request online: http" in text
    html = ack.get_body(("html",)).get_content()
    assert '<p class="ack">Dear &lt;script&gt;alert(1)&lt;/script&gt; &quot;Eve&quot; &amp; co, got TKT-1.</p>' in html
    assert "<script" not in html and "Billing team. Your request online:" in html

    assert client.post(f"/api/v1/tickets/{ticket_id}/assign", {"agent_id": str(agent_id)}).status == 200
    reply = client.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "Fixed the invoice."})
    assert reply.status == 201
    db.stats.calls = 0
    assert sender.send(_queued(publisher.published, "outbound.requested")).action == "sent"
    assert db.stats.calls == 2
    text = sent_mails()[-1].get_body(("plain",)).get_content()
    assert text.startswith("Fixed the invoice.\n\n-- \nAlice <alice@billing>\n\n--\nBilling team. Your request online: ")
    assert "&lt;alice@billing&gt;" in sent_mails()[-1].get_body(("html",)).get_content()

    for status in ("in_progress", "resolved"):
        assert client.post(f"/api/v1/tickets/{ticket_id}/status", {"status": status}).status == 200
    assert sender.send(_queued(publisher.published, "ticket.status_changed")).action == "sent"
    solved = sent_mails()[-1]
    assert solved["Subject"] == "Re: [TKT-1] Solved: Invoice <b>wrong</b>"
    text = solved.get_body(("plain",)).get_content()
    name = db.query_one("SELECT name FROM agents WHERE id = :id::uuid", {"id": str(agent_id)})["name"]
    assert text.startswith(f"{name} solved TKT-1.")  # the agent who solved it
    assert "satisfaction.html?answer=good#" in text  # the default survey follows the team's words
    html = solved.get_body(("html",)).get_content()
    assert "solved <i>TKT-1</i>." in html and "Good, I'm satisfied" in html


def test_without_templates_the_mails_say_what_they_always_said(api, agent, db, sender, publisher):
    form = api.post("/api/v1/public/tickets", {"requester_email": "dan@customer.test", "subject": "Hello",
                                               "body": "Hi."})
    assert form.status == 201
    assert sender.send(_queued(publisher.published, "ticket.created")).action == "sent"
    text = sent_mails()[-1].get_body(("plain",)).get_content()
    assert text.startswith("We received your request and opened ticket TKT-1: Hello\n\nReply to this email")
    assert "\n\n--\nFollow this request and answer it online: http" in text

"""The whole path: S3 raw mail + S3 event on SQS -> functions/inbound_email -> tickets; agent reply
-> outbound.requested -> functions/outbound -> moto SES; the customer's replies thread back."""
from __future__ import annotations

import json
import uuid
from email import message_from_bytes, policy

import boto3
import pytest
from moto import mock_aws

from helpdesk.config import Settings
from helpdesk.events.schemas import Event
from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.blobs import S3BlobStore
from helpdesk.auth.portal import portal_url, sign_portal_token
from helpdesk.outbound.email import OutboundEmail, portal_footer
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from local.functions import LambdaContext

from .conftest import ATT, DOMAIN, RAW, REGION, SES_AUTHENTICATED, SIGNING_KEYS, mail


@pytest.fixture
def outbound(aws, db, clock, settings, monkeypatch):
    from functions.outbound import handler as module

    sender = OutboundEmail(db, aws["ses"], settings, clock)
    monkeypatch.setattr(module, "email_sender", lambda: sender)

    def run(events: list[dict]) -> dict:
        records = [{"messageId": str(uuid.uuid4()), "receiptHandle": "r",
                    "body": json.dumps({"Type": "Notification", "Message": Event.from_outbox_row(e).to_json()}),
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:outbound", "awsRegion": REGION}
                   for e in events]
        return module.handler({"Records": records}, LambdaContext(function_name="test"))

    return run




def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def _tickets(db):
    return db.query("SELECT id, number, subject FROM tickets ORDER BY number")


def _agent(db) -> uuid.UUID:
    return uuid.UUID(db.query_one("INSERT INTO agents (email, name) VALUES ('agent@helpdesk.test', 'Agent') RETURNING id")["id"])


def test_inbound_handler_processes_s3_events_and_redelivery(db, inbound, aws):
    result = inbound(mail(), key="inbound/a")
    assert result == {"batchItemFailures": []}
    again = inbound(mail(), key="inbound/a")
    assert again == {"batchItemFailures": []}
    assert len(_tickets(db)) == 1


def test_missing_object_fails_only_that_record(db, inbound, aws):
    from functions.inbound_email import handler as module

    aws["s3"].put_object(Bucket=RAW, Key="inbound/ok", Body=mail())
    bodies = [{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": RAW}, "object": {"key": k}}}]}
              for k in ("inbound/ok", "inbound/missing")]
    event = {"Records": [{"messageId": f"id{i}", "receiptHandle": "r", "body": json.dumps(b), "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:1:inbound", "awsRegion": REGION}
                         for i, b in enumerate(bodies)]}
    result = module.handler(event, LambdaContext(function_name="test"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "id1"}]}
    assert len(_tickets(db)) == 1


def test_ses_setup_notification_object_is_not_a_mail(db, inbound, aws):
    setup_text = b"This is an automated notification from Amazon SES: your receipt rule can write to this bucket."
    result = inbound(setup_text, key="raw/AMAZON_SES_SETUP_NOTIFICATION")
    assert result == {"batchItemFailures": []}
    assert _tickets(db) == []
    assert db.query("SELECT id FROM email_quarantine") == []


def test_corpora_attachments_land_in_s3(db, inbound, aws, corpora):
    raw = (corpora / "zammad_mail" / "test/data/mail/mail079.box").read_bytes()
    inbound(raw)
    [row] = db.query("SELECT sha256, s3_key, content_id, inline FROM attachments")
    assert row["content_id"] == "5EF92182-3261-44C7-9835-E8A922AB4976@openvpn" and row["inline"] is True
    body = aws["s3"].get_object(Bucket=ATT, Key=row["s3_key"])["Body"].read()
    import hashlib
    assert hashlib.sha256(body).hexdigest() == row["sha256"] == \
        "123653e8976f0ded1954ea710a3e835daaa73ef4cb65c46ed501bc528edfa325"


def test_round_trip(db, clock, inbound, outbound, aws):
    inbound(mail(frm="carol@customer.test", message_id="<first@customer.test>", subject="Invoice wrong"))
    [ticket] = _tickets(db)
    agent = _agent(db)
    cmds = TicketCommands(db, clock)
    reply = cmds.add_message(ticket["id"], {"body": "We fixed it.", "visibility": "public", "author_type": "agent",
                                             "author_agent_id": agent}, Actor(type="agent", id=agent))
    note = cmds.add_message(ticket["id"], {"body": "internal: customer is VIP", "visibility": "internal",
                                            "author_type": "agent", "author_agent_id": agent}, Actor(type="agent", id=agent))
    requested = [e for e in reply.events if e["event_type"] == "outbound.requested"]
    assert requested and not [e for e in note.events if e["event_type"] == "outbound.requested"]
    before = len(sent_messages())
    # the same event twice, plus the internal note's ticket.replied: one mail only
    assert outbound(requested + requested + [e for e in note.events if e["event_type"] == "ticket.replied"]) == \
        {"batchItemFailures": []}
    sent = sent_messages()[before:]
    assert len(sent) == 1
    out = message_from_bytes(sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data,
                             policy=policy.default)
    assert "internal" not in out.get_body(("plain",)).get_content()
    assert out["X-Helpdesk-Loop"] and f"[TKT-{ticket['number']}]" in out["Subject"]
    assert out["In-Reply-To"] == "<first@customer.test>"
    assert out["From"].addresses[0].addr_spec == f"support@{DOMAIN}"
    token_address = out["Reply-To"].addresses[0].addr_spec
    generated = out["Message-ID"].strip("<>")
    ses_row = db.query_one("SELECT message_id FROM email_message_ids WHERE kind = 'ses'")
    assert ses_row["message_id"].endswith(f"@{REGION}.amazonses.com")
    # our own mail coming back (a forwarding loop) is dropped
    inbound(sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data)
    assert len(_tickets(db)) == 1

    tag = f"Re: [TKT-{ticket['number']}] Invoice wrong"
    replies = {
        "in_reply_to": mail(frm="carol@customer.test", message_id="<r1@c>", subject="Re: Invoice",
                            headers={"In-Reply-To": f"<{ses_row['message_id']}>"}),
        "references": mail(frm="carol@customer.test", message_id="<r2@c>", subject="Re: Invoice",
                           headers={"References": f"<{generated}>"}),
        "subject_tag": mail(frm="carol@customer.test", message_id="<r3@c>", subject=tag, headers=SES_AUTHENTICATED),
        "token": mail(frm="carol@other-address.test", message_id="<r4@c>", subject="hello", to=token_address),
    }
    for name, raw in replies.items():
        recipients = [token_address] if name == "token" else None
        assert inbound(raw, recipients) == {"batchItemFailures": []}, name
        assert len(_tickets(db)) == 1, name
    count = db.query_one("SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = :t::uuid AND author_type = 'customer'",
                         {"t": ticket["id"]})["n"]
    assert count == 5
    # a stranger copying the tag gets a ticket of their own
    inbound(mail(frm="eve@stranger.test", message_id="<s1@x>", subject=tag))
    assert len(_tickets(db)) == 2


# -- generated and mutated mail: never crashes the batch, never lost ----------------------------
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

_SEED = mail(subject="=?utf-8?q?Caf=C3=A9?= [TKT-1]", body="Hello\r\n\r\nOn Mon, X wrote:\r\n> old",
             headers={"In-Reply-To": "<nothing@x>", "References": "<a@b> <c@d>"})
_MIME = st.builds(
    lambda subject, body, frm, extra: mail(frm=frm, subject=subject, body=body, message_id=None, headers=extra),
    st.text(max_size=80).map(lambda s: s.replace("\r", " ").replace("\n", " ")),
    st.text(max_size=400),
    st.sampled_from(["a@customer.test", "MAILER-DAEMON@x.test", "", "not-an-address", "b@helpdesk.test"]),
    st.dictionaries(st.sampled_from(["Auto-Submitted", "Precedence", "X-SES-Spam-Verdict", "Content-Type",
                                     "Content-Transfer-Encoding", "Return-Path", "X-Helpdesk-Loop"]),
                    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40), max_size=3))


def _mutate(raw: bytes, edits: list[tuple[int, bytes, int]]) -> bytes:
    data = bytearray(raw)
    for position, insert, delete in edits:
        position %= max(1, len(data))
        data[position:position + delete] = insert
    return bytes(data)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.one_of(_MIME, st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=6), st.integers(0, 6)),
                                          max_size=5).map(lambda e: _mutate(_SEED, e))), min_size=1, max_size=3))
def test_generated_mail_never_fails_the_batch_and_is_kept(db, inbound, raws):
    from functions.inbound_email import handler as module

    for raw in raws:
        key = f"inbound/h-{uuid.uuid4().hex}"
        result = inbound(raw, key=key)
        assert result == {"batchItemFailures": []}
        outcome = module.intake().receive(raw, envelope_recipients=[], raw_key=key)  # redelivery: same answer, no-op
        assert outcome.action in ("duplicate", "dropped"), outcome
        if outcome.action == "duplicate":
            kept = db.query_one(
                "SELECT (SELECT count(*) FROM ticket_messages WHERE inbound_message_id = :m)"
                " + (SELECT count(*) FROM email_quarantine WHERE message_id = :m) AS n", {"m": outcome.message_id})
            assert kept["n"] == 1, outcome


def _portal_link(settings, clock, ticket_id) -> str:
    """The link our mails end with (signed now: the test clock does not move while it sends)."""
    return portal_url(settings.web_base_url, sign_portal_token(ticket_id, settings.signing_keys, clock.now()))


def _created_events(db):
    return [dict(r) for r in db.query("SELECT id, event_type, schema_version, ticket_id, payload, occurred_at "
                                      "FROM outbox WHERE event_type = 'ticket.created' ORDER BY seq")]


def test_acknowledgement_once_per_ticket_and_rate_limited(db, clock, inbound, outbound, settings):
    from helpdesk.outbound.email import ACK_LIMIT

    for i in range(ACK_LIMIT + 1):
        inbound(mail(frm="dan@customer.test", message_id=f"<d{i}@c>", subject=f"Issue {i}"))
    inbound(mail(frm="ooo@customer.test", message_id="<o@c>", headers={"Auto-Submitted": "auto-replied"}))
    created = _created_events(db)
    assert len(created) == ACK_LIMIT + 1  # the auto-reply opened no ticket, so it gets no ack
    before = len(sent_messages())
    assert outbound(created + created[:1]) == {"batchItemFailures": []}
    acks = sent_messages()[before:]
    assert len(acks) == ACK_LIMIT  # one per ticket, the redelivered event adds none, the 4th is rate-limited
    first = message_from_bytes(acks[0].raw_data.encode() if isinstance(acks[0].raw_data, str) else acks[0].raw_data,
                               policy=policy.default)
    assert first["Auto-Submitted"] == "auto-replied" and first["In-Reply-To"] == "<d0@c>"
    first_ticket = db.query_one("SELECT id FROM tickets WHERE number = 1")["id"]
    assert _portal_link(settings, clock, first_ticket) in first.get_body(("plain",)).get_content()
    # the customer's auto-responder answering our ack: a system event, never a ticket or a reopen
    tickets = len(_tickets(db))
    inbound(mail(frm="dan@customer.test", message_id="<away@c>", subject="Out of office",
                 headers={"Auto-Submitted": "auto-replied", "In-Reply-To": first["Message-ID"]}))
    assert len(_tickets(db)) == tickets


def test_long_multibyte_reply_is_sent_whole(db, clock, inbound, outbound, settings):
    inbound(mail(frm="long@customer.test", message_id="<long@c>"))
    [ticket] = _tickets(db)
    agent = _agent(db)
    body = ("Grüße 😀 " * 12_500)[:99_000]
    reply = TicketCommands(db, clock).add_message(ticket["id"], {"body": body, "visibility": "public",
                                                                  "author_type": "agent", "author_agent_id": agent},
                                                   Actor(type="agent", id=agent))
    before = len(sent_messages())
    assert outbound([e for e in reply.events if e["event_type"] == "outbound.requested"]) == {"batchItemFailures": []}
    [sent] = sent_messages()[before:]
    raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
    text = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    url = _portal_link(settings, clock, ticket["id"])
    assert text.rstrip("\n") == body + portal_footer(url)  # the whole reply, then the customer's portal link


def test_bounce_of_our_reply_is_a_system_event_on_the_ticket(db, clock, inbound, outbound):
    inbound(mail(frm="gone@customer.test", message_id="<g1@c>", subject="Where"))
    [ticket] = _tickets(db)
    agent = _agent(db)
    reply = TicketCommands(db, clock).add_message(ticket["id"], {"body": "Answer", "visibility": "public",
                                                                  "author_type": "agent", "author_agent_id": agent},
                                                   Actor(type="agent", id=agent))
    before = len(sent_messages())
    outbound([e for e in reply.events if e["event_type"] == "outbound.requested"])
    [sent] = sent_messages()[before:]
    ses_id = db.query_one("SELECT message_id FROM email_message_ids WHERE kind = 'ses'")["message_id"]
    status_before = db.query_one("SELECT status FROM tickets")["status"]
    dsn = (f"From: MAILER-DAEMON@mx.customer.test\r\nTo: support@{DOMAIN}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
           "Message-ID: <dsn1@mx>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n"
           "--R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
           "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n"
           "Final-Recipient: rfc822; gone@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
           f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@{DOMAIN}\r\nMessage-ID: <{ses_id}>\r\n"
           "Subject: Re: [TKT-1] Where\r\n\r\n--R--\r\n").encode()
    assert inbound(dsn) == {"batchItemFailures": []}
    assert len(_tickets(db)) == 1
    last = db.query_one("SELECT author_type, visibility, body FROM ticket_messages ORDER BY position DESC LIMIT 1")
    assert last["author_type"] == "system" and last["visibility"] == "internal"
    assert "gone@customer.test: failed 5.1.1" in last["body"]
    assert db.query_one("SELECT status FROM tickets")["status"] == status_before


def test_configuration_set_and_send_lease(db, clock, aws, settings, inbound):
    from dataclasses import replace

    from helpdesk import errors

    aws["ses"].create_configuration_set(ConfigurationSet={"Name": "helpdesk"})
    sender = OutboundEmail(db, aws["ses"], replace(settings, ses_configuration_set="helpdesk"), clock)
    inbound(mail(frm="cfg@customer.test", message_id="<cfg@c>"))
    [ticket] = _tickets(db)
    agent = _agent(db)
    reply = TicketCommands(db, clock).add_message(ticket["id"], {"body": "ok", "visibility": "public",
                                                                  "author_type": "agent", "author_agent_id": agent},
                                                   Actor(type="agent", id=agent))
    [event] = [e for e in reply.events if e["event_type"] == "outbound.requested"]
    # an attempt that died after claiming: the event is retried (Conflict) until the lease passes
    db.execute("INSERT INTO email_outbound (ticket_message_id, ticket_id, event_id, state, generated_message_id, "
               "recipient, claimed_at) VALUES (:m::uuid, :t::uuid, :e::uuid, 'sending', :g, 'cfg@customer.test', "
               ":at::timestamptz)", {"m": event["payload"]["message_id"], "t": ticket["id"], "e": event["id"],
                                     "g": f"msg-{event['payload']['message_id']}@{DOMAIN}", "at": clock.now()})
    with pytest.raises(errors.Conflict):
        sender.send(Event.from_outbox_row(event))
    from datetime import timedelta

    from helpdesk.clock import FixedClock
    sender.clock = FixedClock(clock.now() + timedelta(minutes=3))
    assert sender.send(Event.from_outbox_row(event)).action == "sent"
    assert sender.send(Event.from_outbox_row(event)).action == "already_sent"


def test_the_web_forms_confirmation_mail_is_sent_with_the_portal_link(db, clock, outbound, aws, settings):
    from helpdesk.events.publisher import DeferredPublisher
    from helpdesk.routing.intake import open_ticket
    from helpdesk.tickets.models import NewTicket

    result = open_ticket(db, clock, DeferredPublisher(), NewTicket(
        channel="web", subject="Cannot log in", body="Since this morning.", requester_email="erin@customer.test"),
        actor=Actor(type="customer"), idempotency_scope="web:erin@customer.test")
    before = len(sent_messages())
    assert outbound(_created_events(db)) == {"batchItemFailures": []}
    [ack] = sent_messages()[before:]
    raw = ack.raw_data.encode() if isinstance(ack.raw_data, str) else ack.raw_data
    sent = message_from_bytes(raw, policy=policy.default)
    assert sent["To"] == "erin@customer.test" and "[TKT-1]" in sent["Subject"]
    text = sent.get_body(("plain",)).get_content()
    assert "opened ticket TKT-1" in text and _portal_link(settings, clock, result.ticket.id) in text

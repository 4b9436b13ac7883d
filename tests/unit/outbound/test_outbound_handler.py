"""functions/outbound dispatch: Slack events go to helpdesk.outbound.slack, chat is skipped, the rest
to the email sender; a failing record fails alone."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from functions.outbound import handler as module
from local.functions import LambdaContext




def _record(channel: str, *, body: str | None = None) -> dict:
    event = {"id": str(uuid.uuid4()), "type": "outbound.requested", "version": 1, "ticket_id": str(uuid.uuid4()),
             "occurred_at": datetime(2026, 3, 2, tzinfo=timezone.utc).isoformat(),
             "payload": {"message_id": str(uuid.uuid4()), "channel": channel, "number": 1}}
    return {"messageId": channel, "receiptHandle": "r", "body": body or json.dumps(event), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:1:outbound", "awsRegion": "us-east-1"}


def test_dispatch_by_channel(monkeypatch):
    calls = []

    class FakeEmail:
        def send(self, event):
            calls.append(("email", event.payload.channel))
            from helpdesk.outbound.email import SendOutcome
            return SendOutcome("sent")

    monkeypatch.setattr(module, "email_sender", lambda: FakeEmail())
    monkeypatch.setattr(module, "send_slack", lambda event: calls.append(("slack", event.payload.channel)) or {})
    records = [_record("email"), _record("slack"), _record("chat"), _record("web"), _record("bad", body="not json")]
    result = module.handler({"Records": records}, LambdaContext(function_name="outbound"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert calls == [("email", "email"), ("slack", "slack"), ("email", "web")]


def test_the_acknowledgement_of_a_new_ticket_goes_by_mail_whatever_the_channel():
    from helpdesk.events.schemas import parse_event
    from helpdesk.outbound import dispatch
    from helpdesk.outbound.email import SendOutcome

    sent = []

    class FakeEmail:
        def send(self, event):
            sent.append(event.type)
            return SendOutcome("skipped", "not an email ticket")

    event = parse_event(json.dumps({"id": str(uuid.uuid4()), "type": "ticket.created", "version": 1,
                                    "ticket_id": str(uuid.uuid4()),
                                    "occurred_at": datetime(2026, 3, 2, tzinfo=timezone.utc).isoformat(),
                                    "payload": {"number": 1, "channel": "slack", "subject": "s", "priority": "normal",
                                                "message_id": str(uuid.uuid4())}}))
    outcome = dispatch.deliver(event, email=FakeEmail, slack=lambda e: sent.append("slack"))
    assert sent == ["ticket.created"] and outcome["kind"] == "acknowledgement"


def test_only_a_resolve_among_status_changes_reaches_the_mail_sender():
    from helpdesk.events.schemas import parse_event
    from helpdesk.outbound import dispatch
    from helpdesk.outbound.email import SendOutcome

    sent = []

    class FakeEmail:
        def send(self, event):
            sent.append(event.payload.to_status)
            return SendOutcome("sent")

    def change(to: str):
        return parse_event(json.dumps({"id": str(uuid.uuid4()), "type": "ticket.status_changed", "version": 1,
                                       "ticket_id": str(uuid.uuid4()),
                                       "occurred_at": datetime(2026, 3, 2, tzinfo=timezone.utc).isoformat(),
                                       "payload": {"from": "in_progress", "to": to, "number": 1}}))

    outcomes = [dispatch.deliver(change(to), email=FakeEmail, slack=lambda e: sent.append("slack"))
                for to in ("waiting_on_customer", "resolved", "closed")]
    assert sent == ["resolved"]
    assert [o["kind"] for o in outcomes] == ["status", "solved", "status"]
    assert outcomes[0]["action"] == "skipped" and outcomes[1]["action"] == "sent"


def test_outbound_acts_on_its_event_types_and_skips_every_other_unsent():
    """dispatch.EVENT_TYPES (what the outbound queue's subscription lets through) is exactly the set
    of types the rule acts on: any other known type reaches no sender."""
    from types import SimpleNamespace

    from helpdesk.events.schemas import EVENT_TYPES
    from helpdesk.outbound import dispatch
    from helpdesk.outbound.email import SendOutcome

    sent = []

    class FakeEmail:
        def send(self, event):
            sent.append(event.type)
            return SendOutcome("sent")

    acted = set()
    for event_type in EVENT_TYPES:
        event = SimpleNamespace(type=event_type, payload=SimpleNamespace(to_status="resolved", channel="email"))
        outcome = dispatch.deliver(event, email=FakeEmail, slack=lambda e: sent.append("slack"))
        if outcome["kind"] == "not_outbound":
            assert outcome["action"] == "skipped" and event_type in outcome["reason"]
        else:
            acted.add(event_type)
    assert acted == set(dispatch.EVENT_TYPES)
    assert sorted(sent) == sorted(dispatch.EVENT_TYPES)  # nothing else reached a sender

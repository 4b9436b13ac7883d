"""Which metrics one inbound mail or one outbound event produces, and their EMF documents."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.insight.metrics import emit, inbound_points, outbound_failure_points, outbound_points
from helpdesk.sla.metrics import MetricPoint


def emf_documents(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def named(points, name):
    return [(p.dimension, p.value) for p in points if p.name == name]


@pytest.mark.parametrize("action, layer, outcome", [
    ("threaded", "token", "token"), ("threaded", "references", "references"),
    ("threaded", "subject_tag", "subject_tag"), ("followup_created", "references", "references"),
    ("created", "heuristic", "heuristic"), ("created", None, "new_ticket"),
    ("system_event", "references", "automatic"), ("duplicate", None, "duplicate"), ("dropped", None, "dropped"),
])
def test_each_inbound_mail_counts_once_under_the_layer_that_threaded_it(action, layer, outcome):
    points = inbound_points(action, layer, "person")
    assert named(points, "InboundMail") == [(None, 1), (("outcome", outcome), 1)]
    assert named(points, "MailQuarantined") == []


def test_a_quarantined_mail_counts_by_reason_and_in_the_total():
    points = inbound_points("quarantined", None, "dmarc_fail")
    assert named(points, "InboundMail") == [(None, 1), (("outcome", "quarantined"), 1)]
    assert named(points, "MailQuarantined") == [(None, 1), (("reason", "dmarc_fail"), 1)]


def test_outbound_counts_sent_acknowledgements_and_replies_not_skips():
    assert named(outbound_points({"kind": "acknowledgement", "action": "sent"}), "AutoAcknowledgementsSent") == [(None, 1)]
    assert outbound_points({"kind": "acknowledgement", "action": "skipped"}) == []
    assert outbound_points({"kind": "acknowledgement", "action": "already_sent"}) == []
    assert named(outbound_points({"kind": "reply", "action": "sent"}), "RepliesSent") == [(("channel", "email"), 1)]
    assert named(outbound_points({"kind": "reply", "channel": "slack", "result": "ok"}), "RepliesSent") == [
        (("channel", "slack"), 1)]
    assert outbound_points({"kind": "reply", "channel": "chat", "action": "skipped"}) == []


def test_emit_writes_one_emf_document_per_point_with_both_dimensions(capsys):
    emit([MetricPoint("TicketsInFlight", "Count", 3, ("team", "Billing"), ("status", "new")),
          MetricPoint("SupportOpen", "Count", 1)])
    first, second = emf_documents(capsys)
    assert first["TicketsInFlight"] == [3.0] or first["TicketsInFlight"] == 3.0
    assert (first["team"], first["status"], first["service"]) == ("Billing", "new", "helpdesk")
    meta = first["_aws"]["CloudWatchMetrics"][0]
    assert meta["Namespace"] == "Helpdesk" and set(meta["Dimensions"][0]) == {"service", "team", "status"}
    assert second["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


# -- the outbound consumer -------------------------------------------------------------------------

def _record(channel: str) -> dict:
    event = {"id": str(uuid.uuid4()), "type": "outbound.requested", "version": 1, "ticket_id": str(uuid.uuid4()),
             "occurred_at": datetime(2026, 3, 2, tzinfo=timezone.utc).isoformat(),
             "payload": {"message_id": str(uuid.uuid4()), "channel": channel, "number": 1}}
    return {"messageId": channel, "receiptHandle": "r", "body": json.dumps(event), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:1:outbound", "awsRegion": "us-east-1"}


def _run_outbound(monkeypatch, capsys, sender, records):
    from functions.outbound import handler as module
    from local.functions import LambdaContext

    monkeypatch.setattr(module, "email_sender", lambda: sender)
    monkeypatch.setattr(module, "send_slack", lambda event: (_ for _ in ()).throw(RuntimeError("slack down")))
    result = module.handler({"Records": records}, LambdaContext(function_name="outbound"))
    return result, emf_documents(capsys)


def test_the_outbound_consumer_counts_a_failed_send_by_channel(monkeypatch, capsys):
    class Refused:
        def send(self, event):
            raise RuntimeError("MessageRejected: Email address is not verified")

    result, docs = _run_outbound(monkeypatch, capsys, Refused(), [_record("email"), _record("slack")])
    assert len(result["batchItemFailures"]) == 2  # both retried
    failures = [d for d in docs if "OutboundSendFailures" in d]
    assert sorted(d.get("channel", "(total)") for d in failures) == ["(total)", "(total)", "email", "slack"]


def test_a_send_in_flight_elsewhere_is_retried_without_counting_a_failure(monkeypatch, capsys):
    class InFlight:
        def send(self, event):
            raise errors.Conflict("the send is in flight")

    result, docs = _run_outbound(monkeypatch, capsys, InFlight(), [_record("email")])
    assert result["batchItemFailures"] == [{"itemIdentifier": "email"}]
    assert not [d for d in docs if "OutboundSendFailures" in d]


def test_the_outbound_consumer_counts_a_sent_reply(monkeypatch, capsys):
    from helpdesk.outbound.email import SendOutcome

    class Sends:
        def send(self, event):
            return SendOutcome("sent", "", "ses-1@us-east-1.amazonses.com", "msg-1@helpdesk.test")

    result, docs = _run_outbound(monkeypatch, capsys, Sends(), [_record("email")])
    assert result["batchItemFailures"] == []
    assert [(d["channel"]) for d in docs if "RepliesSent" in d] == ["email"]

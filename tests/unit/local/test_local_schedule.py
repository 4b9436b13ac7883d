"""local.workers.Schedule: EventBridge-shaped events on an interval, an optional first delay."""
from __future__ import annotations

from datetime import datetime, timezone

from local.functions import FunctionUnavailable
from local.workers import Schedule, sqs_event


class Recorder:
    def __init__(self, missing: bool = False) -> None:
        self.events: list[tuple[str, dict]] = []
        self.missing = missing

    def invoke(self, name: str, event: dict):
        if self.missing:
            raise FunctionUnavailable(name)
        self.events.append((name, event))
        return {"ok": True}


def test_schedule_waits_its_first_delay_then_sends_scheduled_events():
    functions = Recorder()
    at = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
    schedule = Schedule(functions, "notifier", 60.0, lambda: at, first_delay=5.0, rule="NotifierDeferredEveryMinute")
    assert schedule.tick() == 5.0 and functions.events == []
    assert schedule.tick() == 60.0
    [(name, event)] = functions.events
    assert name == "notifier"
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-03-02T15:00:00Z"
    assert event["resources"][0].endswith(":rule/NotifierDeferredEveryMinute")
    assert "Records" not in event
    assert schedule.runs == 1 and schedule.last_result == {"ok": True}


def test_a_missing_function_is_skipped_quietly():
    schedule = Schedule(Recorder(missing=True), "sweep", 30.0, lambda: datetime.now(timezone.utc))
    assert schedule.tick() == 30.0 and schedule.runs == 0


def test_sqs_event_has_lambdas_record_shape():
    event = sqs_event([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x",
                        "Attributes": {"ApproximateReceiveCount": "1"},
                        "MessageAttributes": {"event_type": {"DataType": "String", "StringValue": "ticket.created"}}}],
                      "arn:aws:sqs:us-east-1:123456789012:notify")
    [record] = event["Records"]
    assert record["eventSource"] == "aws:sqs" and record["messageId"] == "m1" and record["receiptHandle"] == "r1"
    assert record["messageAttributes"]["event_type"]["stringValue"] == "ticket.created"
    assert record["messageAttributes"]["event_type"]["dataType"] == "String"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"

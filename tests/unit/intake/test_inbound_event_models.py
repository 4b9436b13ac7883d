from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from functions.inbound_email.models import S3EventNotification


def test_s3_notification_with_encoded_key():
    body = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "raw", "arn": "arn:aws:s3:::raw"},
                                "object": {"key": "inbound/a+b%2Bc", "size": 10, "eTag": "x"}}}]}
    parsed = S3EventNotification.model_validate_json(json.dumps(body))
    assert parsed.records[0].s3.bucket.name == "raw"
    assert parsed.records[0].s3.object.decoded_key == "inbound/a b+c"


def test_s3_test_event_has_no_records():
    parsed = S3EventNotification.model_validate_json(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    assert parsed.event == "s3:TestEvent" and parsed.records == []


def test_malformed_body_is_an_error():
    with pytest.raises(ValidationError):
        S3EventNotification.model_validate_json('{"Records": [{"eventName": "ObjectCreated:Put"}]}')

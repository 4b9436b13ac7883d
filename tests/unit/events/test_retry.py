import pytest

from helpdesk.events.retry import backoff_seconds, parse_queue_arn


def test_backoff_doubles_and_caps():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 6, 20)] == [30, 60, 120, 240, 900, 900]


def test_parse_queue_arn():
    assert parse_queue_arn("arn:aws:sqs:eu-west-1:123456789012:notify") == ("notify", "123456789012", "eu-west-1")
    with pytest.raises(ValueError, match="not an SQS queue ARN"):
        parse_queue_arn("arn:aws:sns:eu-west-1:123456789012:topic")

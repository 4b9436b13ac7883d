"""local.slack: the Slack secret in moto Secrets Manager as helpdesk reads it, the Web API stand-in
answering helpdesk.outbound.slack's client, and local.slack_event's signature as the intake checks it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from moto import mock_aws

from helpdesk.auth import Unauthenticated
from helpdesk.intake.slack import verify_request
from helpdesk.delivery import DeliveryError
from helpdesk.delivery.slack import SlackApi, SlackSecret
from local import slack, slack_event


@pytest.fixture
def stand_in(tmp_path):
    api = slack.SlackApiStandIn("xoxb-right", slack.posts_path(tmp_path))
    url = api.start()
    yield api, url
    api.stop()


def test_keys_persist_and_the_secret_is_what_helpdesk_reads(tmp_path):
    first = slack.keys(tmp_path)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = slack.store_secret(client, first)
        assert slack.store_secret(client, first) == arn  # idempotent on restart
        slack.write_config(tmp_path, first, events_url="http://x/e", api_base_url="http://y/api/", secret_arn=arn)
        secret = SlackSecret(client, arn)
        assert secret.bot_token() == first["bot_token"] and secret.value()["signing_secret"] == first["signing_secret"]
    assert slack.keys(tmp_path) == first  # read back from .local/slack.json
    assert oct(slack.config_path(tmp_path).stat().st_mode & 0o777) == "0o600"
    assert slack.keys(tmp_path / "other") != first  # a new data dir gets new keys


def test_stand_in_records_posts_and_checks_the_token(tmp_path, stand_in):
    api, url = stand_in
    client = SlackApi(lambda: "xoxb-right", base_url=url)
    ts1 = client.post_in_thread("C0HELPDESK", "1.000100", "We are on it <b>")
    ts2 = client.post_in_thread("C0HELPDESK", "1.000100", "Fixed")
    assert float(ts2) > float(ts1)
    assert client.user_email("U1") is None  # local users have no email: the intake's placeholder applies
    posts = slack.read_posts(tmp_path)
    assert [(p["channel"], p["thread_ts"], p["text"], p["ts"]) for p in posts] == \
        [("C0HELPDESK", "1.000100", "We are on it <b>", ts1), ("C0HELPDESK", "1.000100", "Fixed", ts2)]
    with pytest.raises(DeliveryError, match="invalid_auth"):
        SlackApi(lambda: "xoxb-wrong", base_url=url).post_in_thread("C0HELPDESK", "1.0", "x")
    with pytest.raises(DeliveryError, match="no_text"):
        client.call("chat.postMessage", {"channel": "C1", "text": " "})
    with pytest.raises(DeliveryError, match="unknown_method"):
        client.call("chat.delete", {"channel": "C1"})
    assert api.posted == 2 and len(slack.read_posts(tmp_path)) == 2


def test_slack_event_is_signed_as_the_intake_checks(tmp_path):
    doc = slack.keys(tmp_path)
    slack.write_config(tmp_path, doc, events_url="http://127.0.0.1:9/none", api_base_url="", secret_arn="arn")
    (tmp_path / "clock-offset").write_text("7200\n")  # the dev clock is 2 h ahead
    captured = {}

    def fake_post(url, body, headers, timeout=30):
        captured.update(url=url, body=body, headers=headers)
        return 200, {"ok": True}

    import local.slack_event as module
    original, module.post = module.post, fake_post
    try:
        status, _, envelope = slack_event.send(tmp_path, "Printer jammed", thread_ts="5.000001")
    finally:
        module.post = original
    assert status == 200 and captured["url"] == "http://127.0.0.1:9/none"
    sent = json.loads(captured["body"])
    assert sent == envelope and sent["event"]["thread_ts"] == "5.000001" and sent["event"]["channel"] == slack.DEMO_CHANNEL
    stamp = int(captured["headers"]["X-Slack-Request-Timestamp"])
    server_now = datetime.fromtimestamp(stamp + 30, timezone.utc)  # the server's (offset) clock, a bit later
    verify_request(doc["signing_secret"], str(stamp), captured["body"], captured["headers"]["X-Slack-Signature"], server_now)
    assert abs(stamp - (datetime.now(timezone.utc).timestamp() + 7200)) < 60  # follows the dev clock
    with pytest.raises(Unauthenticated):
        verify_request("another-secret", str(stamp), captured["body"], captured["headers"]["X-Slack-Signature"], server_now)

"""Notifier fixtures: moto SES and Secrets Manager, agents and teams (the Slack stub: tests/integration/conftest.py)."""
from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"
DOMAIN = "example.com"


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def ses(aws):
    client = boto3.client("ses", region_name=REGION)
    client.verify_domain_identity(Domain=DOMAIN)
    return client


@pytest.fixture
def slack_secret_arn(aws):
    sm = boto3.client("secretsmanager", region_name=REGION)
    return sm.create_secret(Name="helpdesk/slack", SecretString=json.dumps(
        {"bot_token": "xoxb-test-token", "signing_secret": "s3cret"}))["ARN"]


def sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@pytest.fixture
def notifier(db, clock, ses, slack_secret_arn, slack_stub):
    from helpdesk.notify.notifier import Notifier
    from helpdesk.delivery.ses import SesEmailSender
    from helpdesk.delivery.slack import SlackSecret
    from helpdesk.notify.senders import SlackDmSender

    secret = SlackSecret(boto3.client("secretsmanager", region_name=REGION), slack_secret_arn)
    return Notifier(db, clock, {
        "email": SesEmailSender(ses, from_address=f"Helpdesk <notifications@{DOMAIN}>"),
        "slack": SlackDmSender(secret.bot_token, base_url=slack_stub.url),
    }, web_base_url="http://127.0.0.1:8080")


@pytest.fixture
def make_agent(factories):
    def make(name: str = "agent", *, role: str = "agent", slack: str | None = None, team: uuid.UUID | None = None) -> uuid.UUID:
        return factories.agent(name, role=role, slack=slack, teams=[team] if team else [],
                               domain="agents.example.org").id
    return make

@pytest.fixture
def make_team(factories):
    def make(name: str = "team") -> uuid.UUID:
        return factories.team(name)
    return make

def mail_text(message: Any) -> str:
    """Headers and decoded body of a raw mail moto recorded."""
    from email import message_from_string, policy

    parsed = message_from_string(message.raw_data, policy=policy.default)
    headers = "".join(f"{k}: {v}\n" for k, v in parsed.items())
    return headers + "\n" + parsed.get_content()

"""scripts/smoke.py without a stack: it finds a deployed stage through its stack outputs (naming
what is missing), reports every step as PASS/FAIL/SKIP and exits non-zero when one failed."""
from __future__ import annotations

import importlib.util
import json
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from helpdesk import errors
from helpdesk.db import smoke as sql

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("smoke_script", ROOT / "scripts" / "smoke.py")
smoke = sys.modules.setdefault("smoke_script", importlib.util.module_from_spec(spec))
spec.loader.exec_module(smoke)

OUTPUTS = {"ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/api/v1/",
           "SupportAddresses": "support@help.example.org, billing@help.example.org",
           "DbClusterArn": "arn:aws:rds:eu-west-1:123456789012:cluster:helpdesk-dev",
           "DbSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", "DbName": "helpdesk"}


def _deploy(outputs: dict[str, str]) -> None:
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(StackName="Helpdesk-dev",
                                                                        TemplateBody=json.dumps(template))


@pytest.fixture
def aws(monkeypatch):
    for name in ("HELPDESK_TOKEN", "SMOKE_FROM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_a_deployed_stage_is_read_from_its_stack_outputs(aws, monkeypatch):
    _deploy(OUTPUTS)
    target = smoke.aws_target("dev", None)
    assert target.api_base == OUTPUTS["ApiUrl"].rstrip("/")
    assert target.support_address == "support@help.example.org"
    assert target.token is None and "HELPDESK_TOKEN" in target.token_note
    assert target.send_mail is None and "SMOKE_FROM" in target.mail_note and "support@help.example.org" in target.mail_note
    assert target.requester("m") == smoke.SES_SIMULATOR and target.maildir is None
    monkeypatch.setenv("HELPDESK_TOKEN", "id-token")
    monkeypatch.setenv("SMOKE_FROM", "me@verified.example")
    target = smoke.aws_target("dev", 30)
    assert target.token == "id-token" and target.send_mail is not None and target.timeout == 30


def test_missing_outputs_or_stack_are_named(aws):
    with pytest.raises(smoke.Unreachable, match="CloudFormation stack Helpdesk-dev"):
        smoke.aws_target("dev", None)
    _deploy({k: v for k, v in OUTPUTS.items() if k not in ("DbSecretArn", "DbName")})
    with pytest.raises(smoke.Unreachable, match="has no output DbSecretArn, DbName: redeploy"):
        smoke.aws_target("dev", None)


def test_no_running_local_stack_says_how_to_start_one(tmp_path, capsys):
    assert smoke.main(["--local-dir", str(tmp_path)]) == 2
    assert "no local stack is running" in capsys.readouterr().out and "make run" in smoke.__doc__


class FakeDataApi:
    """Answers the smoke statements the way a looser or broken Data API might."""

    def __init__(self, answers):
        self.answers = answers

    def query_one(self, statement, params):
        answer = self.answers[statement]
        return answer(params) if callable(answer) else answer

    def query(self, statement, params):
        return self.query_one(statement, params)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_step_reports_and_a_failure_exits_non_zero():
    def millisecond_timestamps(params):  # a service that cut microseconds
        at = params["at"]
        cut = at - timedelta(microseconds=at.microsecond % 1000)
        return {"at": cut, "epoch": cut.timestamp(), "new_york_wall": "?", "in_jsonb": cut.isoformat(),
                "from_offset_text": datetime.fromisoformat(params["offset_text"]), "session_time_zone": "UTC"}

    def too_large(params):
        raise errors.DatabaseError("BadRequestException: Database returned more than the allowed response size limit")

    data_api = FakeDataApi({sql.TIMESTAMPS: millisecond_timestamps, sql.LARGEST_PAGE: too_large,
                            sql.JSONB_OPERATORS: {"name": 'Zoë "Q" 🙂', "tagged_vip": True, "has_missing": False,
                                                  "reshaped": {"name": 'Zoë "Q" 🙂', "tags": ["vip", "eu"], "count": 3,
                                                               "checked": True},
                                                  "contains_vip": True, "count_type": "number",
                                                  "ids": ",".join(f"00000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))}})
    target = smoke.Target("test", f"http://127.0.0.1:{_closed_port()}/api/v1", "support@x.test", data_api, 1.0,
                          token=None, token_note="no token here")
    lines: list[str] = []
    assert smoke.run_steps(target, lines.append) == 1
    # the public form fails (the API is down), the agent steps and the mail steps that need them are
    # skipped (no token, no mail sender), and two of the Data API checks fail
    assert [line[:4] for line in lines[1:-1]] == ["FAIL", "SKIP", "SKIP", "SKIP", "SKIP", "FAIL", "PASS", "FAIL"], lines
    assert "refused" in lines[1].lower()
    assert "no token here" in lines[2]
    assert "a timestamptz came back as 2026-03-08T12:29:59.123000+05:30" in lines[6]
    assert "DatabaseError" in lines[8] and "response size limit" in lines[8]
    assert lines[-1] == "FAILED: 3 of 8 steps failed"

"""infra/receipt_rule_set: the custom resource that keeps a stage's SES rule set active without
switching off anyone else's inbound mail (one active rule set per account and region)."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from infra.receipt_rule_set import index


class FakeSes:
    def __init__(self, active: str | None, rules: dict[str, list[str]] | None = None) -> None:
        self.active = active
        self.rules = rules or {}

    def describe_active_receipt_rule_set(self) -> dict[str, Any]:
        return {"Metadata": {"Name": self.active}, "Rules": []} if self.active else {}

    def describe_receipt_rule_set(self, RuleSetName: str) -> dict[str, Any]:
        return {"Metadata": {"Name": RuleSetName}, "Rules": [{"Name": n} for n in self.rules.get(RuleSetName, [])]}

    def set_active_receipt_rule_set(self, RuleSetName: str | None = None) -> dict[str, Any]:
        self.active = RuleSetName
        return {}


OURS = ["helpdesk-dev-to-s3"]


def test_create_activates_when_no_set_is_active():
    ses = FakeSes(active=None)
    assert index.reconcile(ses, "Create", "helpdesk-dev", OURS) == "helpdesk-dev activated"
    assert ses.active == "helpdesk-dev"


def test_create_refuses_to_replace_another_active_set_and_names_the_way_out():
    ses = FakeSes(active="helpdesk-prod")
    with pytest.raises(index.RuleSetConflict) as error:
        index.reconcile(ses, "Create", "helpdesk-dev", OURS)
    assert "-c receiptRuleSetName=helpdesk-prod" in str(error.value)
    assert ses.active == "helpdesk-prod"  # prod keeps receiving


def test_update_may_replace_the_stacks_own_previous_set():
    ses = FakeSes(active="helpdesk-old")
    index.reconcile(ses, "Update", "helpdesk-dev", OURS, previous="helpdesk-old")
    assert ses.active == "helpdesk-dev"


def test_delete_leaves_another_active_set_alone():
    ses = FakeSes(active="helpdesk-prod")
    assert "left alone" in index.reconcile(ses, "Delete", "helpdesk-dev", OURS)
    assert ses.active == "helpdesk-prod"


def test_delete_deactivates_its_own_set_only_when_no_other_stage_has_rules_in_it():
    ses = FakeSes(active="helpdesk-dev", rules={"helpdesk-dev": ["helpdesk-dev-to-s3", "helpdesk-staging-to-s3"]})
    with pytest.raises(index.RuleSetConflict) as error:
        index.reconcile(ses, "Delete", "helpdesk-dev", OURS)
    assert "helpdesk-staging-to-s3" in str(error.value) and ses.active == "helpdesk-dev"
    ses.rules["helpdesk-dev"] = ["helpdesk-dev-to-s3"]
    assert index.reconcile(ses, "Delete", "helpdesk-dev", OURS) == "helpdesk-dev deactivated"
    assert ses.active is None


def test_the_handler_answers_cloudformation_on_success_and_on_failure(monkeypatch):
    sent: list[dict[str, Any]] = []

    def urlopen(request, timeout):
        sent.append({"url": request.full_url, "method": request.get_method(), **json.loads(request.data)})
        return io.BytesIO(b"")

    monkeypatch.setattr(index.urllib.request, "urlopen", urlopen)
    event = {"RequestType": "Create", "ResponseURL": "https://cfn.example/response", "StackId": "stack",
             "RequestId": "r1", "LogicalResourceId": "Activate",
             "ResourceProperties": {"RuleSetName": "helpdesk-dev", "OwnRules": OURS}}
    index.handler(event, None, ses=FakeSes(active=None))
    index.handler(event, None, ses=FakeSes(active="helpdesk-prod"))
    assert [(s["method"], s["Status"]) for s in sent] == [("PUT", "SUCCESS"), ("PUT", "FAILED")]
    assert "receiptRuleSetName=helpdesk-prod" in sent[1]["Reason"]
    assert sent[0]["PhysicalResourceId"] == sent[1]["PhysicalResourceId"] == "active-rule-set-helpdesk-dev"

"""CloudFormation custom resource: keeps this stack's SES receipt rule set active without taking
inbound mail away from anyone else.

SES has one active receipt rule set per account and region. On create/update the stack's set is
activated only if no set is active or it already is ours; another active set fails the deploy with
the name to pass as `receiptRuleSetName` (so this stage adds its rule to that set instead). On
delete the set is deactivated only if it is ours, and only if no other stage's rules live in it.

Runs on the Lambda Python runtime (boto3 included); answers CloudFormation at ResponseURL.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any


class RuleSetConflict(Exception):
    """The requested change would switch off another rule set's (or stage's) inbound mail."""


def reconcile(ses: Any, request_type: str, rule_set: str, own_rules: list[str], previous: str | None = None) -> str:
    """Applies the request to SES and returns what was done (for the log and the response).
    `previous` is this stack's rule set before an update (replaced by a new one)."""
    active = (ses.describe_active_receipt_rule_set().get("Metadata") or {}).get("Name")
    if request_type in ("Create", "Update"):
        if active == rule_set:
            return f"{rule_set} already active"
        if active and active != previous:
            raise RuleSetConflict(
                f"SES receipt rule set {active!r} is active in this account and region, and only one can be: "
                f"activating {rule_set!r} would switch off the mail {active!r} receives. Deploy this stage with "
                f"-c receiptRuleSetName={active} to add its rule to that set (docs/deploy.md, "
                "'Two stages in one account').")
        ses.set_active_receipt_rule_set(RuleSetName=rule_set)
        return f"{rule_set} activated"
    if request_type == "Delete":
        if active != rule_set:
            return f"{rule_set} not active ({active or 'none'} is): left alone"
        rules = [r["Name"] for r in ses.describe_receipt_rule_set(RuleSetName=rule_set).get("Rules", [])]
        foreign = sorted(set(rules) - set(own_rules))
        if foreign:
            raise RuleSetConflict(
                f"SES receipt rule set {rule_set!r} also holds rules of other stacks ({', '.join(foreign)}): "
                "deleting this stack would switch off their inbound mail. Delete those stacks first, or move "
                "their rules to another active set.")
        ses.set_active_receipt_rule_set()  # no name: no set is active
        return f"{rule_set} deactivated"
    raise ValueError(f"unknown request type {request_type!r}")


def respond(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps({
        "Status": status, "Reason": reason[:3000], "PhysicalResourceId": physical_id,
        "StackId": event["StackId"], "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30):
        pass


def handler(event: dict[str, Any], context: Any, ses: Any = None) -> None:
    props = event.get("ResourceProperties", {})
    physical_id = event.get("PhysicalResourceId") or f"active-rule-set-{props.get('RuleSetName', 'unknown')}"
    try:
        if ses is None:
            import boto3

            ses = boto3.client("ses")
        previous = (event.get("OldResourceProperties") or {}).get("RuleSetName")
        outcome = reconcile(ses, event["RequestType"], props["RuleSetName"], list(props.get("OwnRules", [])), previous)
        print(json.dumps({"request": event["RequestType"], "outcome": outcome}))
        respond(event, "SUCCESS", outcome, physical_id)
    except Exception as exc:  # noqa: BLE001 - CloudFormation waits for an answer whatever happened
        print(json.dumps({"request": event.get("RequestType"), "error": repr(exc)}))
        respond(event, "FAILED", str(exc), physical_id)

"""IAM: no data action on Resource "*", no managed policies on function roles, scoped grants."""
from __future__ import annotations

import json
from typing import Any, Iterator

from tests.infra.test_stack_resources import _function_logical_ids

# Actions that touch data or send on our behalf: never allowed on "*".
DATA_ACTION_PREFIXES = ("rds-data:", "rds:", "s3:", "sqs:", "sns:", "secretsmanager:", "ses:Send", "kms:",
                        "dynamodb:", "lambda:InvokeFunction")
# Actions without resource-level permissions that AWS requires on "*".
STAR_ONLY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ses:SetActiveReceiptRuleSet",
                     "ses:DescribeActiveReceiptRuleSet", "ses:DescribeReceiptRuleSet",
                     "cloudfront:GetInvalidation", "cloudfront:CreateInvalidation"}


def statements(synth) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, policy in synth.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, role in synth.resources("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_no_data_action_on_star_resources(synth):
    offenders = []
    for logical_id, statement in statements(synth):
        if statement["Effect"] != "Allow" or "*" not in as_list(statement.get("Resource", [])):
            continue
        for action in as_list(statement["Action"]):
            if action.startswith(DATA_ACTION_PREFIXES) or action == "*":
                offenders.append((logical_id, action))
            elif action not in STAR_ONLY_ACTIONS:
                offenders.append((logical_id, action))
    assert offenders == []


def test_function_roles_have_no_managed_policies_and_no_wildcard_actions(synth):
    ids = _function_logical_ids(synth)
    roles = {name: synth.template["Resources"][ids[name]]["Properties"]["Role"]["Fn::GetAtt"][0] for name in ids}
    for name, role_id in roles.items():
        role = synth.template["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role, name
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    role_ids = set(roles.values())
    for logical_id, policy in synth.resources("AWS::IAM::Policy").items():
        if not role_ids & {r["Ref"] for r in policy["Properties"]["Roles"]}:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                if action.startswith(("s3:", "kms:", "sns:")):
                    assert "*" not in action, (logical_id, action)


def function_policy(synth, name: str) -> list[dict[str, Any]]:
    ids = _function_logical_ids(synth)
    role_id = synth.template["Resources"][ids[name]]["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions_of(statements_: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements_ for a in as_list(s["Action"])}


def test_data_api_scoped_to_the_cluster_and_its_secret(synth):
    cluster_id = next(iter(synth.resources("AWS::RDS::DBCluster")))
    secret_ids = [k for k, v in synth.resources("AWS::SecretsManager::Secret").items()
                  if "helpdesk_admin" in json.dumps(v["Properties"])]
    assert len(secret_ids) == 1
    # grants name the secret through its attachment to the cluster (same ARN)
    attachments = [k for k, v in synth.resources("AWS::SecretsManager::SecretTargetAttachment").items()
                   if v["Properties"]["SecretId"] == {"Ref": secret_ids[0]}]
    accepted = [secret_ids[0], *attachments]
    for name in _function_logical_ids(synth):
        statements_ = function_policy(synth, name)
        data_api = [s for s in statements_ if any(a.startswith("rds-data:") for a in as_list(s["Action"]))]
        assert data_api, name
        for statement in data_api:
            assert cluster_id in json.dumps(statement["Resource"]), name
        secret_reads = [s for s in statements_ if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        assert any(any(a in json.dumps(s["Resource"]) for a in accepted) for s in secret_reads), name


def test_per_function_grants(synth):
    migrate = actions_of(function_policy(synth, "migrate"))
    assert not any(a.startswith(("s3:", "sns:", "ses:", "sqs:")) for a in migrate), migrate
    audit = actions_of(function_policy(synth, "audit_export"))
    assert "s3:PutObject" in audit and "s3:GetObject" not in audit and "sns:Publish" not in audit
    sweep = actions_of(function_policy(synth, "sweep"))
    assert "sns:Publish" in sweep and not any(a.startswith(("s3:", "ses:")) for a in sweep)
    api = actions_of(function_policy(synth, "api"))
    assert not any(a.startswith("ses:") for a in api), "the api sends mail through events, not SES"
    inbound = actions_of(function_policy(synth, "inbound_email"))
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "s3:GetObject", "s3:PutObject", "sns:Publish"} <= inbound


def test_ses_send_scoped_to_identity_and_configuration_set(synth):
    for name in ("outbound", "notifier"):
        sends = [s for s in function_policy(synth, name) if "ses:SendRawEmail" in as_list(s["Action"])]
        assert len(sends) == 1, name
        resources = json.dumps(sends[0]["Resource"])
        assert ":identity/" in resources and ":configuration-set/" in resources
        assert '"*"' not in resources
    for name in ("api", "sweep", "inbound_email", "migrate", "audit_export"):
        assert not any(a.startswith("ses:") for a in actions_of(function_policy(synth, name))), name


def test_buckets_are_granted_per_bucket(synth):
    raw_id = next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("MailRawMail"))
    attachments_id = next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("DataAttachments"))
    inbound = function_policy(synth, "inbound_email")
    gets = [s for s in inbound if as_list(s["Action"]) == ["s3:GetObject"]]
    assert raw_id in json.dumps(gets) and attachments_id not in json.dumps(gets)
    assert "raw/*" in json.dumps(gets)
    puts = [s for s in inbound if as_list(s["Action"]) == ["s3:PutObject"]]
    assert attachments_id in json.dumps(puts) and raw_id not in json.dumps(puts)

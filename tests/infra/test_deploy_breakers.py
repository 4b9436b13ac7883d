"""Issue 16, items 9-17: what breaks a first real `cdk deploy`, or a second stage in the same
account, pinned on the synthesized templates (dev = cdk.json, prod = -c stage=prod, staging = a
second stage in dev's account with the opt-ins on; see conftest)."""
from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from infra.config import REMOVED_SETTINGS, SETTINGS, ContextError, StageConfig
from tests.infra.conftest import CERTIFICATE_ARN, FUNCTION_NAMES, ROOT
from tests.infra.test_stack_resources import _function_logical_ids, our_functions


def config(**context) -> StageConfig:
    return StageConfig.from_context(context)


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document.get("Statement", [])


# -- 9. per-stage settings win over the top-level defaults, for every key ----------------------

# key -> (top-level value, stage value, how the parsed config shows the stage value)
EVERY_KEY = {
    "region": ("us-east-1", "eu-west-1", lambda c: c.region == "eu-west-1"),
    "account": ("111111111111", "222222222222", lambda c: c.account == "222222222222"),
    "supportDomain": ("example.com", "dev.example.com", lambda c: c.support_domain == "dev.example.com"),
    "receivingAddresses": (["support"], ["help", "billing"], lambda c: c.receiving_local_parts == ("help", "billing")),
    "webBaseUrl": ("https://a.example.com", "https://b.example.com", lambda c: c.web_base_url == "https://b.example.com"),
    "chatAllowedOrigins": (["https://a.example.com"], ["https://b.example.com"],
                           lambda c: c.chat_allowed_origins == ("https://b.example.com",)),
    "cognitoDomainPrefix": ("top", "stage", lambda c: c.cognito_domain_prefix == "stage"),
    "dbMinCapacity": (0.5, 0, lambda c: c.db_min_capacity == 0),
    "dbMaxCapacity": (8, 2, lambda c: c.db_max_capacity == 2),
    "dbAutoPauseMinutes": (30, 5, lambda c: c.db_auto_pause_minutes == 5),
    "dbBackupRetentionDays": (7, 3, lambda c: c.db_backup_retention_days == 3),
    "deletionProtection": (True, False, lambda c: c.deletion_protection is False),
    "reserveConcurrency": (False, True, lambda c: c.reserve_concurrency is True),
    "apiReservedConcurrency": (50, 7, lambda c: c.api_reserved_concurrency == 7),
    "queueMaxConcurrency": (5, 3, lambda c: c.queue_max_concurrency == 3),
    "pushMaxConcurrency": (5, 3, lambda c: c.push_max_concurrency == 3),
    "pushAuthorizerReservedConcurrency": (10, 4, lambda c: c.push_authorizer_reserved_concurrency == 4),
    "apiThrottleRate": (50, 9, lambda c: c.api_throttle_rate == 9),
    "apiThrottleBurst": (100, 19, lambda c: c.api_throttle_burst == 19),
    "publicBodyLimitKb": (64, 16, lambda c: c.public_body_limit_kb == 16),
    "waf": (True, False, lambda c: c.waf is False),
    "wafFormLimit": (300, 120, lambda c: c.waf_form_limit == 120),
    "wafChatLimit": (1000, 600, lambda c: c.waf_chat_limit == 600),
    "apiGatewayCloudWatchRole": (True, False, lambda c: c.api_gateway_cloudwatch_role is False),
    "receiptRuleSetName": ("shared-a", "shared-b", lambda c: c.receipt_rule_set_name == "shared-b"),
    "webDomain": ("a.example.com", "b.example.com", lambda c: c.web_domain == "b.example.com"),
    "webCertificateArn": (CERTIFICATE_ARN, CERTIFICATE_ARN.replace("0f3c", "1f3c"),
                          lambda c: c.web_certificate_arn.endswith("1f3c2f7e-6a0e-4d8e-9a43-2a1b3c4d5e6f")),
    "sweepMaxIdleSeconds": (0, 600, lambda c: c.sweep_max_idle_seconds == 600),
    "emailUnverifiedSender": ("new_ticket", "quarantine", lambda c: c.email_unverified_sender == "quarantine"),
    "emailBulkMail": ("quarantine", "ticket", lambda c: c.email_bulk_mail == "ticket"),
    "emailDmarcAllowlist": (["a.example"], ["Partner.Example"], lambda c: c.email_dmarc_allowlist == ("partner.example",)),
    "emailSupportDomainCustomers": (False, True, lambda c: c.email_support_domain_customers is True),
    "emailHeuristicThreading": (False, True, lambda c: c.email_heuristic_threading is True),
    "inboundSilenceMinutes": (15, 30, lambda c: c.inbound_silence_minutes == 30),
    "reopenRateMaxPercent": (15, 20, lambda c: c.reopen_rate_max_percent == 20),
    "quarantineRateMaxPercent": (25, 40, lambda c: c.quarantine_rate_max_percent == 40),
    "backlogAgeTargetHours": (48, 24, lambda c: c.backlog_age_target_hours == 24),
    "outboundFailuresMax": (5, 10, lambda c: c.outbound_failures_max == 10),
    "alarmEmail": ("a@example.com", "b@example.com", lambda c: c.alarm_email == "b@example.com"),
    "logRetentionDays": (30, 90, lambda c: c.log_retention_days == 90),
}
PAIRED = {"webDomain": "webCertificateArn", "webCertificateArn": "webDomain"}


@pytest.mark.parametrize("key", sorted(EVERY_KEY))
def test_a_stage_setting_wins_over_the_top_level_default(key):
    top, staged, shows = EVERY_KEY[key]
    context: dict[str, Any] = {"stage": "dev", key: top, "stages": {"dev": {key: staged}}}
    if key in PAIRED:  # a custom domain needs both values
        context[PAIRED[key]] = EVERY_KEY[PAIRED[key]][0]
    parsed = config(**context)
    assert shows(parsed), f"stages.dev.{key} did not win over the top-level {key}"
    other = config(**{**context, "stage": "prod"})  # another stage keeps the top-level value
    assert not shows(other) or top == staged


def test_every_setting_is_covered():
    """A new context key gets a row in EVERY_KEY (read from the keys config.py asks for)."""
    source = (ROOT / "infra" / "config.py").read_text()
    asked = {node.args[0].value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "value"
             and isinstance(node.args[0], ast.Constant)}
    assert asked - {"stage"} == set(EVERY_KEY)
    # ... and SETTINGS, the keys synthesis accepts, is exactly what config.py reads (no removed key among them)
    assert SETTINGS == asked and not SETTINGS & set(REMOVED_SETTINGS)


def test_cdk_json_gives_dev_its_own_support_domain(dev, prod):
    """Two stages on one domain would collide on the SES identity (one per account and region)."""
    cdk_json = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert cdk_json["stages"]["dev"]["supportDomain"] != cdk_json["supportDomain"]

    def identities(synth) -> list[str]:
        return [i["Properties"]["EmailIdentity"] for i in synth.resources("AWS::SES::EmailIdentity").values()]

    assert identities(dev) == ["dev.example.com"]
    assert identities(prod) == ["help.example.org"]


# -- 10. reserved concurrency is opt-in --------------------------------------------------------

def test_no_reserved_concurrency_unless_asked(dev, prod, staging):
    for synth in (dev, prod):
        reserved = {n: p["ReservedConcurrentExecutions"] for n, p in our_functions(synth).items()
                    if "ReservedConcurrentExecutions" in p}
        assert reserved == {}, f"{synth.stage}: a new account (quota 10) refuses {reserved}"
    staged = our_functions(staging)  # reserveConcurrency=true
    assert staged["sweep"]["ReservedConcurrentExecutions"] == 1
    assert staged["migrate"]["ReservedConcurrentExecutions"] == 1
    assert staged["api"]["ReservedConcurrentExecutions"] == 20


# -- 11. alarm notifications reach their topic ------------------------------------------------

def test_cloudwatch_may_publish_to_the_alarm_topic_and_use_its_key(synth):
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    targets = {json.dumps(a, sort_keys=True) for alarm in alarms.values() for a in alarm["Properties"]["AlarmActions"]}
    assert len(targets) == 1
    topic_id = json.loads(targets.pop())["Ref"]
    topic = synth.template["Resources"][topic_id]["Properties"]
    policies = [p["Properties"] for p in synth.resources("AWS::SNS::TopicPolicy").values()
                if {"Ref": topic_id} in p["Properties"]["Topics"]]
    assert len(policies) == 1
    publish = [s for s in statements_of(policies[0]["PolicyDocument"])
               if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(publish) == 1 and publish[0]["Action"] == "sns:Publish"
    pattern = json.dumps(publish[0]["Condition"]["ArnLike"]["aws:SourceArn"])
    assert f":alarm:helpdesk-{synth.stage}-*" in pattern
    assert all(a["Properties"]["AlarmName"].startswith(f"helpdesk-{synth.stage}-") for a in alarms.values())
    # the topic is encrypted: CloudWatch needs the key, for this topic only
    key = synth.template["Resources"][topic["KmsMasterKeyId"]["Fn::GetAtt"][0]]["Properties"]
    grants = [s for s in statements_of(key["KeyPolicy"]) if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(grants) == 1
    context = json.dumps(grants[0]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"])
    assert f":{topic['TopicName']}" in context


# -- 12. two stages in one account ------------------------------------------------------------

def test_the_api_gateway_logging_role_is_kept_on_delete_or_left_to_the_account(dev, prod, staging):
    for synth in (dev, prod):
        accounts = synth.resources("AWS::ApiGateway::Account")
        assert len(accounts) == 1
        role_id = next(iter(accounts.values()))["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
        role = synth.template["Resources"][role_id]
        # deleting this stack leaves the account's setting pointing at a role that still exists
        assert role["DeletionPolicy"] == "Retain" and role["UpdateReplacePolicy"] == "Retain"
    assert staging.resources("AWS::ApiGateway::Account") == {}  # apiGatewayCloudWatchRole=false
    stage = next(iter(staging.resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert "AccessLogSetting" in stage  # logging still on, through the account's existing role


def test_a_stage_owns_its_rule_set_or_adds_its_rule_to_the_active_one(dev, prod, staging):
    for synth in (dev, prod):
        sets = [s["Properties"]["RuleSetName"] for s in synth.resources("AWS::SES::ReceiptRuleSet").values()]
        assert sets == [f"helpdesk-{synth.stage}"]
        activation = next(iter(synth.resources("Custom::SesActiveRuleSet").values()))["Properties"]
        assert activation["OwnRules"] == [f"helpdesk-{synth.stage}-to-s3"]
        handler = activation["ServiceToken"]["Fn::GetAtt"][0]
        assert synth.template["Resources"][handler]["Properties"]["Handler"] == "index.handler"
        assert synth.resources("Custom::AWS") == {}  # no unconditional setActiveReceiptRuleSet
    assert staging.resources("AWS::SES::ReceiptRuleSet") == {}
    assert staging.resources("Custom::SesActiveRuleSet") == {}
    rules = [r["Properties"] for r in staging.resources("AWS::SES::ReceiptRule").values()]
    assert [r["RuleSetName"] for r in rules] == ["helpdesk-dev"]
    assert rules[0]["Rule"]["Name"] == "helpdesk-staging-to-s3"
    assert rules[0]["Rule"]["Recipients"] == ["support@staging.example.com"]


# -- 13. scheduled functions are not retried by Lambda ----------------------------------------

def test_scheduled_runs_are_not_retried_and_failures_land_in_a_watched_queue(synth):
    ids = _function_logical_ids(synth)
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in synth.resources("AWS::Lambda::EventInvokeConfig").values()}
    failure_queues = set()
    for name in ("sweep", "notifier", "audit_export"):
        invoke = configs[ids[name]]
        assert invoke["MaximumRetryAttempts"] == 0, name
        failure_queues.add(invoke["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0])
    assert len(failure_queues) == 1
    queue_id = failure_queues.pop()
    for rule in synth.resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    watched = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
               if {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
               in a["Properties"].get("Dimensions", [])]
    assert [a["AlarmName"] for a in watched] == [f"helpdesk-{synth.stage}-scheduled-dlq-not-empty"]


# -- 14. public routes are throttled per caller -----------------------------------------------

def test_public_routes_are_limited_per_ip_by_waf_not_by_one_shared_bucket(synth):
    stage = next(iter(synth.resources("AWS::ApiGateway::Stage").values()))["Properties"]
    overrides = [s for s in stage["MethodSettings"] if s["ResourcePath"] != "/*" and "ThrottlingRateLimit" in s]
    assert overrides == [], "a per-method bucket is shared by every caller of the route"
    acl = next(iter(synth.resources("AWS::WAFv2::WebACL").values()))["Properties"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    for name, limit, inside, outside in (
            ("FormPerIpRateLimit", 300, ["/api/v1/public/", "/api/v1/portal/"], ["/api/v1/public/chat/"]),
            ("ChatPerIpRateLimit", 1000, ["/api/v1/public/chat/"], [])):
        rate = rules[name]["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == limit and rate["EvaluationWindowSec"] == 300
        assert "Block" in rules[name]["Action"]
        scope = json.dumps(rate["ScopeDownStatement"])
        assert all(f'"SearchString": "{p}"' in scope for p in inside + outside)
        if outside:  # the chat polls every 3 s: it is not counted against the form's budget
            assert '"NotStatement"' in scope
    # the chat widget polls every 3 s: one session is 100 polls per 5 minutes, well under its limit
    assert rules["ChatPerIpRateLimit"]["Statement"]["RateBasedStatement"]["Limit"] >= 5 * 100


# -- 15. an idle dev database really pauses ---------------------------------------------------

def test_dev_schedules_skip_the_database_while_idle_so_it_can_pause(dev, prod):
    cluster = next(iter(dev.resources("AWS::RDS::DBCluster").values()))["Properties"]
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    pause = cluster["ServerlessV2ScalingConfiguration"]["SecondsUntilAutoPause"]
    env = {n: p["Environment"]["Variables"] for n, p in our_functions(dev).items()}
    for name in ("sweep", "notifier"):
        # longer than the auto-pause delay, or the schedule would wake the cluster as soon as it paused
        assert int(env[name]["SWEEP_MAX_IDLE_SECONDS"]) > pause, name
    prod_env = {n: p["Environment"]["Variables"] for n, p in our_functions(prod).items()}
    assert "SWEEP_MAX_IDLE_SECONDS" not in prod_env["sweep"]  # prod keeps 0.5 ACU: it never pauses
    prod_cluster = next(iter(prod.resources("AWS::RDS::DBCluster").values()))["Properties"]
    assert prod_cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0.5


def test_the_deferred_notification_run_may_switch_its_own_schedule(synth):
    """The notifier switches its rule on when it defers something and off when nothing is left."""
    name = f"helpdesk-{synth.stage}-notifier-deferred"
    ids = _function_logical_ids(synth)
    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()
             if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [ids["notifier"], "Arn"]}]
    assert [r["Name"] for r in rules] == [name] and rules[0]["State"] == "ENABLED"
    notifier = our_functions(synth)["notifier"]
    assert notifier["Environment"]["Variables"]["NOTIFIER_SCHEDULE_RULE"] == name
    role_id = notifier["Role"]["Fn::GetAtt"][0]
    switches = [s for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
                for s in p["Properties"]["PolicyDocument"]["Statement"] if "events:EnableRule" in s["Action"]]
    assert len(switches) == 1 and sorted(switches[0]["Action"]) == ["events:DisableRule", "events:EnableRule"]
    assert f":rule/{name}" in json.dumps(switches[0]["Resource"])


# -- 16. the custom domain path ---------------------------------------------------------------

def test_a_custom_domain_gets_its_alias_certificate_and_tls12(dev, staging):
    config_ = next(iter(staging.resources("AWS::CloudFront::Distribution").values()))["Properties"]["DistributionConfig"]
    assert config_["Aliases"] == ["help.example.com"]
    viewer = config_["ViewerCertificate"]
    assert viewer["AcmCertificateArn"] == CERTIFICATE_ARN
    assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021" and viewer["SslSupportMethod"] == "sni-only"
    env = our_functions(staging)["api"]["Environment"]["Variables"]
    assert env["WEB_BASE_URL"] == "https://help.example.com"
    client = next(iter(staging.resources("AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert client["CallbackURLs"] == ["https://help.example.com/index.html"]
    default = next(iter(dev.resources("AWS::CloudFront::Distribution").values()))["Properties"]["DistributionConfig"]
    assert "Aliases" not in default


@pytest.mark.parametrize("context, message", [
    ({"webDomain": "help.example.com"}, "'webDomain' and 'webCertificateArn' go together"),
    ({"webCertificateArn": CERTIFICATE_ARN}, "'webDomain' and 'webCertificateArn' go together"),
    ({"webDomain": "help.example.com", "webCertificateArn": CERTIFICATE_ARN.replace("us-east-1", "eu-west-1")},
     "is in eu-west-1, but CloudFront only uses ACM certificates from us-east-1"),
    ({"webDomain": "help.example.com", "webCertificateArn": "arn:aws:iam::123456789012:server-certificate/x"},
     "must be an ACM certificate ARN"),
    ({"webDomain": "help.example.com", "webCertificateArn": CERTIFICATE_ARN, "webBaseUrl": "https://other.example.com"},
     "must be https://help.example.com"),
    ({"region": "ap-east-1"}, "cannot receive mail with SES"),
    ({"receiptRuleSetName": "has spaces"}, "context 'receiptRuleSetName'"),
    ({"sweepMaxIdleSeconds": -1}, "context 'sweepMaxIdleSeconds'"),
    ({"emailBulkMail": "drop"}, "context 'emailBulkMail' must be one of quarantine, ticket"),
    ({"emailDmarcAllowlist": ["not a domain"]}, "context 'emailDmarcAllowlist'"),
    ({"wafChatLimit": 5}, "context 'wafChatLimit' must be between 10"),
])
def test_settings_that_cannot_work_are_refused_with_a_clear_message(context, message):
    with pytest.raises(ContextError) as error:
        config(**context)
    assert message in str(error.value)


# -- 17. tracing shows the AWS calls; service principals are scoped ----------------------------

def test_every_function_traces_with_powertools(synth, layer_dir):
    for name, props in our_functions(synth).items():
        assert props["TracingConfig"] == {"Mode": "Active"}, name
    for name in FUNCTION_NAMES:
        tree = ast.parse((ROOT / "functions" / name / "handler.py").read_text())
        tracers = [n for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                   and getattr(n.value.func, "id", "") == "Tracer"]
        assert len(tracers) == 1, f"functions/{name}/handler.py creates no module-level Tracer"
        handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler")
        decorators = [ast.unparse(d) for d in handler.decorator_list]
        assert "tracer.capture_lambda_handler(capture_response=False)" in decorators, name
    python = layer_dir / "python"
    assert (python / "aws_xray_sdk").is_dir(), "Tracer needs aws-xray-sdk in the layer"
    assert not (python / "botocore").exists(), "the runtime's botocore is not copied into the layer"


_TRACE_PROBE = """
import json, os
os.environ.update({"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "probe",
                   "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe"})
os.environ.pop("POWERTOOLS_TRACE_DISABLED", None)
from aws_lambda_powertools import Tracer
tracer = Tracer(service="probe")  # as functions/*/handler.py do, before any client exists
import boto3
from aws_xray_sdk.core import xray_recorder
from moto import mock_aws
sent = []
class Emitter:
    ip, port = "127.0.0.1", 2000
    def send_entity(self, entity): sent.append(entity.to_dict())
    def set_daemon_address(self, address): pass
xray_recorder.configure(emitter=Emitter())
@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    with mock_aws():
        boto3.client("sqs").list_queues()
    return {"secret": "customer data"}
class Context:
    function_name, aws_request_id = "probe", "r1"
handler({}, Context())
print(json.dumps(sent))
"""


def test_traces_show_the_aws_calls_a_handler_makes():
    """What X-Ray receives in Lambda with the layer's pinned Powertools and aws-xray-sdk (a process
    of its own: the SDK patches botocore for good)."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _TRACE_PROBE], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    entities = json.loads(run.stdout.strip().splitlines()[-1])
    names = [e["name"] for e in entities]
    assert "sqs" in names and "## handler" in names  # the AWS call is its own subsegment
    assert "customer data" not in run.stdout  # responses stay out of traces


def _service_statements(synth):
    """(resource, statement) for every Allow to an AWS service in a resource policy of the stack."""
    for logical_id, resource in synth.template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("PolicyDocument", "KeyPolicy"):
            if key in props and resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::Role"):
                for statement in statements_of(props[key]):
                    principal = statement.get("Principal")
                    if statement["Effect"] == "Allow" and isinstance(principal, dict) and "Service" in principal:
                        yield logical_id, statement


SCOPING_KEYS = {"aws:sourcearn", "aws:sourceaccount", "kms:encryptioncontext:aws:sns:topicarn"}


def test_service_principals_are_scoped_to_our_resources(synth):
    unscoped = []
    found = 0
    for logical_id, statement in _service_statements(synth):
        found += 1
        keys = {k.lower() for operator in (statement.get("Condition") or {}).values() for k in operator}
        if not keys & SCOPING_KEYS:
            unscoped.append((logical_id, statement["Principal"]["Service"]))
    assert found >= 8 and unscoped == []
    permissions = synth.resources("AWS::Lambda::Permission")
    assert permissions
    for logical_id, permission in permissions.items():
        props = permission["Properties"]
        if props["Principal"].endswith(".amazonaws.com"):
            assert "SourceArn" in props or "SourceAccount" in props, logical_id


def test_the_second_stage_is_cdk_nag_and_cfn_lint_clean(staging):
    from tests.infra.test_nag_and_lint import ACCEPTED_LINT_RULES

    assert [f"{m['path']}: {m['text'][:200]}" for m in staging.nag("error") + staging.nag("warning")] == []
    findings = [f"{m['rule']} {m['message']}" for m in staging.lint_findings() if m["rule"] not in ACCEPTED_LINT_RULES]
    assert findings == []


def test_the_inbound_mail_policy_reaches_the_functions_that_read_mail(dev):
    """inbound_email and api (releasing quarantined mail) read the same policy from their environment."""
    functions = our_functions(dev)
    readers = {name for name, props in functions.items()
               if "HELPDESK_EMAIL_BULK" in props.get("Environment", {}).get("Variables", {})}
    assert readers == {"inbound_email", "api"}
    for name in readers:
        env = functions[name]["Environment"]["Variables"]
        assert env["HELPDESK_EMAIL_UNVERIFIED_SENDER"] == "new_ticket" and env["HELPDESK_EMAIL_BULK"] == "quarantine"
        assert env["HELPDESK_EMAIL_SUPPORT_DOMAIN_CUSTOMERS"] == "false" and env["HELPDESK_EMAIL_HEURISTIC"] == "false"


def test_the_stack_offers_the_choices_the_functions_accept():
    """The mail policy's choices are the runtime's (helpdesk/config.py), which infra does not import."""
    from helpdesk import config as runtime

    source = (ROOT / "infra" / "config.py").read_text()
    offered = {node.args[0].value: tuple(e.value for e in node.args[2].elts)
               for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_as_choice"}
    assert offered == {"emailBulkMail": runtime.BULK_MAIL_CHOICES,
                       "emailUnverifiedSender": runtime.UNVERIFIED_SENDER_CHOICES}

"""Template assertions on the synthesized stack (dev = cdk.json defaults, prod = -c stage=prod)."""
from __future__ import annotations

import json
import re
from typing import Any

from tests.infra.conftest import FUNCTION_NAMES

REQUIRED_ENV = {"DB_CLUSTER_ARN", "DB_SECRET_ARN", "DB_NAME", "SUPPORT_DOMAIN", "WEB_BASE_URL",
                "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}


def our_functions(synth) -> dict[str, dict[str, Any]]:
    """name -> properties of the Helpdesk functions (CDK's own handlers excluded)."""
    found = {}
    for resource in synth.resources("AWS::Lambda::Function").values():
        handler = resource["Properties"].get("Handler", "")
        match = re.fullmatch(r"functions/(\w+)/handler\.handler", handler)
        if match:
            found[match.group(1)] = resource["Properties"]
    return found


def logical_id_of(synth, type_: str, predicate) -> str:
    ids = [k for k, v in synth.resources(type_).items() if predicate(v.get("Properties", {}))]
    assert len(ids) == 1, f"expected one {type_} matching, found {ids}"
    return ids[0]


def test_exactly_our_functions_on_python312_arm64_with_the_layer(synth):
    functions = our_functions(synth)
    assert sorted(functions) == sorted(FUNCTION_NAMES)
    layer_ids = [k for k in synth.resources("AWS::Lambda::LayerVersion") if k.startswith("WorkersHelpdeskLayer")]
    assert len(layer_ids) == 1
    for name, props in functions.items():
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Layers"] == [{"Ref": layer_ids[0]}], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert "VpcConfig" not in props, f"{name} must not run in a VPC (Data API over HTTPS)"
    layer = synth.resources("AWS::Lambda::LayerVersion")[layer_ids[0]]["Properties"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["CompatibleRuntimes"] == ["python3.12"]


def test_function_environment_follows_settings(synth):
    for name, props in our_functions(synth).items():
        env = props["Environment"]["Variables"]
        assert REQUIRED_ENV <= set(env), f"{name} lacks {REQUIRED_ENV - set(env)}"
        assert env["POWERTOOLS_SERVICE_NAME"] == "helpdesk"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Helpdesk"
        assert env["DB_NAME"] == "helpdesk"
        # The signing key is never in the template: functions get the secret's ARN.
        assert "HELPDESK_SIGNING_KEY" not in env
        assert "resolve:secretsmanager" not in json.dumps(env)
    env = {n: p["Environment"]["Variables"] for n, p in our_functions(synth).items()}
    assert env["api"]["SUPPORT_DOMAIN"] == ("dev.example.com" if synth.stage == "dev" else "help.example.org")
    for name in ("api", "inbound_email", "outbound", "notifier", "sweep"):
        assert "EVENTS_TOPIC_ARN" in env[name], name
    for name in ("api", "inbound_email", "outbound", "notifier"):
        assert "HELPDESK_SIGNING_KEY_SECRET_ARN" in env[name], name
    assert {"RAW_MAIL_BUCKET", "ATTACHMENTS_BUCKET"} <= set(env["inbound_email"])
    assert "SES_CONFIGURATION_SET" in env["outbound"] and "SLACK_SECRET_ARN" in env["outbound"]
    assert "AUDIT_BUCKET" in env["audit_export"]
    assert "EVENTS_TOPIC_ARN" not in env["migrate"] and "AUDIT_BUCKET" not in env["api"]


def test_aurora_serverless_v2_with_data_api(dev, prod):
    for synth, min_capacity in ((dev, 0), (prod, 0.5)):
        clusters = synth.resources("AWS::RDS::DBCluster")
        assert len(clusters) == 1
        cluster = next(iter(clusters.values()))["Properties"]
        assert cluster["Engine"] == "aurora-postgresql"
        assert cluster["EngineVersion"].startswith("16.")
        assert cluster["EnableHttpEndpoint"] is True
        assert cluster["StorageEncrypted"] is True
        assert cluster["DatabaseName"] == "helpdesk"
        assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == min_capacity
        assert "resolve:secretsmanager" in json.dumps(cluster["MasterUserPassword"])
        instances = synth.resources("AWS::RDS::DBInstance").values()
        assert all(i["Properties"]["DBInstanceClass"] == "db.serverless" for i in instances)
    dev_cluster = next(iter(dev.resources("AWS::RDS::DBCluster").values()))
    assert dev_cluster["Properties"]["ServerlessV2ScalingConfiguration"]["SecondsUntilAutoPause"] == 600
    assert dev_cluster["Properties"].get("DeletionProtection") in (None, False)
    prod_cluster = next(iter(prod.resources("AWS::RDS::DBCluster").values()))
    assert prod_cluster["Properties"]["DeletionProtection"] is True
    assert prod_cluster["Properties"]["BackupRetentionPeriod"] == 14
    assert prod_cluster["DeletionPolicy"] == "Snapshot"
    assert len(prod.resources("AWS::RDS::DBInstance")) == 2  # writer + failover reader


def test_buckets_private_encrypted_tls_only(synth):
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) >= 5  # access logs, raw mail, attachments, audit, web
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, logical_id
        assert props.get("LifecycleConfiguration", {}).get("Rules"), f"{logical_id} has no lifecycle rule"
    policies = synth.resources("AWS::S3::BucketPolicy").values()
    protected = {json.dumps(p["Properties"]["Bucket"]) for p in policies
                 if any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                        for s in p["Properties"]["PolicyDocument"]["Statement"])}
    for logical_id in buckets:
        assert json.dumps({"Ref": logical_id}) in protected, f"{logical_id} does not deny plain HTTP"


def test_attachments_accept_presigned_posts_from_the_web_origin_only(synth):
    attachments = next(v for k, v in synth.resources("AWS::S3::Bucket").items() if k.startswith("DataAttachments"))
    rules = attachments["Properties"]["CorsConfiguration"]["CorsRules"]
    assert len(rules) == 1 and "POST" in rules[0]["AllowedMethods"]
    origins = json.dumps(rules[0]["AllowedOrigins"])
    assert "WebCdn" in origins and '"*"' not in origins
    others = [k for k, v in synth.resources("AWS::S3::Bucket").items()
              if "CorsConfiguration" in v["Properties"] and not k.startswith("DataAttachments")]
    assert others == []


def test_queues_and_topics_encrypted_with_dlqs(synth):
    queues = synth.resources("AWS::SQS::Queue")
    assert len(queues) == 9  # inbound, notify, outbound, push + a DLQ each, and the scheduled runs' failure queue
    for logical_id, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, logical_id
    with_dlq = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(with_dlq) == 4
    for topic_id, topic in synth.resources("AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in topic["Properties"], topic_id
    for key in synth.resources("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_sns_fans_out_by_event_type_like_the_local_stack(synth):
    from local.aws import QUEUES
    subscriptions = [s["Properties"] for s in synth.resources("AWS::SNS::Subscription").values()
                     if s["Properties"]["Protocol"] == "sqs"]
    policies = sorted(json.dumps(s["FilterPolicy"], sort_keys=True) for s in subscriptions)
    assert policies == sorted(json.dumps(p, sort_keys=True) for p in QUEUES.values() if p is not None)
    assert all(s["RawMessageDelivery"] is True for s in subscriptions)


def _passes(policy: dict, event_type: str) -> bool:
    """Whether an SNS filter policy on the `event_type` attribute lets a message of this type through
    (the two forms we use: a list of exact strings, and {"anything-but": [...]})."""
    assert set(policy) == {"event_type"}, policy
    for condition in policy["event_type"]:
        if isinstance(condition, str):
            if condition == event_type:
                return True
        elif set(condition) == {"anything-but"}:
            if event_type not in condition["anything-but"]:
                return True
        else:
            raise AssertionError(f"a filter form this test does not know: {condition}")
    return False


def test_outbound_hears_exactly_the_event_types_it_acts_on(synth):
    """The outbound queue's subscription passes every type helpdesk.outbound.dispatch acts on and no
    other known type (each would cost an invocation that does nothing); the publisher sets the
    attribute it filters on."""
    from helpdesk.events.schemas import EVENT_TYPES
    from helpdesk.events.sns import SnsPublisher
    from helpdesk.outbound.dispatch import EVENT_TYPES as OUTBOUND

    queue = next(k for k in synth.resources("AWS::SQS::Queue") if k.startswith("MessagingOutboundQueue"))
    [policy] = [s["Properties"]["FilterPolicy"] for s in synth.resources("AWS::SNS::Subscription").values()
                if s["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]}]
    assert set(OUTBOUND) <= set(EVENT_TYPES)
    assert {t for t in EVENT_TYPES if _passes(policy, t)} == set(OUTBOUND)
    for event_type in OUTBOUND:
        attributes = SnsPublisher.entry(_event(event_type))["MessageAttributes"]
        assert attributes["event_type"] == {"DataType": "String", "StringValue": event_type}


def _event(event_type: str):
    from types import SimpleNamespace

    # SnsPublisher.entry reads only these of an event.
    return SimpleNamespace(id="00000000-0000-0000-0000-000000000001", type=event_type, ticket_id=None,
                           to_json=lambda: "{}")


def test_queue_consumers_report_batch_item_failures(synth):
    mappings = [m["Properties"] for m in synth.resources("AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == 4
    consumers = sorted(n for n, logical in entry_point_ids(synth).items()
                       for m in mappings if names(m["FunctionName"], logical))
    assert consumers == ["inbound_email", "notifier", "outbound", "push"]
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2


def _function_logical_ids(synth) -> dict[str, str]:
    ids = {}
    for logical_id, resource in synth.resources("AWS::Lambda::Function").items():
        match = re.fullmatch(r"functions/(\w+)/handler\.handler", resource["Properties"].get("Handler", ""))
        if match:
            ids[match.group(1)] = logical_id
    return ids


def names(function_name: dict, logical: str) -> bool:
    """Does an event source mapping's FunctionName name `logical` (a function, or an alias: CDK
    writes the alias's function name qualified by ':live', taken from its ARN)?"""
    text = json.dumps(function_name)
    return function_name == {"Ref": logical} or (f'"{logical}"' in text and ":live" in text)


def entry_point_ids(synth) -> dict[str, str]:
    """function name -> the logical id its callers invoke: the function, or for a SnapStart function
    its alias `live` (SnapStart serves published versions only)."""
    aliases = {r["Properties"]["FunctionName"]["Ref"]: k for k, r in synth.resources("AWS::Lambda::Alias").items()}
    return {name: aliases.get(logical, logical) for name, logical in _function_logical_ids(synth).items()}


def test_ses_inbound_rule_set_scanning_to_s3_and_activation(synth):
    rules = [r["Properties"]["Rule"] for r in synth.resources("AWS::SES::ReceiptRule").values()]
    assert len(rules) == 1
    rule = rules[0]
    domain = "dev.example.com" if synth.stage == "dev" else "help.example.org"
    assert rule["Recipients"] == [f"support@{domain}"]  # SES matches support+<token>@ too
    assert rule["ScanEnabled"] is True and rule["Enabled"] is True
    s3_action = rule["Actions"][0]["S3Action"]
    assert s3_action["ObjectKeyPrefix"] == "raw/"
    activation = [r["Properties"] for r in synth.resources("Custom::SesActiveRuleSet").values()]
    rule_sets = {k: v["Properties"]["RuleSetName"] for k, v in synth.resources("AWS::SES::ReceiptRuleSet").items()}
    assert [rule_sets[a["RuleSetName"]["Ref"]] for a in activation] == [f"helpdesk-{synth.stage}"]
    # raw mail bucket -> SQS inbound on raw/ objects
    notifications = [n["Properties"]["NotificationConfiguration"]
                     for n in synth.resources("Custom::S3BucketNotifications").values()]
    assert len(notifications) == 1
    queue_config = notifications[0]["QueueConfigurations"][0]
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    assert queue_config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "raw/"}]
    identities = [i["Properties"] for i in synth.resources("AWS::SES::EmailIdentity").values()]
    assert [i["EmailIdentity"] for i in identities] == [domain]
    assert len(synth.resources("AWS::SES::ConfigurationSet")) == 1


def test_rest_api_cognito_public_routes_throttling_logs(synth):
    authorizers = [a["Properties"] for a in synth.resources("AWS::ApiGateway::Authorizer").values()]
    assert [a["Type"] for a in authorizers] == ["COGNITO_USER_POOLS"]
    resources = {k: v["Properties"]["PathPart"] for k, v in synth.resources("AWS::ApiGateway::Resource").items()}
    parents = {k: v["Properties"]["ParentId"] for k, v in synth.resources("AWS::ApiGateway::Resource").items()}

    def path(resource_id: str) -> str:
        parts = []
        while resource_id in resources:
            parts.append(resources[resource_id])
            parent = parents[resource_id]
            resource_id = parent.get("Ref", "") if isinstance(parent, dict) else ""
        return "/" + "/".join(reversed(parts))

    methods = {}
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue  # CORS preflight
        methods[(path(props["ResourceId"]["Ref"]), props["HttpMethod"])] = props
    public_routes = {("/api/v1/public/{proxy+}", "ANY"), ("/api/v1/portal/{proxy+}", "ANY"),
                     ("/api/v1/channels/slack/events", "POST")}
    if synth.stage == "prod":  # prod's test context sets chatAllowedOrigins: the chat routes get their own resource
        public_routes.add(("/api/v1/public/chat/{proxy+}", "ANY"))
    assert set(methods) == {("/api/v1/{proxy+}", "ANY"), *public_routes}
    assert methods[("/api/v1/{proxy+}", "ANY")]["AuthorizationType"] == "COGNITO_USER_POOLS"
    for key in public_routes:
        assert methods[key]["AuthorizationType"] == "NONE", key
    for props in methods.values():
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert "RequestValidatorId" in props
    stage = next(iter(synth.resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert "DestinationArn" in stage["AccessLogSetting"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    # docs/deploy.md "Live updates: sizing": prod carries 2,000 agents' peak (about 150/s) twice over.
    assert (settings[("/*", "*")]["ThrottlingRateLimit"], settings[("/*", "*")]["ThrottlingBurstLimit"]) == \
        ((300, 600) if synth.stage == "prod" else (50, 100))
    assert all(s.get("DataTraceEnabled") in (None, False) for s in settings.values())
    groups = sorted(g["Properties"]["GroupName"] for g in synth.resources("AWS::Cognito::UserPoolGroup").values())
    assert groups == ["admin", "agent", "lead"]
    pool = next(iter(synth.resources("AWS::Cognito::UserPool").values()))["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    client = next(iter(synth.resources("AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert "/index.html" in json.dumps(client["CallbackURLs"])
    assert len(synth.resources("AWS::Cognito::UserPoolDomain")) == 1
    cors_responses = [r["Properties"] for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()]
    assert sorted(r["ResponseType"] for r in cors_responses) == ["DEFAULT_4XX", "DEFAULT_5XX"]
    assert all("gatewayresponse.header.Access-Control-Allow-Origin" in r["ResponseParameters"] for r in cors_responses)
    assert len(synth.resources("AWS::WAFv2::WebACLAssociation")) == 1
    acl = next(iter(synth.resources("AWS::WAFv2::WebACL").values()))["Properties"]
    assert {"PerIpRateLimit", "FormPerIpRateLimit", "ChatPerIpRateLimit", "PublicBodySizeLimit"} <= {
        r["Name"] for r in acl["Rules"]}
    size_rule = next(r for r in acl["Rules"] if r["Name"] == "PublicBodySizeLimit")
    assert '"Size": 65536' in json.dumps(size_rule)
    # WAF must inspect as much body as the limit, or every body over 16 KB would be blocked
    assert acl["AssociationConfig"]["RequestBody"]["API_GATEWAY"]["DefaultSizeInspectionLimit"] == "KB_64"


def test_schedules_sweep_every_minute_and_daily_audit_export(synth):
    ids = _function_logical_ids(synth)
    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()]
    by_target = {}
    for rule in rules:
        for target in rule["Targets"]:
            arn = target["Arn"]
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                by_target[arn["Fn::GetAtt"][0]] = rule["ScheduleExpression"]
    assert by_target[ids["sweep"]] == "rate(1 minute)"
    assert by_target[ids["audit_export"]] == "cron(15 3 * * ? *)"
    assert by_target[ids["notifier"]] == "rate(1 minute)"  # deferred (quiet hours) notifications


def test_migrations_run_by_trigger_after_the_cluster(synth):
    ids = _function_logical_ids(synth)
    triggers = synth.resources("Custom::Trigger")
    assert len(triggers) == 1
    trigger = next(iter(triggers.values()))
    handler = trigger["Properties"]["HandlerArn"]["Ref"]  # the migrate function's current version
    version = synth.template["Resources"][handler]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": ids["migrate"]}
    cluster_ids = set(synth.resources("AWS::RDS::DBCluster")) | set(synth.resources("AWS::RDS::DBInstance"))
    assert cluster_ids <= set(trigger["DependsOn"])
    for name in ("api", "inbound_email", "sweep"):
        # new code goes live only after migrations ran
        function = synth.template["Resources"][ids[name]]
        assert any(dep.startswith("WorkersMigrateOnDeploy") for dep in function.get("DependsOn", [])), name


def test_web_bucket_behind_cloudfront_with_origin_access_control(synth):
    distributions = [d["Properties"]["DistributionConfig"] for d in synth.resources("AWS::CloudFront::Distribution").values()]
    assert len(distributions) == 1
    origin = distributions[0]["Origins"][0]
    assert "OriginAccessControlId" in origin
    assert distributions[0]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert len(synth.resources("AWS::CloudFront::OriginAccessControl")) == 1


def test_web_directory_is_deployed_with_generated_config_when_present(synth):
    from infra.web import WEB_DIR

    deployments = synth.resources("Custom::CDKBucketDeployment")
    assert len(deployments) == (1 if WEB_DIR.is_dir() else 0)


def test_chat_widget_origins_pass_cors_on_the_chat_routes_only(dev, prod):
    def preflight_templates(synth) -> dict[str, str]:
        """OPTIONS methods' integration response templates, by resource logical id."""
        # the root resource is referenced by GetAtt (RootResourceId), the others by Ref
        return {m["Properties"]["ResourceId"].get("Ref", "root"): json.dumps(m["Properties"]["Integration"])
                for m in synth.resources("AWS::ApiGateway::Method").values()
                if m["Properties"]["HttpMethod"] == "OPTIONS"}

    def env(synth) -> dict[str, str]:
        return our_functions(synth)["api"]["Environment"]["Variables"]

    assert "CHAT_ALLOWED_ORIGINS" not in env(dev)
    assert not any("shop.example.org" in t for t in preflight_templates(dev).values())
    assert env(prod)["CHAT_ALLOWED_ORIGINS"] == "https://shop.example.org,https://www.example.org"
    chat = [k for k, v in prod.resources("AWS::ApiGateway::Resource").items() if v["Properties"]["PathPart"] == "chat"]
    assert len(chat) == 1
    with_chat_origin = {rid for rid, t in preflight_templates(prod).items() if "shop.example.org" in t}
    chat_proxy = {k for k, v in prod.resources("AWS::ApiGateway::Resource").items()
                  if v["Properties"]["ParentId"] == {"Ref": chat[0]}}
    # the chat resource and its {proxy+}, nothing else (the agent API keeps the web origin only)
    assert with_chat_origin == {chat[0], *chat_proxy}

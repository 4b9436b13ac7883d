"""Live updates in the template (infra/push.py): the Event API's auth modes and namespaces, the push
consumer (fed by the topic, no batching window, allowed to publish), the authorizer, the sizing."""
from __future__ import annotations

import json

from tests.infra.conftest import FUNCTION_NAMES  # noqa: F401 - the push functions are among them
from tests.infra.test_stack_resources import entry_point_ids, names


def only(synth, type_: str) -> dict:
    found = list(synth.resources(type_).values())
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]["Properties"]


def logical_id(synth, type_: str, prefix: str) -> str:
    ids = [k for k in synth.resources(type_) if k.startswith(prefix)]
    assert len(ids) == 1, (prefix, ids)
    return ids[0]


def function_id(synth, name: str) -> str:
    """The logical id of functions/<name>."""
    ids = [k for k, r in synth.resources("AWS::Lambda::Function").items()
           if r["Properties"].get("Handler") == f"functions/{name}/handler.handler"]
    assert len(ids) == 1, (name, ids)
    return ids[0]


def test_the_event_api_takes_the_agents_cognito_pool_the_authorizer_and_iam(synth):
    config = only(synth, "AWS::AppSync::Api")["EventConfig"]
    providers = {p["AuthType"]: p for p in config["AuthProviders"]}
    assert set(providers) == {"AMAZON_COGNITO_USER_POOLS", "AWS_LAMBDA", "AWS_IAM"}
    pool = logical_id(synth, "AWS::Cognito::UserPool", "ApiAgents")
    assert providers["AMAZON_COGNITO_USER_POOLS"]["CognitoConfig"]["UserPoolId"] == {"Ref": pool}  # the API's own pool
    # SnapStart (infra/workers.py): the Event API calls the authorizer's published version, through its alias.
    authorizer = function_id(synth, "push_authorizer")
    alias = [k for k, r in synth.resources("AWS::Lambda::Alias").items()
             if r["Properties"]["FunctionName"] == {"Ref": authorizer}]
    assert len(alias) == 1 and providers["AWS_LAMBDA"]["LambdaAuthorizerConfig"]["AuthorizerUri"] == {"Ref": alias[0]}
    # Never cached (CDK's default is 5 minutes): the answer depends on the channel (functions/push_authorizer).
    assert providers["AWS_LAMBDA"]["LambdaAuthorizerConfig"]["AuthorizerResultTtlInSeconds"] == 0
    # A customer's token of the wrong shape is refused before the authorizer is called.
    from helpdesk.push.access import CUSTOMER_TOKEN_PATTERN
    assert providers["AWS_LAMBDA"]["LambdaAuthorizerConfig"]["IdentityValidationExpression"] == CUSTOMER_TOKEN_PATTERN
    assert [m["AuthType"] for m in config["ConnectionAuthModes"]] == ["AMAZON_COGNITO_USER_POOLS", "AWS_LAMBDA"]
    assert [m["AuthType"] for m in config["DefaultPublishAuthModes"]] == ["AWS_IAM"]  # never an API key
    assert "LogConfig" not in config


def test_only_this_event_api_may_invoke_the_authorizer(synth):
    authorizer = entry_point_ids(synth)["push_authorizer"]
    api = logical_id(synth, "AWS::AppSync::Api", "PushEventApi")
    grants = [r["Properties"] for r in synth.resources("AWS::Lambda::Permission").values()
              if r["Properties"]["FunctionName"] in ({"Ref": authorizer},
                                                      {"Fn::GetAtt": [function_id(synth, "push_authorizer"), "Arn"]})]
    assert grants == [{"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": authorizer},
                       "Principal": "appsync.amazonaws.com", "SourceArn": {"Fn::GetAtt": [api, "ApiArn"]}}]


def test_each_namespace_has_its_auth_modes_and_the_agents_ones_their_handlers(synth):
    spaces = {r["Properties"]["Name"]: r["Properties"] for r in synth.resources("AWS::AppSync::ChannelNamespace").values()}
    assert set(spaces) == {"tickets", "teams", "agents", "chat", "portal"}
    modes = lambda props, key: sorted(m["AuthType"] for m in props[key])  # noqa: E731
    for name in ("tickets", "teams", "agents"):
        assert modes(spaces[name], "SubscribeAuthModes") == ["AMAZON_COGNITO_USER_POOLS"], name
        assert "CodeS3Location" in spaces[name] or "CodeHandlers" in spaces[name], name
    assert modes(spaces["tickets"], "PublishAuthModes") == ["AMAZON_COGNITO_USER_POOLS", "AWS_IAM"]  # presence
    for name in ("teams", "agents", "chat", "portal"):
        assert modes(spaces[name], "PublishAuthModes") == ["AWS_IAM"], name
    for name in ("chat", "portal"):
        assert modes(spaces[name], "SubscribeAuthModes") == ["AWS_LAMBDA"], name
        assert "CodeS3Location" not in spaces[name] and "CodeHandlers" not in spaces[name]


def test_the_push_function_is_fed_by_the_topic_without_a_batching_window(synth):
    push = entry_point_ids(synth)["push"]  # its alias: SnapStart (infra/workers.py)
    queue = logical_id(synth, "AWS::SQS::Queue", "MessagingPushQueue")
    mapping = next(r["Properties"] for r in synth.resources("AWS::Lambda::EventSourceMapping").values()
                   if names(r["Properties"]["FunctionName"], push))
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert mapping.get("MaximumBatchingWindowInSeconds", 0) == 0  # a change must show within a second
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == 5
    subscription = next(r["Properties"] for r in synth.resources("AWS::SNS::Subscription").values()
                        if r["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]})
    assert subscription["RawMessageDelivery"] is True
    assert subscription["FilterPolicy"] == {"event_type": [{"anything-but": ["outbound.requested"]}]}
    env = synth.resources("AWS::Lambda::Function")[function_id(synth, "push")]["Properties"]["Environment"]["Variables"]
    api = logical_id(synth, "AWS::AppSync::Api", "PushEventApi")
    assert env["PUSH_HTTP_ENDPOINT"] == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [api, "Dns.Http"]}, "/event"]]}


def test_only_the_push_function_may_publish(synth):
    publishers = []
    for policy_id, policy in synth.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("appsync:EventPublish") or a == "appsync:*" for a in actions):
                publishers.append(policy_id)
    assert len(publishers) == 1 and publishers[0].startswith("WorkersPushRole"), publishers


def test_the_api_tells_pages_the_realtime_endpoint(synth):
    api = function_id(synth, "api")
    env = synth.resources("AWS::Lambda::Function")[api]["Properties"]["Environment"]["Variables"]
    api_id = logical_id(synth, "AWS::AppSync::Api", "PushEventApi")
    assert env["PUSH_REALTIME_ENDPOINT"] == {"Fn::Join": ["", ["wss://", {"Fn::GetAtt": [api_id, "Dns.Realtime"]},
                                                               "/event/realtime"]]}
    assert "LiveRealtimeUrl" in synth.template["Outputs"]


def test_the_authorizer_is_capped_and_sees_the_signing_key(synth):
    authorizer = function_id(synth, "push_authorizer")
    props = synth.resources("AWS::Lambda::Function")[authorizer]["Properties"]
    assert "HELPDESK_SIGNING_KEY_SECRET_ARN" in props["Environment"]["Variables"]
    assert props["Timeout"] <= 5


def test_the_chat_widget_may_import_the_push_client_from_a_customers_site(synth):
    config = only(synth, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [behavior] = [b for b in config.get("CacheBehaviors", []) if b["PathPattern"] == "/js/live.js"]
    # The managed policy "CORS-with-preflight-and-SecurityHeadersPolicy" (any origin, security headers kept).
    assert behavior["ResponseHeadersPolicyId"] == "eaab4381-ed33-4a86-88ca-d9558dc6cd63"

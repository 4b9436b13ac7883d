"""Live updates: an AppSync Event API (helpdesk.push, docs/deploy.md "Live updates: sizing").

Why AppSync Events rather than an API Gateway WebSocket API: it is a managed pub/sub service with
channel namespaces, so one HTTP publish reaches every subscriber of a channel; a WebSocket API
would need a connection table (DynamoDB), $connect/$disconnect functions and one PostToConnection
call per subscriber per change, all ours to write, pay for and keep correct. AppSync Events
authorizes with the same Cognito user pool as the REST API, a Lambda authorizer for the customers'
signed tokens and IAM for our publisher, per namespace; and the local stand-in (local/events.py)
speaks its protocol.

Namespaces and who may do what (the rules are helpdesk/push/access.py):
- tickets, teams, agents: agents connect and subscribe with their Cognito ID token; the handlers in
  infra/appsync/agent_channels.js keep /agents/<sub> to its owner and rebuild presence (the only
  thing agents publish, on tickets) from the publisher's identity.
- chat, portal: customers subscribe with their chat session token or portal link, checked by the
  push_authorizer function.
- Every namespace: the push function publishes with IAM (its role alone may).
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from helpdesk.push.access import CUSTOMER_TOKEN_PATTERN
from infra.config import StageConfig

HANDLERS = Path(__file__).resolve().parent / "appsync" / "agent_channels.js"
AGENT_NAMESPACES = ("tickets", "teams", "agents")  # helpdesk.push.channels.AGENT_NAMESPACES
CUSTOMER_NAMESPACES = ("chat", "portal")  # helpdesk.push.channels.CUSTOMER_NAMESPACES
# Never cached: the answer depends on the channel, not on the token alone (functions/push_authorizer).
AUTHORIZER_CACHE = Duration.seconds(0)


class Push(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, user_pool: cognito.IUserPool,
                 publisher: lambda_.Function, authorizer: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        cognito_mode = appsync.AppSyncAuthorizationType.USER_POOL
        lambda_mode = appsync.AppSyncAuthorizationType.LAMBDA
        iam_mode = appsync.AppSyncAuthorizationType.IAM
        self.api = appsync.EventApi(
            self, "EventApi",
            api_name=f"helpdesk-{config.stage}-live",
            authorization_config=appsync.EventApiAuthConfig(
                auth_providers=[
                    appsync.AppSyncAuthProvider(authorization_type=cognito_mode,
                                                cognito_config=appsync.AppSyncCognitoConfig(user_pool=user_pool)),
                    appsync.AppSyncAuthProvider(authorization_type=lambda_mode,
                                                lambda_authorizer_config=appsync.AppSyncLambdaAuthorizerConfig(
                                                    handler=authorizer, results_cache_ttl=AUTHORIZER_CACHE,
                                                    validation_regex=CUSTOMER_TOKEN_PATTERN)),
                    appsync.AppSyncAuthProvider(authorization_type=iam_mode),
                ],
                connection_auth_mode_types=[cognito_mode, lambda_mode],
                default_publish_auth_mode_types=[iam_mode],
                default_subscribe_auth_mode_types=[cognito_mode],
            ),
            # No log_config: CDK's EventApi adds a log-retention function (logs:* on "*") whenever logging
            # is on. Errors and throttling show in the API's CloudWatch metrics (docs/deploy.md).
        )
        code = appsync.Code.from_asset(str(HANDLERS))
        for name in AGENT_NAMESPACES:
            self.api.add_channel_namespace(name, channel_namespace_name=name, code=code, authorization_config=appsync.NamespaceAuthConfig(
                subscribe_auth_mode_types=[cognito_mode],
                publish_auth_mode_types=[iam_mode, cognito_mode] if name == "tickets" else [iam_mode]))
        for name in CUSTOMER_NAMESPACES:
            self.api.add_channel_namespace(name, channel_namespace_name=name, authorization_config=appsync.NamespaceAuthConfig(
                subscribe_auth_mode_types=[lambda_mode], publish_auth_mode_types=[iam_mode]))
        self.api.grant_publish(publisher)
        publisher.add_environment("PUSH_HTTP_ENDPOINT", f"https://{self.api.http_dns}/event")

    @property
    def realtime_url(self) -> str:
        return f"wss://{self.api.realtime_dns}/event/realtime"

"""HelpdeskStack: the whole system in one stack (docs/architecture.md, "The shape")."""
from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.api import Api
from infra.config import StageConfig
from infra.data import DATABASE_NAME, Data
from infra.mail import Mail
from infra.messaging import Messaging
from infra.monitoring import Monitoring
from infra.nag import suppress
from infra.push import Push
from infra.storage import access_log_bucket
from infra.web import Web
from infra.workers import SQS_CONSUMER_TIMEOUT, Workers


class HelpdeskStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, layer_dir: Path,
                 functions_dir: Path | None = None, **kwargs) -> None:
        super().__init__(scope, id, description=f"Helpdesk ticketing system ({config.stage})", **kwargs)
        self.config = config
        Tags.of(self).add("app", "helpdesk")
        Tags.of(self).add("stage", config.stage)

        access_logs = access_log_bucket(self, "AccessLogs")
        self.data = Data(self, "Data", config=config, access_logs=access_logs)
        self.messaging = Messaging(self, "Messaging", config=config, consumer_timeout=SQS_CONSUMER_TIMEOUT)
        self.mail = Mail(self, "Mail", config=config, access_logs=access_logs, consumer_timeout=SQS_CONSUMER_TIMEOUT)
        self.web = Web(self, "Web", config=config, access_logs=access_logs)
        # The customer form and the workspace upload attachments straight to S3 with presigned
        # POSTs from the web origin (helpdesk.auth.uploads; local/aws.py sets the same rule).
        self.data.attachments.add_cors_rule(
            allowed_origins=[self.web.url],
            allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.POST, s3.HttpMethods.GET],
            allowed_headers=["*"], exposed_headers=["ETag"], max_age=3000)
        self.workers = Workers(self, "Workers", config=config, layer_dir=layer_dir, data=self.data,
                               messaging=self.messaging, mail=self.mail, web_base_url=self.web.url,
                               **({"functions_dir": functions_dir} if functions_dir else {}))
        self.api = Api(self, "Api", config=config, handler=self.workers.entry_points["api"], web_origin=self.web.url)
        # Live updates: the push function publishes, pages subscribe where GET /live says.
        self.push = Push(self, "Push", config=config, user_pool=self.api.user_pool,
                         publisher=self.workers.functions["push"], authorizer=self.workers.entry_points["push_authorizer"])
        self.workers.functions["api"].add_environment("PUSH_REALTIME_ENDPOINT", self.push.realtime_url)
        # web/js/config.js reads this; it replaces the committed web/config.json (local defaults).
        self.web.deploy_site({
            "apiBase": f"{self.api.url}api/v1",
            "auth": "cognito",
            "cognito": {
                "domain": self.api.hosted_ui_url,
                "clientId": self.api.client.user_pool_client_id,
                "redirectUri": self.api.redirect_uri,
                "scopes": ["openid", "email", "profile"],
            },
        })
        self.monitoring = Monitoring(
            self, "Monitoring", config=config, key=self.messaging.key, functions=self.workers.functions,
            rest_api=self.api.rest_api,
            dlqs={"inbound": self.mail.inbound.dlq, "notify": self.messaging.notify.dlq,
                  "outbound": self.messaging.outbound.dlq, "push": self.messaging.push.dlq,
                  "scheduled": self.workers.scheduled_failures})

        self._suppress_cdk_internals()

        outputs = {
            "ApiUrl": f"{self.api.url}api/v1",
            "WebUrl": self.web.url,
            "UserPoolId": self.api.user_pool.user_pool_id,
            "UserPoolClientId": self.api.client.user_pool_client_id,
            "SignInUrl": self.api.hosted_ui_url,
            "SupportAddresses": ", ".join(self.mail.recipients),
            "ReceiptRuleSet": self.mail.rule_set.receipt_rule_set_name,
            "DbClusterArn": self.data.cluster.cluster_arn,
            # scripts/smoke.py runs its Data API checks with these (an ARN, never the secret's value).
            "DbSecretArn": self.data.db_secret.secret_arn,
            "DbName": DATABASE_NAME,
            "SlackSecretArn": self.data.slack_secret.secret_arn,
            "EventsTopicArn": self.messaging.topic.topic_arn,
            "LiveRealtimeUrl": self.push.realtime_url,
            "DashboardName": self.monitoring.dashboard.dashboard_name,
            "AlarmTopicArn": self.monitoring.alarm_topic.topic_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
        for index, record in enumerate(self.mail.identity.dkim_records, start=1):
            CfnOutput(self, f"DkimRecord{index}", value=f"{record.name} CNAME {record.value}",
                      description="Publish in DNS to verify the SES domain (Easy DKIM)")

    def _suppress_cdk_internals(self) -> None:
        """Findings on the singleton handlers aws-cdk-lib adds at stack level for our constructs."""
        reasons = {
            "BucketNotificationsHandler": "CDK's S3 bucket-notification handler (configures raw-mail -> SQS)",
            "Custom::CDKBucketDeployment": "CDK's BucketDeployment handler (copies web/ to the site bucket)",
        }
        for child in self.node.children:
            for prefix, what in reasons.items():
                if child.node.id.startswith(prefix):
                    suppress(child, "AwsSolutions-IAM4",
                             f"{what} logs through the AWS managed AWSLambdaBasicExecutionRole; it holds no data access.")
                    suppress(child, "AwsSolutions-IAM5",
                             f"{what}: its policy is generated by aws-cdk-lib for exactly the resources it manages "
                             "(asset and site bucket objects, CloudFront invalidation, which has no resource-level ARN).")
                    suppress(child, "AwsSolutions-L1", f"{what}: runtime chosen and updated by aws-cdk-lib.")

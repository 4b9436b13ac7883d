"""SES inbound (receipt rules -> raw bucket -> S3 notification -> SQS inbound) and SES sending.

Receipt rule recipients are `<local part>@<supportDomain>` for each configured mailbox. SES matches
an address rule on its +label forms too, so `support@domain` also receives the signed reply
addresses `support+<token>.<hmac>@domain` that outbound mail carries in Reply-To.
"""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import StageConfig
from infra.messaging import QueueWithDlq
from infra.nag import suppress
from infra.storage import private_bucket

RAW_PREFIX = "raw/"


class Mail(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, access_logs: s3.IBucket,
                 consumer_timeout: Duration) -> None:
        super().__init__(scope, id)
        self.domain = config.support_domain
        self.recipients = [f"{local}@{config.support_domain}" for local in config.receiving_local_parts]

        self.raw_bucket = private_bucket(
            self, "RawMail", access_logs=access_logs,
            lifecycle_rules=[s3.LifecycleRule(
                id="age-out",
                abort_incomplete_multipart_upload_after=Duration.days(1),
                transitions=[
                    s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)),
                    s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=Duration.days(180)),
                ],
            )],
        )
        self.inbound = QueueWithDlq(self, "Inbound", visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6))
        self.raw_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(self.inbound.queue), s3.NotificationKeyFilter(prefix=RAW_PREFIX))

        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", rules=[ses.ReceiptRuleOptions(
            receipt_rule_name=f"helpdesk-{config.stage}-to-s3",
            recipients=self.recipients,
            scan_enabled=True,  # SES adds X-SES-Spam-Verdict / X-SES-Virus-Verdict headers for intake
            tls_policy=ses.TlsPolicy.OPTIONAL,  # many senders still deliver without TLS
            enabled=True,
            actions=[ses_actions.S3(bucket=self.raw_bucket, object_key_prefix=RAW_PREFIX)],
        )])

        # Only one receipt rule set is active per account and region: this activates ours on deploy
        # and deactivates it on delete (docs/deploy.md warns about an existing active set).
        activate = cr.AwsSdkCall(
            service="SES", action="setActiveReceiptRuleSet",
            parameters={"RuleSetName": self.rule_set.receipt_rule_set_name},
            physical_resource_id=cr.PhysicalResourceId.of(f"helpdesk-{config.stage}-active-rule-set"),
        )
        self.activation = cr.AwsCustomResource(
            self, "ActivateRuleSet",
            on_create=activate, on_update=activate,
            on_delete=cr.AwsSdkCall(service="SES", action="setActiveReceiptRuleSet", parameters={},
                                    physical_resource_id=cr.PhysicalResourceId.of(f"helpdesk-{config.stage}-active-rule-set")),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["ses:SetActiveReceiptRuleSet"], resources=["*"]),
            ]),
            install_latest_aws_sdk=False,
        )
        self.activation.node.add_dependency(self.rule_set)

        # Sending: the domain identity (Easy DKIM) and a configuration set for outbound mail.
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet",
            reputation_metrics=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            sending_enabled=True,
        )
        self.identity = ses.EmailIdentity(
            self, "DomainIdentity", identity=ses.Identity.domain(config.support_domain),
            configuration_set=self.configuration_set,
        )

        suppress(self.activation, "AwsSolutions-IAM5",
                 "ses:SetActiveReceiptRuleSet has no resource-level permissions; IAM requires Resource '*'.",
                 applies_to=["Resource::*"])

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """SES sending from the support domain identity with this configuration set only."""
        stack = Stack.of(self)
        identity_arn = stack.format_arn(service="ses", resource="identity", resource_name=self.domain)
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resource_arns=[identity_arn, configuration_set_arn],
        )

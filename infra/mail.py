"""SES inbound (receipt rules -> raw bucket -> S3 notification -> SQS inbound) and SES sending.

Receipt rule recipients are `<local part>@<supportDomain>` for each configured mailbox. SES matches
an address rule on its +label forms too, so `support@domain` also receives the signed reply
addresses `support+<token>.<hmac>@domain` that outbound mail carries in Reply-To.
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from constructs import Construct

from infra.config import StageConfig
from infra.messaging import QueueWithDlq
from infra.nag import suppress
from infra.storage import private_bucket

RAW_PREFIX = "raw/"
RULE_SET_HANDLER_DIR = Path(__file__).resolve().parent / "receipt_rule_set"


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

        # SES has one active receipt rule set per account and region. By default the stack owns one
        # and activates it (refusing to replace another active set: infra/receipt_rule_set/index.py);
        # with receiptRuleSetName it adds its rule to that set, which someone else owns and activates.
        self.rule_name = f"helpdesk-{config.stage}-to-s3"
        rule = dict(
            receipt_rule_name=self.rule_name,
            recipients=self.recipients,
            scan_enabled=True,  # SES adds X-SES-Spam-Verdict / X-SES-Virus-Verdict headers for intake
            tls_policy=ses.TlsPolicy.OPTIONAL,  # many senders still deliver without TLS
            enabled=True,
            actions=[ses_actions.S3(bucket=self.raw_bucket, object_key_prefix=RAW_PREFIX)],
        )
        if config.receipt_rule_set_name:
            self.rule_set = ses.ReceiptRuleSet.from_receipt_rule_set_name(
                self, "SharedRuleSet", config.receipt_rule_set_name)
            ses.ReceiptRule(self, "Rule", rule_set=self.rule_set, **rule)
            self.activation = None
        else:
            # A fixed name: another stage in the account adds its rule with -c receiptRuleSetName=<it>.
            self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", receipt_rule_set_name=f"helpdesk-{config.stage}",
                                               rules=[ses.ReceiptRuleOptions(**rule)])
            self.activation = self._activate(self.rule_set)

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


    def _activate(self, rule_set: ses.ReceiptRuleSet) -> CustomResource:
        role = iam.Role(self, "ActivateRuleSetRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Helpdesk: activates the stack's SES receipt rule set")
        role.add_to_policy(iam.PolicyStatement(
            actions=["ses:DescribeActiveReceiptRuleSet", "ses:SetActiveReceiptRuleSet", "ses:DescribeReceiptRuleSet"],
            resources=["*"]))
        log_group = logs.LogGroup(self, "ActivateRuleSetLogs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        function = lambda_.Function(
            self, "ActivateRuleSetFunction",
            description="Custom resource: activates the SES receipt rule set without replacing another one",
            runtime=lambda_.Runtime.PYTHON_3_12, architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(str(RULE_SET_HANDLER_DIR)), handler="index.handler",
            timeout=Duration.minutes(1), role=role, log_group=log_group)
        suppress(role, "AwsSolutions-IAM5",
                 "SES receipt rule set actions (Describe/SetActive) have no resource-level permissions: Resource '*'.",
                 applies_to=["Resource::*"])
        suppress(function, "AwsSolutions-L1", "Python 3.12 like the stack's other functions (tested there).")
        activation = CustomResource(
            self, "ActivateRuleSet", service_token=function.function_arn, resource_type="Custom::SesActiveRuleSet",
            properties={"RuleSetName": rule_set.receipt_rule_set_name, "OwnRules": [self.rule_name]})
        activation.node.add_dependency(rule_set)
        return activation

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

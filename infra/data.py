"""Aurora PostgreSQL Serverless v2 behind the RDS Data API, its secrets, and the data buckets.

The functions reach the database only through the Data API (HTTPS), so they run outside any
VPC; the VPC below exists only because an Aurora cluster needs subnets. It has isolated subnets
and no NAT: nothing in it can reach or be reached from the internet.
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.nag import suppress
from infra.storage import private_bucket

DATABASE_NAME = "helpdesk"
# Aurora PostgreSQL 16.3+ supports a minimum capacity of 0 ACU (auto-pause).
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_8


class Data(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.SNAPSHOT if config.is_prod else RemovalPolicy.DESTROY

        flow_logs = logs.LogGroup(self, "VpcFlowLogs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=RemovalPolicy.DESTROY)
        self.vpc = ec2.Vpc(
            self, "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(
                name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)],
            restrict_default_security_group=False,  # nothing runs in this VPC but the cluster
            flow_logs={"all": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                traffic_type=ec2.FlowLogTrafficType.ALL)},
        )

        self.cluster_identifier = f"helpdesk-{config.stage}"
        # Created before the cluster so its retention is ours (no log-retention custom resource).
        self.postgres_logs = logs.LogGroup(
            self, "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{self.cluster_identifier}/postgresql",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        auto_pause = (Duration.minutes(config.db_auto_pause_minutes) if config.db_min_capacity == 0 else None)
        self.cluster = rds.DatabaseCluster(
            self, "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            cluster_identifier=self.cluster_identifier,
            credentials=rds.Credentials.from_generated_secret("helpdesk_admin"),
            default_database_name=DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2("writer", auto_minor_version_upgrade=True),
            # prod: a second instance in another AZ for failover (the Data API uses the writer).
            readers=[rds.ClusterInstance.serverless_v2("reader", scale_with_writer=True, auto_minor_version_upgrade=True)]
            if config.is_prod else [],
            serverless_v2_min_capacity=config.db_min_capacity,
            serverless_v2_max_capacity=config.db_max_capacity,
            serverless_v2_auto_pause_duration=auto_pause,
            enable_data_api=True,
            storage_encrypted=True,
            deletion_protection=config.deletion_protection,
            backup=rds.BackupProps(retention=Duration.days(config.db_backup_retention_days),
                                   preferred_window="03:00-04:00"),
            preferred_maintenance_window="Sun:04:30-Sun:05:30",
            cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            removal_policy=removal,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
        self.cluster.node.add_dependency(self.postgres_logs)
        assert self.cluster.secret is not None
        self.db_secret = self.cluster.secret

        # Signs reply-address tokens and portal links (HMAC). Functions get its ARN, not its value.
        self.signing_key = secretsmanager.Secret(
            self, "SigningKey",
            description="Helpdesk HMAC key for reply-address tokens and portal links",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False),
            removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
        )
        # Slack app credentials, filled in by the operator (docs/deploy.md). The generated signing
        # secret means no request verifies until the real one is stored.
        self.slack_secret = secretsmanager.Secret(
            self, "SlackCredentials",
            description='Helpdesk Slack app: {"bot_token": "...", "signing_secret": "..."}',
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"bot_token": ""}', generate_string_key="signing_secret",
                password_length=48, exclude_punctuation=True),
            removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
        )

        self.attachments = private_bucket(
            self, "Attachments", access_logs=access_logs, versioned=True,
            lifecycle_rules=[s3.LifecycleRule(
                id="age-out",
                abort_incomplete_multipart_upload_after=Duration.days(1),
                transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                           transition_after=Duration.days(90))],
                noncurrent_version_expiration=Duration.days(30),
            )],
        )
        self.audit = private_bucket(
            self, "Audit", access_logs=access_logs, versioned=True,
            lifecycle_rules=[s3.LifecycleRule(
                id="archive",
                abort_incomplete_multipart_upload_after=Duration.days(1),
                transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                           transition_after=Duration.days(90))],
                noncurrent_version_expiration=Duration.days(365),
            )],
        )

        suppress(self.vpc, "AwsSolutions-EC23",
                 "Default security group rules are CDK defaults; the cluster SG has no ingress and nothing else runs in the VPC.")
        suppress(self.cluster, "AwsSolutions-SMG4",
                 "Master credentials are used only through the Data API; rotation needs a rotation Lambda inside this "
                 "isolated VPC plus a Secrets Manager endpoint, a follow-up listed in docs/deploy.md.")
        suppress(self.cluster, "AwsSolutions-RDS6",
                 "IAM database authentication does not apply: clients use the RDS Data API with a Secrets Manager secret.")
        suppress(self.cluster, "AwsSolutions-RDS11",
                 "The cluster sits in isolated subnets with no ingress; only the Data API reaches it, so the port is not exposed.")
        if not config.deletion_protection:
            suppress(self.cluster, "AwsSolutions-RDS10",
                     f"Stage '{config.stage}' is disposable; deletion protection is on for prod (context deletionProtection).")
        suppress(self.signing_key, "AwsSolutions-SMG4",
                 "Rotating the HMAC key would invalidate every outstanding reply address and portal link; rotate by runbook.")
        suppress(self.slack_secret, "AwsSolutions-SMG4",
                 "Slack issues these credentials; they are rotated in Slack and stored here by the operator.")

    def grant_data_api(self, grantee: iam.IGrantable) -> None:
        """Data API calls on this cluster only, plus reading its credentials secret."""
        self.cluster.grant_data_api_access(grantee)

"""The seven Lambda functions, their layer, permissions, triggers and schedules.

Every function: Python 3.12 on arm64, the one `helpdesk` layer, its own role (no managed
policies), its own log group, X-Ray tracing, and only the grants listed in ACCESS below.

The code asset of a function is `functions/<name>/` staged at that same path, and the handler
is `functions/<name>/handler.handler` (module `functions.<name>.handler`): a handler imports its
siblings the same way in Lambda and in local tests (`from functions.api.routes import ...` or
relative imports), and no function ships another's code.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import triggers
from constructs import Construct

from infra.config import StageConfig
from infra.data import DATABASE_NAME, Data
from infra.mail import RAW_PREFIX, Mail
from infra.messaging import Messaging
from infra.nag import suppress
from scripts.build_layer import compile_bytecode

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
STAGING_DIR = ROOT / "build" / "lambda"
RUNTIME = lambda_.Runtime.PYTHON_3_12  # the layer's wheels and bytecode are built for it (scripts/build_layer.py)
# Where Lambda unpacks a function's code: the paths compiled into its pycs.
TASK_ROOT = "/var/task"
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "Helpdesk"
SERVICE_NAME = "helpdesk"
SQS_CONSUMER_TIMEOUT = Duration.seconds(60)
# Run by EventBridge schedules (asynchronous invocations).
SCHEDULED_FUNCTIONS = ("sweep", "notifier", "audit_export")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    memory_mb: int
    timeout: Duration
    # Reserved concurrency (when reserveConcurrency is on): caps what one function can do to
    # the database. SQS consumers are capped by their event source's maximum concurrency instead,
    # which does not throttle (throttling an SQS consumer only burns receive attempts).
    reserved: int | None = None
    # SnapStart: Lambda runs the init once per published version and resumes new environments from its
    # snapshot. Worth it where a person waits on a cold start: the API; the push authorizer, on every
    # page's connect and subscribe; push, whose signals must reach open screens within a second of
    # the commit (a cold push environment at 512 MB takes longer than that). The other consumers and
    # schedules are asynchronous, and their snapshots would be cached (and billed) for nothing.
    # bench/coldstart.py measures both kinds.
    snap_start: bool = False


def function_specs(config: StageConfig) -> dict[str, FunctionSpec]:
    specs = [
        FunctionSpec("api", "REST API /api/v1 (agents via Cognito, public intake, portal, Slack events)",
                     1024, Duration.seconds(29), reserved=config.api_reserved_concurrency, snap_start=True),
        FunctionSpec("inbound_email", "SES raw mail from S3 (via SQS) -> tickets", 1024, SQS_CONSUMER_TIMEOUT),
        FunctionSpec("outbound", "outbound.requested events -> SES mail / Slack replies", 512, SQS_CONSUMER_TIMEOUT),
        FunctionSpec("notifier", "ticket events -> agent notifications (mail, Slack DM) and triggers", 512,
                     SQS_CONSUMER_TIMEOUT),
        # One sweep at a time: a run that overlaps the next minute's would only contend for locks.
        FunctionSpec("sweep", "every minute: SLA warnings/breaches, auto-close, handover, outbox relay",
                     1024, Duration.seconds(55), reserved=1),
        FunctionSpec("migrate", "applies database migrations (run by a trigger on deploy)", 512,
                     Duration.minutes(5), reserved=1),
        FunctionSpec("audit_export", "daily: exports ticket audit rows to the audit bucket", 1024,
                     Duration.minutes(10), reserved=1),
        # Live updates: committed events -> Event API channels (infra/push.py); bounded by its event
        # source's maximum concurrency like the other queue consumers.
        FunctionSpec("push", "ticket events -> live-update signals on the AppSync Event API", 512, SQS_CONSUMER_TIMEOUT,
                     snap_start=True),
        # The Event API's Lambda authorizer for customers (chat, portal). A cap, not a reservation
        # of capacity: a flood of connects is refused (clients retry with backoff) before it costs more.
        FunctionSpec("push_authorizer", "Event API authorizer: chat session and portal tokens -> their one channel",
                     256, Duration.seconds(5), reserved=config.push_authorizer_reserved_concurrency, snap_start=True),
    ]
    return {spec.name: spec for spec in specs}


class MissingFunctionCode(FileNotFoundError):
    pass


def check_function_code(names: Iterable[str], functions_dir: Path = FUNCTIONS_DIR) -> None:
    missing = [name for name in names if not (functions_dir / name / "handler.py").is_file()]
    if missing:
        raise MissingFunctionCode(
            "cannot synthesize: these Lambda functions have no handler file: "
            + ", ".join(f"functions/{name}/handler.py" for name in missing)
            + " (each must define handler(event, context))")


def stage_function_code(name: str, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    """Copies functions/<name>/ to build/lambda/<name>/functions/<name>/ (no caches of this machine's
    Python) and byte-compiles it for the runtime, as the layer is, and returns the asset root, so the
    deployed package has the same import path as the repository."""
    root = STAGING_DIR / name
    target = root / "functions" / name
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(functions_dir / name, target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache"))
    compile_bytecode(root, TASK_ROOT)
    return root


class Workers(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, layer_dir: Path, data: Data,
                 messaging: Messaging, mail: Mail, web_base_url: str, functions_dir: Path = FUNCTIONS_DIR) -> None:
        super().__init__(scope, id)
        specs = function_specs(config)
        check_function_code(specs, functions_dir)
        self.functions_dir = functions_dir
        self.specs = specs
        self.layer = lambda_.LayerVersion(
            self, "HelpdeskLayer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="helpdesk package + pinned requirements.txt (manylinux2014_aarch64, cp312)",
        )
        common_env = {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": "INFO",
            "DB_CLUSTER_ARN": data.cluster.cluster_arn,
            "DB_SECRET_ARN": data.db_secret.secret_arn,
            "DB_NAME": DATABASE_NAME,
            "SUPPORT_DOMAIN": config.support_domain,
            "WEB_BASE_URL": web_base_url,
        }
        self.functions: dict[str, lambda_.Function] = {}
        for name, spec in specs.items():
            self.functions[name] = self._function(spec, config, common_env)
        # What callers invoke: a SnapStart function only through a published version (its alias `live`,
        # moved to each deploy's new version), any other function as itself.
        self.entry_points: dict[str, lambda_.IFunction] = {
            name: lambda_.Alias(self, f"{self.functions[name].node.id}Live", alias_name="live",
                                version=self.functions[name].current_version) if spec.snap_start else self.functions[name]
            for name, spec in specs.items()}

        fn = self.functions
        for name in fn:
            data.grant_data_api(fn[name])

        # ACCESS: what each function may touch beyond the Data API (and the env var naming it).
        # Grants are written out instead of CDK's grant_read/grant_publish, whose wildcard actions
        # (s3:GetObject*, s3:List*, kms:GenerateDataKey*) are broader than these functions need.
        def events_topic(name: str) -> None:
            _allow(fn[name], ["sns:Publish"], [messaging.topic.topic_arn])
            _allow(fn[name], ["kms:GenerateDataKey", "kms:Decrypt"], [messaging.key.key_arn])
            fn[name].add_environment("EVENTS_TOPIC_ARN", messaging.topic.topic_arn)

        def signing_key(name: str) -> None:
            data.signing_key.grant_read(fn[name])
            fn[name].add_environment("HELPDESK_SIGNING_KEY_SECRET_ARN", data.signing_key.secret_arn)

        def slack(name: str) -> None:
            data.slack_secret.grant_read(fn[name])
            fn[name].add_environment("SLACK_SECRET_ARN", data.slack_secret.secret_arn)

        def ses_send(name: str) -> None:
            mail.grant_send(fn[name])
            fn[name].add_environment("SES_CONFIGURATION_SET", mail.configuration_set.configuration_set_name)

        def objects(name: str, bucket, actions: list[str], env: str, prefix: str = "*") -> None:
            _allow(fn[name], actions, [bucket.arn_for_objects(prefix)])
            fn[name].add_environment(env, bucket.bucket_name)
            suppress(fn[name].role, "AwsSolutions-IAM5",
                     f"Object-level access ({', '.join(actions)}) to generated keys in this one bucket; the keys "
                     "(message ids, attachment ids) are not known in advance.",
                     applies_to=[f"Resource::<{Stack.of(self).get_logical_id(bucket.node.default_child)}.Arn>/{prefix}"])

        for name in ("api", "inbound_email", "outbound", "notifier", "sweep"):
            events_topic(name)
        for name in ("api", "inbound_email", "outbound", "notifier", "push_authorizer"):
            signing_key(name)
        for name in ("api", "outbound", "notifier"):
            slack(name)
        for name in ("outbound", "notifier"):
            ses_send(name)

        # Inbound mail policy: the inbound function and the API (releasing quarantined mail) read the same.
        for name in ("inbound_email", "api"):
            fn[name].add_environment("HELPDESK_EMAIL_UNVERIFIED_SENDER", config.email_unverified_sender)
            fn[name].add_environment("HELPDESK_EMAIL_BULK", config.email_bulk_mail)
            fn[name].add_environment("HELPDESK_EMAIL_DMARC_ALLOWLIST", ",".join(config.email_dmarc_allowlist))
            fn[name].add_environment("HELPDESK_EMAIL_SUPPORT_DOMAIN_CUSTOMERS",
                                     "true" if config.email_support_domain_customers else "false")
            fn[name].add_environment("HELPDESK_EMAIL_HEURISTIC", "true" if config.email_heuristic_threading else "false")

        if config.chat_allowed_origins:  # customer sites embedding the chat widget (CORS on public chat only)
            fn["api"].add_environment("CHAT_ALLOWED_ORIGINS", ",".join(config.chat_allowed_origins))

        # api: presigned upload/download URLs for attachments, "show original" of inbound mail.
        objects("api", data.attachments, ["s3:GetObject", "s3:PutObject"], "ATTACHMENTS_BUCKET")
        objects("api", mail.raw_bucket, ["s3:GetObject"], "RAW_MAIL_BUCKET", prefix=f"{RAW_PREFIX}*")
        objects("inbound_email", mail.raw_bucket, ["s3:GetObject"], "RAW_MAIL_BUCKET", prefix=f"{RAW_PREFIX}*")
        objects("inbound_email", data.attachments, ["s3:PutObject"], "ATTACHMENTS_BUCKET")
        objects("outbound", data.attachments, ["s3:GetObject"], "ATTACHMENTS_BUCKET")  # attach files to mail
        objects("audit_export", data.audit, ["s3:PutObject"], "AUDIT_BUCKET")

        # Queue consumers: partial batch failures, bounded concurrency against the database.
        for name, queue in (("inbound_email", mail.inbound.queue), ("notifier", messaging.notify.queue),
                            ("outbound", messaging.outbound.queue)):
            fn[name].add_event_source(event_sources.SqsEventSource(
                queue, batch_size=10, max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True, max_concurrency=config.queue_max_concurrency))
        # Push: no batching window (a change must reach screens within a second); records it could
        # not publish come back (a repeated signal only makes clients re-read).
        self.entry_points["push"].add_event_source(event_sources.SqsEventSource(
            messaging.push.queue, batch_size=10, report_batch_item_failures=True,
            max_concurrency=config.push_max_concurrency))

        # Schedules. Lambda retries a failed asynchronous run twice by default: a scheduled run is
        # not retried (the next run does the work again, and a retried audit export would overlap
        # the next), and a run that fails, or that EventBridge could not deliver, lands in this queue
        # (the monitoring alarms on it).
        self.scheduled_failures = messaging.failure_queue("ScheduledFailures")
        for name in SCHEDULED_FUNCTIONS:
            fn[name].configure_async_invoke(
                retry_attempts=0, max_event_age=Duration.hours(1),
                on_failure=destinations.SqsDestination(self.scheduled_failures))
        # With SWEEP_MAX_IDLE_SECONDS the sweep and the deferred-notification run skip the database
        # while nothing is due (functions/sweep/handler.py, functions/notifier/handler.py).
        if config.sweep_max_idle_seconds:
            for name in ("sweep", "notifier"):
                fn[name].add_environment("SWEEP_MAX_IDLE_SECONDS", str(config.sweep_max_idle_seconds))

        def every(rule_id: str, schedule: events.Schedule, description: str, name: str,
                  max_event_age: Duration, rule_name: str | None = None) -> events.Rule:
            return events.Rule(self, rule_id, schedule=schedule, description=description, rule_name=rule_name,
                               targets=[targets.LambdaFunction(fn[name], retry_attempts=2, max_event_age=max_event_age,
                                                               dead_letter_queue=self.scheduled_failures)])

        self.sweep_rule = every("SweepEveryMinute", events.Schedule.rate(Duration.minutes(1)),
                                "Helpdesk SLA sweep", "sweep", Duration.minutes(1))
        # Notifications deferred by an agent's quiet hours go out on this run (no "Records" in the event).
        # The notifier switches this rule on when it defers one and off when none is left, so it runs
        # only while something is deferred. A fixed name: the function's setting and grant name the
        # rule without referring to it (the rule already refers to the function).
        notifier_rule_name = f"helpdesk-{config.stage}-notifier-deferred"
        self.notifier_rule = every("NotifierDeferredEveryMinute", events.Schedule.rate(Duration.minutes(1)),
                                   "Helpdesk deferred agent notifications", "notifier", Duration.minutes(1),
                                   rule_name=notifier_rule_name)
        fn["notifier"].add_environment("NOTIFIER_SCHEDULE_RULE", notifier_rule_name)
        _allow(fn["notifier"], ["events:EnableRule", "events:DisableRule"],
               [Stack.of(self).format_arn(service="events", resource="rule", resource_name=notifier_rule_name)])
        self.audit_rule = every("AuditExportDaily", events.Schedule.cron(minute="15", hour="3"),
                                "Helpdesk daily audit export", "audit_export", Duration.hours(1))

        # Migrations on deploy: after the cluster (and its writer) exist, before any other
        # function's new code goes live. Re-runs whenever the migrate function or its layer
        # (which holds the migrations) changes; applying migrations is idempotent.
        self.migrate_trigger = triggers.Trigger(
            self, "MigrateOnDeploy",
            handler=fn["migrate"],
            execute_after=[data.cluster],
            execute_before=[f for n, f in fn.items() if n != "migrate"],
            execute_on_handler_change=True,
            timeout=Duration.minutes(10),
        )
        suppress(self.migrate_trigger, "AwsSolutions-IAM4",
                 "CDK's trigger provider uses AWSLambdaBasicExecutionRole for its own logs; it has no data access.")
        suppress(self.migrate_trigger, "AwsSolutions-L1",
                 "The trigger provider's runtime is chosen and updated by aws-cdk-lib.")

    def _function(self, spec: FunctionSpec, config: StageConfig, env: dict[str, str]) -> lambda_.Function:
        construct_id = "".join(part.capitalize() for part in spec.name.split("_"))
        log_group = logs.LogGroup(self, f"{construct_id}Logs",
                                  retention=retention(config.log_retention_days),
                                  removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Helpdesk {spec.name} function")
        log_group.grant_write(role)
        function = lambda_.Function(
            self, construct_id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_.Code.from_asset(str(stage_function_code(spec.name, self.functions_dir))),
            handler=f"functions/{spec.name}/handler.handler",
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            environment=dict(env),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=spec.reserved if config.reserve_concurrency else None,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
        )
        suppress(role, "AwsSolutions-IAM5",
                 "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource '*').",
                 applies_to=["Resource::*"])
        suppress(function, "AwsSolutions-L1",
                 "Python 3.12 on purpose: the layer's binary wheels (pydantic-core) are built for cp312 and tested there.")
        return function


def _allow(function: lambda_.Function, actions: list[str], resources: list[str]) -> None:
    function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR, 731: logs.RetentionDays.TWO_YEARS, 1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention that keeps logs at least `days` days."""
    return next((_RETENTION[d] for d in sorted(_RETENTION) if d >= days), logs.RetentionDays.TEN_YEARS)

"""CloudWatch dashboard and alarms.

Custom metrics (Powertools Metrics, namespace "Helpdesk", dimension service="helpdesk" added by
Powertools; the names are the contract with the domain code, listed in docs/deploy.md):
- TicketsCreated      Count,   dimension channel (email, web, chat, slack, api)
- FirstResponseTime   Seconds, business seconds from creation to the first public agent reply
- SlaBreaches         Count,   dimension target (first_response, resolution), emitted by the sweep
- SlaTargetsMet       Count,   dimension target, emitted when a target completes in time
- OutboxBacklog       Count,   outbox events not yet published to SNS (after that minute's relay)
- OutboxOldestAgeSeconds Seconds, age of the oldest of them (0 when none); alarm above OUTBOX_MAX_AGE
- OutboxParked        Count,   outbox events that can never be published (failed schema validation)
"""
from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig
from infra.messaging import MAX_RECEIVES
from infra.workers import METRICS_NAMESPACE, SERVICE_NAME

CUSTOM_METRICS = ("TicketsCreated", "FirstResponseTime", "SlaBreaches", "SlaTargetsMet",
                  "OutboxBacklog", "OutboxOldestAgeSeconds", "OutboxParked")
# The relay runs every minute: an event older than this means the relay is stuck or SNS refuses it,
# so notifications, outbound mail and Slack replies are not going out.
OUTBOX_MAX_AGE = Duration.minutes(10)


def _sweep_metric(name: str, statistic: str, period: Duration, label: str | None = None) -> cloudwatch.Metric:
    """A metric the sweep emits without a dimension of its own (only Powertools' service)."""
    return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": SERVICE_NAME},
                             statistic=statistic, period=period, label=label)


def _search(metric: str, dimensions: str, statistic: str, period: Duration) -> str:
    return (f"SEARCH('{{{METRICS_NAMESPACE},{dimensions}}} MetricName=\"{metric}\" "
            f"service=\"{SERVICE_NAME}\"', '{statistic}', {int(period.to_seconds())})")


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, key: kms.IKey,
                 functions: dict[str, lambda_.Function], rest_api: apigw.RestApi,
                 inbound_queue: sqs.IQueue, dlqs: dict[str, sqs.IQueue]) -> None:
        super().__init__(scope, id)
        # The topic's name is fixed so the key policy can name its ARN without a circular reference.
        topic_name = f"helpdesk-{config.stage}-alarms"
        stack = Stack.of(self)
        topic_arn = stack.format_arn(service="sns", resource=topic_name)
        self.alarm_topic = sns.Topic(self, "AlarmTopic", topic_name=topic_name, display_name="Helpdesk alarms",
                                     master_key=key, enforce_ssl=True)
        # enforce_ssl gives the topic a policy of its own, which replaces SNS's default one: without
        # this statement CloudWatch may not publish, and alarms would notify no one.
        self.alarm_topic.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublish", principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"], resources=[self.alarm_topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnLike": {"aws:SourceArn": stack.format_arn(
                            service="cloudwatch", resource="alarm", resource_name=f"helpdesk-{config.stage}-*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)}}))
        # CloudWatch encrypts what it publishes with the topic's key: for this topic only (SNS passes
        # the topic ARN as encryption context).
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsEncrypt", principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}}))
        if config.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(name: str, **props) -> cloudwatch.Alarm:
            created = cloudwatch.Alarm(self, name, alarm_name=f"helpdesk-{config.stage}-{name}", **props)
            created.add_alarm_action(action)
            created.add_ok_action(action)
            self.alarms[name] = created
            return created

        # 1. No inbound mail processed for N hours during business hours (UTC, Mon-Fri).
        #    Processed = messages deleted from the inbound queue by inbound_email (success).
        start, end = config.business_hours_utc
        processed = inbound_queue.metric_number_of_messages_deleted(period=Duration.hours(1), statistic="Sum")
        filled = cloudwatch.MathExpression(expression="FILL(processed, 0)", using_metrics={"processed": processed},
                                           period=Duration.hours(1))
        # Outside business hours the expression is 1 (never below the threshold).
        in_hours = cloudwatch.MathExpression(
            expression=f"IF(DAY(filled) <= 5 AND HOUR(filled) >= {start} AND HOUR(filled) < {end}, filled, 1)",
            using_metrics={"filled": filled}, period=Duration.hours(1),
            label="inbound mail processed (business hours)")
        alarm("inbound-mail-silent", metric=in_hours, threshold=1,
              comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
              evaluation_periods=config.inbound_silence_hours, datapoints_to_alarm=config.inbound_silence_hours,
              treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"No inbound mail processed for {config.inbound_silence_hours} h during business "
                                f"hours ({start}:00-{end}:00 UTC, Mon-Fri): check MX, SES rule set, inbound queue.")

        # 2. The sweep is not running (scheduled every minute) or is failing.
        sweep = functions["sweep"]
        alarm("sweep-not-running",
              metric=sweep.metric_invocations(period=Duration.minutes(5), statistic="Sum"),
              threshold=1, comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
              evaluation_periods=2, treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
              alarm_description="The SLA sweep was not invoked for 10 minutes (EventBridge rule disabled or throttled).")
        alarm("sweep-failing",
              metric=sweep.metric_errors(period=Duration.minutes(5), statistic="Sum"),
              threshold=3, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              evaluation_periods=2, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description="The SLA sweep fails repeatedly: warnings, breaches and auto-close are not happening.")

        # 3. Any DLQ not empty.
        for name, dlq in dlqs.items():
            alarm(f"{name}-dlq-not-empty",
                  metric=dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                  threshold=1, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                  evaluation_periods=1, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                  alarm_description=f"Messages in the {name} dead-letter queue (a queue message failed {MAX_RECEIVES} "
                                    "times, or a scheduled run failed once): inspect and redrive.")

        # 4. API 5xx rate above 5% (at least 20 requests in the period, so one error at night is not a page).
        requests = rest_api.metric_count(period=Duration.minutes(5), statistic="Sum")
        server_errors = rest_api.metric_server_error(period=Duration.minutes(5), statistic="Sum")
        error_rate = cloudwatch.MathExpression(
            expression="IF(requests >= 20, 100 * errors / requests, 0)",
            using_metrics={"requests": requests, "errors": server_errors}, period=Duration.minutes(5),
            label="API 5xx %")
        alarm("api-5xx-rate", metric=error_rate, threshold=5,
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              evaluation_periods=3, datapoints_to_alarm=2, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description="More than 5% of API requests answered 5xx.")

        # 5. Events stuck in the outbox (the sweep's metrics job measures it every minute, after the relay).
        oldest = _sweep_metric("OutboxOldestAgeSeconds", "Maximum", Duration.minutes(5))
        alarm("outbox-stuck", metric=oldest, threshold=OUTBOX_MAX_AGE.to_seconds(),
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              evaluation_periods=1, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"An outbox event is unpublished for more than {int(OUTBOX_MAX_AGE.to_minutes())} "
                                "minutes: the relay (sweep job outbox_relay) is failing or SNS refuses it, so "
                                "notifications and outbound replies wait. Missing data (sweep down or idle) is "
                                "covered by sweep-not-running.")

        self.dashboard = self._dashboard(config, functions, dlqs, rest_api, requests, error_rate)

    def _dashboard(self, config: StageConfig, functions: dict[str, lambda_.Function], dlqs: dict[str, sqs.IQueue],
                   rest_api: apigw.RestApi, requests: cloudwatch.IMetric, error_rate: cloudwatch.IMetric) -> cloudwatch.Dashboard:
        five = Duration.minutes(5)
        hour = Duration.hours(1)
        tickets_by_channel = cloudwatch.MathExpression(
            expression=_search("TicketsCreated", "channel,service", "Sum", hour), using_metrics={}, period=hour,
            label="")
        first_response = cloudwatch.MathExpression(
            expression=_search("FirstResponseTime", "service", "p50", hour), using_metrics={}, period=hour,
            label="p50")
        first_response_p95 = cloudwatch.MathExpression(
            expression=_search("FirstResponseTime", "service", "p95", hour), using_metrics={}, period=hour,
            label="p95")
        breaches = cloudwatch.MathExpression(
            expression=f"SUM({_search('SlaBreaches', 'service,target', 'Sum', hour)})", using_metrics={}, period=hour)
        met = cloudwatch.MathExpression(
            expression=f"SUM({_search('SlaTargetsMet', 'service,target', 'Sum', hour)})", using_metrics={}, period=hour)
        breach_rate = cloudwatch.MathExpression(
            expression="IF(breaches + met > 0, 100 * breaches / (breaches + met), 0)",
            using_metrics={"breaches": breaches, "met": met}, period=hour, label="SLA breach rate %")

        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"helpdesk-{config.stage}",
                                         default_interval=Duration.days(1))
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Tickets created by channel (per hour)", left=[tickets_by_channel],
                                   stacked=True, width=8),
            cloudwatch.GraphWidget(title="Time to first response (business seconds)",
                                   left=[first_response, first_response_p95], width=8),
            cloudwatch.GraphWidget(title="SLA breach rate (%)", left=[breach_rate], width=8),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="DLQ depth", width=8,
                left=[q.metric_approximate_number_of_messages_visible(period=five, statistic="Maximum", label=name)
                      for name, q in dlqs.items()]),
            cloudwatch.GraphWidget(title="API requests and 5xx %", left=[requests], right=[error_rate], width=8),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=8),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors", width=12, stacked=False,
                left=[fn.metric_errors(period=five, statistic="Sum", label=name) for name, fn in functions.items()]),
            cloudwatch.GraphWidget(
                title="Function duration p95 (ms)", width=12,
                left=[fn.metric_duration(period=five, statistic="p95", label=name) for name, fn in functions.items()]),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Outbox backlog (events not yet published)", width=12,
                left=[_sweep_metric("OutboxBacklog", "Maximum", five, "waiting"),
                      _sweep_metric("OutboxParked", "Maximum", five, "parked")],
                right=[_sweep_metric("OutboxOldestAgeSeconds", "Maximum", five, "oldest age (s)")],
                right_annotations=[cloudwatch.HorizontalAnnotation(value=OUTBOX_MAX_AGE.to_seconds(),
                                                                   label="alarm")]),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function throttles", width=12,
                left=[fn.metric_throttles(period=five, statistic="Sum", label=name) for name, fn in functions.items()]),
            cloudwatch.GraphWidget(
                title="API latency p95 (ms)", width=12,
                left=[rest_api.metric_latency(period=five, statistic="p95", label="API Gateway p95"),
                      functions["api"].metric_duration(period=five, statistic="p95", label="api function p95")]),
        )
        return dashboard

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
Operations insight (helpdesk/insight/metrics.py says where each comes from; docs/runbook.md what to
do when an alarm on them fires):
- TicketsInFlight     Count,   dimensions team, status (new .. reopened); like the next two, a gauge
                      measured every fifth minute (it reads every ticket in flight)
- AgentUtilization    Percent, dimension team: active tickets / capacity of its active agents
- BacklogTickets, BacklogOldestAgeSeconds, BacklogMedianAgeSeconds: our turn (in flight but not
  waiting on the customer), per team and overall (no team dimension)
- TimeToAssignment    Seconds, one value per ticket first assigned (p50/p95 from the statistics)
- TicketsReopened, TicketsResolved  Count per minute (reopen rate = reopened / resolved)
- SupportOpen         1 while the support address's business hours are open (default team's schedule)
- InboundMail         Count, total and by outcome (token, references, subject_tag, heuristic,
                      new_ticket, automatic, quarantined, duplicate, dropped)
- MailQuarantined     Count, total and by reason
- AutoAcknowledgementsSent, RepliesSent (channel), OutboundSendFailures (total and by channel)
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
                  "OutboxBacklog", "OutboxOldestAgeSeconds", "OutboxParked",
                  "TicketsInFlight", "AgentUtilization", "BacklogTickets", "BacklogOldestAgeSeconds",
                  "BacklogMedianAgeSeconds", "TimeToAssignment", "TicketsReopened", "TicketsResolved", "SupportOpen",
                  "InboundMail", "MailQuarantined", "AutoAcknowledgementsSent", "RepliesSent", "OutboundSendFailures")
# InboundMail outcomes that are threading decisions (helpdesk.insight.metrics.THREADING_OUTCOMES).
THREADING_OUTCOMES = ("token", "references", "subject_tag", "heuristic", "new_ticket")
# The relay runs every minute: an event older than this means the relay is stuck or SNS refuses it,
# so notifications, outbound mail and Slack replies are not going out.
OUTBOX_MAX_AGE = Duration.minutes(10)


def _sweep_metric(name: str, statistic: str, period: Duration, label: str | None = None) -> cloudwatch.Metric:
    """A metric emitted without a dimension of its own (only the service), by the sweep or a consumer."""
    return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": SERVICE_NAME},
                             statistic=statistic, period=period, label=label)


def _search(metric: str, dimensions: str, statistic: str, period: Duration, also: str = "") -> str:
    return (f"SEARCH('{{{METRICS_NAMESPACE},{dimensions}}} MetricName=\"{metric}\" "
            f"service=\"{SERVICE_NAME}\"{also}', '{statistic}', {int(period.to_seconds())})")


def _graph(expression: str, period: Duration, label: str = "") -> cloudwatch.MathExpression:
    """A SEARCH expression on a graph (one line per dimension value found)."""
    return cloudwatch.MathExpression(expression=expression, using_metrics={}, period=period, label=label)


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, key: kms.IKey,
                 functions: dict[str, lambda_.Function], rest_api: apigw.RestApi,
                 dlqs: dict[str, sqs.IQueue]) -> None:
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

        # 1. No inbound mail processed for N minutes while the support address is open. The sweep
        #    knows the business hours (the default team's schedule) and emits SupportOpen every minute;
        #    the inbound consumer counts every mail it processes (InboundMail, whatever became of it).
        minute = Duration.minutes(1)
        silence = config.inbound_silence_minutes
        silent_while_open = cloudwatch.MathExpression(
            expression="IF(FILL(open, 0) == 1 AND FILL(mail, 0) == 0, 1, 0)",
            using_metrics={"open": _sweep_metric("SupportOpen", "Maximum", minute),
                           "mail": _sweep_metric("InboundMail", "Sum", minute)},
            period=minute, label="support open and no inbound mail")
        alarm("inbound-mail-silent", metric=silent_while_open, threshold=1,
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              evaluation_periods=silence, datapoints_to_alarm=silence,
              treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"No inbound mail processed for {silence} minutes while support is open (the "
                                "default team's business hours). Runbook: docs/runbook.md#inbound-mail-silent")

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

        # 6. Operations: reopen and quarantine rate spikes, backlog age over target, outbound send failures.
        hour, quarter = Duration.hours(1), Duration.minutes(15)
        reopen_rate = cloudwatch.MathExpression(
            expression="IF(resolved >= 10, 100 * FILL(reopened, 0) / resolved, 0)",
            using_metrics={"reopened": _sweep_metric("TicketsReopened", "Sum", hour),
                           "resolved": _sweep_metric("TicketsResolved", "Sum", hour)},
            period=hour, label="reopen rate % (reopened / resolved, per hour)")
        alarm("reopen-rate-spike", metric=reopen_rate, threshold=config.reopen_rate_max_percent,
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluation_periods=1,
              treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"More than {config.reopen_rate_max_percent}% as many tickets reopened as resolved "
                                "in an hour (at least 10 resolved). Runbook: docs/runbook.md#reopen-rate-spike")
        quarantine_rate = cloudwatch.MathExpression(
            expression="IF(mail >= 10, 100 * FILL(quarantined, 0) / mail, 0)",
            using_metrics={"quarantined": _sweep_metric("MailQuarantined", "Sum", quarter),
                           "mail": _sweep_metric("InboundMail", "Sum", quarter)},
            period=quarter, label="quarantined % of inbound mail")
        alarm("quarantine-rate-spike", metric=quarantine_rate, threshold=config.quarantine_rate_max_percent,
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              evaluation_periods=2, datapoints_to_alarm=2, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"More than {config.quarantine_rate_max_percent}% of inbound mail quarantined for 30 "
                                "minutes (at least 10 mails per 15 minutes). Runbook: docs/runbook.md#quarantine-rate-spike")
        backlog_target = Duration.hours(config.backlog_age_target_hours)
        five_minutes = Duration.minutes(5)
        alarm("backlog-age-over-target", metric=_sweep_metric("BacklogOldestAgeSeconds", "Maximum", five_minutes),
              threshold=backlog_target.to_seconds(),
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"A ticket has waited on us (not on the customer) for more than "
                                f"{config.backlog_age_target_hours} hours. Runbook: docs/runbook.md#backlog-age-over-target")
        alarm("outbound-send-failures", metric=_sweep_metric("OutboundSendFailures", "Sum", five_minutes),
              threshold=config.outbound_failures_max,
              comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              evaluation_periods=1, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
              alarm_description=f"{config.outbound_failures_max} or more replies or acknowledgements failed to send "
                                "in 5 minutes (SES or Slack refused). Runbook: docs/runbook.md#outbound-send-failures")

        self.dashboard = self._dashboard(config, functions, dlqs, rest_api, requests, error_rate)
        self._operations_widgets(config)

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

    def _operations_widgets(self, config: StageConfig) -> None:
        """The lead's view: load, backlog, assignment, threading health, reopens, mail in and out."""
        five, hour = Duration.minutes(5), Duration.hours(1)
        threading_outcomes = " OR ".join(f'outcome="{o}"' for o in THREADING_OUTCOMES)
        threading = _graph(_search("InboundMail", "outcome,service", "Sum", hour,
                                                 f" ({threading_outcomes})"), hour)
        threading_share = cloudwatch.MathExpression(expression="100 * threading / SUM(threading)",
                                                    using_metrics={"threading": threading}, period=hour, label="")
        reopen_rate = cloudwatch.MathExpression(
            expression="IF(resolved > 0, 100 * FILL(reopened, 0) / resolved, 0)",
            using_metrics={"reopened": _sweep_metric("TicketsReopened", "Sum", hour),
                           "resolved": _sweep_metric("TicketsResolved", "Sum", hour)},
            period=hour, label="reopen rate %")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Tickets in flight by team and status", stacked=True, width=8,
                                   left=[_graph(_search("TicketsInFlight", "service,status,team", "Maximum", five), five)]),
            cloudwatch.GraphWidget(title="Agent utilization by team (% of capacity)", width=8,
                                   left=[_graph(_search("AgentUtilization", "service,team", "Maximum", five), five)],
                                   left_y_axis=cloudwatch.YAxisProps(min=0, max=100)),
            cloudwatch.GraphWidget(title="Time to assignment (seconds, first owner)", width=8,
                                   left=[_sweep_metric("TimeToAssignment", "p50", hour, "p50"),
                                         _sweep_metric("TimeToAssignment", "p95", hour, "p95")]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Backlog age (our turn; seconds)", width=8,
                                   left=[_sweep_metric("BacklogOldestAgeSeconds", "Maximum", five, "oldest"),
                                         _sweep_metric("BacklogMedianAgeSeconds", "Maximum", five, "median")],
                                   right=[_sweep_metric("BacklogTickets", "Maximum", five, "tickets")],
                                   left_annotations=[cloudwatch.HorizontalAnnotation(
                                       value=Duration.hours(config.backlog_age_target_hours).to_seconds(), label="target")]),
            cloudwatch.GraphWidget(title="Backlog oldest age by team (seconds)", width=8,
                                   left=[_graph(_search("BacklogOldestAgeSeconds", "service,team", "Maximum", five), five)]),
            cloudwatch.GraphWidget(title="Reopen rate (% of resolutions, per hour)", width=8, left=[reopen_rate],
                                   right=[_sweep_metric("TicketsReopened", "Sum", hour, "reopened"),
                                          _sweep_metric("TicketsResolved", "Sum", hour, "resolved")],
                                   left_annotations=[cloudwatch.HorizontalAnnotation(
                                       value=config.reopen_rate_max_percent, label="alarm")]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Threading by layer (% of customer mail, per hour)", stacked=True, width=8,
                                   left=[threading_share], left_y_axis=cloudwatch.YAxisProps(min=0, max=100)),
            cloudwatch.GraphWidget(title="Inbound mail by outcome and support hours", stacked=True, width=8,
                                   left=[_graph(_search("InboundMail", "outcome,service", "Sum", hour), hour)],
                                   right=[_sweep_metric("SupportOpen", "Maximum", hour, "support open")]),
            cloudwatch.GraphWidget(title="Auto-acknowledgements and quarantined mail (per hour)", width=8,
                                   left=[_sweep_metric("AutoAcknowledgementsSent", "Sum", hour, "acknowledgements sent")],
                                   right=[_graph(_search("MailQuarantined", "reason,service", "Sum", hour), hour)]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Outbound: replies sent and send failures (per 5 minutes)", width=12,
                                   left=[_graph(_search("RepliesSent", "channel,service", "Sum", five), five)],
                                   right=[_graph(_search("OutboundSendFailures", "channel,service", "Sum", five), five)],
                                   right_annotations=[cloudwatch.HorizontalAnnotation(
                                       value=config.outbound_failures_max, label="alarm")]),
        )

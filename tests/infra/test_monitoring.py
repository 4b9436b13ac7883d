"""Dashboard and alarms."""
from __future__ import annotations

import json

from infra.monitoring import CUSTOM_METRICS


def alarms(synth) -> dict[str, dict]:
    found = {}
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        name = alarm["Properties"]["AlarmName"]
        found[name.removeprefix(f"helpdesk-{synth.stage}-")] = alarm["Properties"]
    return found


def test_required_alarms_exist_and_notify(synth):
    found = alarms(synth)
    assert {"inbound-mail-silent", "sweep-not-running", "sweep-failing", "inbound-dlq-not-empty",
            "notify-dlq-not-empty", "outbound-dlq-not-empty", "api-5xx-rate", "outbox-stuck"} <= set(found)
    topics = [k for k in synth.resources("AWS::SNS::Topic") if "AlarmTopic" in k]
    assert len(topics) == 1
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": topics[0]}], name


def test_inbound_silence_only_counts_business_hours(synth):
    alarm = alarms(synth)["inbound-mail-silent"]
    expressions = " ".join(m.get("Expression", "") for m in alarm["Metrics"])
    assert "FILL(processed, 0)" in expressions
    assert "DAY(filled) <= 5" in expressions and "HOUR(filled) >= 13" in expressions and "HOUR(filled) < 22" in expressions
    assert alarm["EvaluationPeriods"] == 2 and alarm["ComparisonOperator"] == "LessThanThreshold"
    raw = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m][0]
    assert raw["Metric"]["MetricName"] == "NumberOfMessagesDeleted" and raw["Period"] == 3600


def test_sweep_not_running_treats_missing_data_as_breaching(synth):
    alarm = alarms(synth)["sweep-not-running"]
    assert alarm["MetricName"] == "Invocations" and alarm["TreatMissingData"] == "breaching"


def test_dlq_alarms_fire_on_one_message(synth):
    for name in ("inbound", "notify", "outbound"):
        alarm = alarms(synth)[f"{name}-dlq-not-empty"]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_api_5xx_rate_alarm(synth):
    alarm = alarms(synth)["api-5xx-rate"]
    expression = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m][0]
    assert "errors / requests" in expression and alarm["Threshold"] == 5


def test_dashboard_shows_business_and_health_metrics(synth):
    dashboards = list(synth.resources("AWS::CloudWatch::Dashboard").values())
    assert len(dashboards) == 1
    body = json.dumps(dashboards[0]["Properties"]["DashboardBody"])
    for metric in CUSTOM_METRICS:
        assert metric in body, metric
    for expected in ("Tickets created by channel", "Time to first response", "SLA breach rate", "DLQ depth",
                     "Function errors", "Function duration", "Helpdesk", "Outbox backlog"):
        assert expected in body, expected


def test_outbox_stuck_alarm_watches_the_oldest_unpublished_event(synth):
    alarm = alarms(synth)["outbox-stuck"]
    assert alarm["Namespace"] == "Helpdesk" and alarm["MetricName"] == "OutboxOldestAgeSeconds"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "helpdesk"}]  # what the sweep's EMF carries
    assert alarm["Statistic"] == "Maximum" and alarm["Period"] == 300
    assert alarm["Threshold"] == 600 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def _dashboard_widgets(synth) -> list[dict]:
    """The dashboard body as JSON (CloudFormation joins it with Refs; those become "REF")."""
    [dashboard] = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["widgets"]


def test_dashboard_graphs_the_outbox_backlog_against_the_alarm_line(synth):
    [widget] = [w for w in _dashboard_widgets(synth) if w["properties"].get("title", "").startswith("Outbox backlog")]
    metrics = widget["properties"]["metrics"]
    names = {m[1]: m for m in metrics}
    assert set(names) == {"OutboxBacklog", "OutboxParked", "OutboxOldestAgeSeconds"}
    for metric in metrics:
        assert metric[0] == "Helpdesk" and metric[2:4] == ["service", "helpdesk"]
    assert names["OutboxOldestAgeSeconds"][-1].get("yAxis") == "right"
    assert widget["properties"]["annotations"]["horizontal"][0]["value"] == 600

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
            "notify-dlq-not-empty", "outbound-dlq-not-empty", "api-5xx-rate", "outbox-stuck",
            "reopen-rate-spike", "quarantine-rate-spike", "backlog-age-over-target", "outbound-send-failures"} <= set(found)
    topics = [k for k in synth.resources("AWS::SNS::Topic") if "AlarmTopic" in k]
    assert len(topics) == 1
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": topics[0]}], name


def metric_math(alarm: dict) -> tuple[str, dict[str, dict]]:
    """An alarm's expression and its metrics by id (MetricStat)."""
    [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    return expression, {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}


def test_inbound_silence_counts_minutes_while_support_is_open(synth):
    alarm = alarms(synth)["inbound-mail-silent"]
    expression, metrics = metric_math(alarm)
    assert expression == "IF(FILL(open, 0) == 1 AND FILL(mail, 0) == 0, 1, 0)"
    assert metrics["open"]["Metric"]["MetricName"] == "SupportOpen" and metrics["open"]["Stat"] == "Maximum"
    assert metrics["mail"]["Metric"]["MetricName"] == "InboundMail" and metrics["mail"]["Stat"] == "Sum"
    for stat in metrics.values():  # what the sweep's and the inbound consumer's EMF carry: service only
        assert stat["Metric"]["Namespace"] == "Helpdesk" and stat["Period"] == 60
        assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": "helpdesk"}]
    # 15 silent minutes in a row, not 2 hours
    assert alarm["EvaluationPeriods"] == 15 and alarm["DatapointsToAlarm"] == 15
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_operations_alarms_watch_rates_backlog_age_and_send_failures(synth):
    found = alarms(synth)
    expression, metrics = metric_math(found["reopen-rate-spike"])
    assert expression == "IF(resolved >= 10, 100 * FILL(reopened, 0) / resolved, 0)"
    assert {i: m["Metric"]["MetricName"] for i, m in metrics.items()} == {"reopened": "TicketsReopened",
                                                                         "resolved": "TicketsResolved"}
    assert found["reopen-rate-spike"]["Threshold"] == 15
    expression, metrics = metric_math(found["quarantine-rate-spike"])
    assert expression == "IF(mail >= 10, 100 * FILL(quarantined, 0) / mail, 0)"
    assert {i: m["Metric"]["MetricName"] for i, m in metrics.items()} == {"quarantined": "MailQuarantined",
                                                                         "mail": "InboundMail"}
    assert found["quarantine-rate-spike"]["Threshold"] == 25
    backlog = found["backlog-age-over-target"]
    assert backlog["MetricName"] == "BacklogOldestAgeSeconds" and backlog["Statistic"] == "Maximum"
    assert backlog["Dimensions"] == [{"Name": "service", "Value": "helpdesk"}]  # the overall figure, not a team's
    assert backlog["Threshold"] == 48 * 3600 and backlog["ComparisonOperator"] == "GreaterThanThreshold"
    failures = found["outbound-send-failures"]
    assert failures["MetricName"] == "OutboundSendFailures" and failures["Statistic"] == "Sum"
    assert failures["Dimensions"] == [{"Name": "service", "Value": "helpdesk"}]
    assert failures["Threshold"] == 5 and failures["Period"] == 300


def test_every_alarm_points_at_its_runbook_section(synth):
    from pathlib import Path

    runbook = (Path(__file__).parents[2] / "docs" / "runbook.md").read_text()
    sections = {line.removeprefix("## ").strip() for line in runbook.splitlines() if line.startswith("## ")}
    for name, alarm in alarms(synth).items():
        section = name if not name.endswith("-dlq-not-empty") else "dlq-not-empty"
        assert section in sections, f"docs/runbook.md has no section '## {section}'"
        if name in ("inbound-mail-silent", "reopen-rate-spike", "quarantine-rate-spike", "backlog-age-over-target",
                    "outbound-send-failures"):
            assert f"docs/runbook.md#{name}" in alarm["AlarmDescription"], name


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


def test_dashboard_has_a_widget_for_each_operations_metric(synth):
    widgets = {w["properties"].get("title", ""): json.dumps(w["properties"]) for w in _dashboard_widgets(synth)}
    expect = {"Tickets in flight by team and status": "TicketsInFlight", "Agent utilization by team": "AgentUtilization",
              "Time to assignment": "TimeToAssignment", "Backlog age": "BacklogOldestAgeSeconds",
              "Backlog oldest age by team": "BacklogOldestAgeSeconds", "Reopen rate": "TicketsReopened",
              "Threading by layer": "InboundMail", "Inbound mail by outcome": "SupportOpen",
              "Auto-acknowledgements and quarantined mail": "MailQuarantined",
              "Outbound: replies sent and send failures": "OutboundSendFailures"}
    for prefix, metric in expect.items():
        [body] = [b for t, b in widgets.items() if t.startswith(prefix)]
        assert metric in body, prefix
    threading = next(b for t, b in widgets.items() if t.startswith("Threading by layer"))
    for outcome in ("token", "references", "subject_tag", "heuristic", "new_ticket"):
        assert f'outcome=\\"{outcome}\\"' in threading, outcome
    assert "100 * threading / SUM(threading)" in threading
    assert "p50" in widgets["Time to assignment (seconds, first owner)"] and "p95" in widgets["Time to assignment (seconds, first owner)"]


def test_threading_outcomes_match_the_domain():
    from helpdesk.insight.metrics import THREADING_OUTCOMES
    from infra.monitoring import THREADING_OUTCOMES as graphed

    assert graphed == THREADING_OUTCOMES

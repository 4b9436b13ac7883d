"""The cost model multiplies list prices by counted work: each line follows from the counts, and the
agent-month from the per-ticket bill, the promised load and the fixed monthly work."""
from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from bench import cost, prices
from bench.latency import DESIGN_CALL
from bench.lifecycle import PHASES, SWEEP_PHASE, VIEW_PHASE, Counted, Invocation

MEMORY = {"api": 1024, "inbound_email": 1024, "outbound": 512, "notifier": 512, "push": 512, "sweep": 1024,
          "push_authorizer": 256}
SNAPSTART = ("api", "push", "push_authorizer")
TICKET, TEAM, AGENT, MESSAGE = (str(uuid.uuid4()) for _ in range(4))
AT = "2026-03-02T15:00:00+00:00"


def published(type_: str, payload: dict) -> str:
    """An event as the outbox publishes it (the SNS message body)."""
    return json.dumps({"id": str(uuid.uuid4()), "type": type_, "version": 1, "ticket_id": TICKET, "occurred_at": AT,
                       "payload": payload})


# One of each kind the counted life publishes, and what the push consumer makes of each
# (helpdesk.push.channels): /tickets/<id> always; /teams/<id> when the event names the team;
# /agents/<sub> for each agent it names; /portal/<id> for what the customer sees; nothing for the
# send request of a reply, which ticket.replied already announced.
PUBLISHED = [
    (published("ticket.created", {"number": 7, "channel": "email", "subject": "s", "priority": "normal",
                                  "team_id": TEAM, "message_id": MESSAGE}), 2),  # ticket, team
    (published("ticket.assigned", {"agent_id": AGENT, "team_id": TEAM, "reason": "routing", "number": 7}), 3),
    (published("outbound.requested", {"message_id": MESSAGE, "channel": "email", "number": 7}), 0),
    (published("ticket.replied", {"message_id": MESSAGE, "author_type": "agent", "visibility": "public",
                                  "channel": "email", "number": 7, "assignee_id": AGENT}), 3),  # ticket, agent, portal
    (published("ticket.status_changed", {"from": "open", "to": "resolved", "number": 7, "assignee_id": AGENT,
                                         "team_id": TEAM}), 4),  # ticket, team, agent, portal
]


def invocation(phase: str, function: str, trigger: str, ms: float, data_api: int = 0, records: int = 1, **other: int):
    calls = Counter({("rds-data", "ExecuteStatement"): data_api})
    calls.update({tuple(k.split("_", 1)): v for k, v in other.items()})
    return Invocation(phase, function, trigger, ms, records, calls)


def counted() -> Counted:
    c = Counted(mails_received=1, mail_bytes_received=300 * 1024)
    c.invocations = [
        invocation(PHASES[0], "inbound_email", "sqs", 50.0, data_api=3, s3_GetObject=1, sns_PublishBatch=1),
        invocation(PHASES[0], "outbound", "sqs", 40.0, data_api=2, records=1, ses_SendRawEmail=1),
        invocation(PHASES[0], "notifier", "sqs", 10.0, records=2),
        invocation(PHASES[0], "push", "sqs", 12.0, data_api=1, records=2),
        invocation(PHASES[1], "api", "http", 8.0, data_api=2, sns_PublishBatch=1),
        invocation(PHASES[1], "api", "schedule", 99.0, data_api=50),  # a scheduled run: not the ticket's
        invocation(SWEEP_PHASE, "sweep", "schedule", 20.0, data_api=8),
    ]
    c.view_read = invocation(VIEW_PHASE, "api", "http", 4.0, data_api=1)
    c.service_calls = Counter({(PHASES[0], "s3", "PutObject"): 1, (PHASES[0], "sqs", "ReceiveMessage"): 3,
                               ("start-up", "sqs", "ReceiveMessage"): 7})
    c.s3_bytes_stored = Counter({PHASES[0]: 2_000_000})
    c.published = [message for message, _ in PUBLISHED]
    c.db_ms = Counter({PHASES[0]: 30.0, PHASES[1]: 6.0, VIEW_PHASE: 2.0, SWEEP_PHASE: 12.0})
    return c


def quantity(bill: cost.Bill, item: str) -> float:
    return next(line.quantity for line in bill.lines if line.item == item)


def test_modeled_lambda_time_adds_each_calls_latency_and_bills_at_the_functions_memory():
    i = invocation(PHASES[0], "outbound", "sqs", 40.0, data_api=2, ses_SendRawEmail=1)
    assert cost.aws_ms(i) == pytest.approx(40.0 + 2 * DESIGN_CALL.mean + cost.AWS_CALL_MS)
    assert cost.gb_seconds(i, MEMORY) == pytest.approx(int(cost.aws_ms(i) + 1) / 1000 * 0.5)


def test_the_channel_messages_are_the_push_consumers_own_over_the_events_published():
    c = counted()
    assert [len(made) for made in cost.push_deliveries(c)] == [n for _, n in PUBLISHED]
    assert cost.push_messages(c) == sum(n for _, n in PUBLISHED)
    assert cost.channels_per_event(c) == {"ticket.created": 2, "ticket.assigned": 3, "outbound.requested": 0,
                                          "ticket.replied": 3, "ticket.status_changed": 4}
    paths = sorted(channel.path for made in cost.push_deliveries(c) for channel, _ in made)
    assert f"/agents/{AGENT}" in paths and f"/portal/{TICKET}" in paths and f"/teams/{TEAM}" in paths


def test_a_chat_tickets_public_news_also_reaches_its_visitor():
    c = counted()
    c.published = [published("ticket.created", {"number": 8, "channel": "chat", "subject": "s", "priority": "normal",
                                                "message_id": MESSAGE}),
                   published("ticket.replied", {"message_id": MESSAGE, "author_type": "agent", "visibility": "public",
                                                "channel": "chat", "number": 8})]
    assert [sorted(ch.namespace for ch, _ in made) for made in cost.push_deliveries(c)] == [
        ["tickets"], ["chat", "portal", "tickets"]]


def test_ticket_bill_counts_what_ran_for_the_ticket():
    c = counted()
    bill = cost.ticket_bill(c, MEMORY, db_instances=2)
    push_messages = 2 + 3 + 0 + 3 + 4
    re_reads = push_messages * cost.SUBSCRIBERS_PER_MESSAGE * cost.AGENT_SHARE_OF_DELIVERIES
    # inbound_email, outbound, notifier, push and the api call: the scheduled run is not the ticket's
    assert quantity(bill, "Lambda requests") == pytest.approx(5 + re_reads)
    assert quantity(bill, "API Gateway requests") == pytest.approx(1 + re_reads)
    assert quantity(bill, "Data API requests") == pytest.approx(3 + 2 + 1 + 2 + re_reads * 1)
    assert quantity(bill, "SES mails sent") == 1 and quantity(bill, "SES mails received") == 1
    assert quantity(bill, "SES received 256 KB chunks") == 2  # 300 KB
    assert quantity(bill, "S3 PUT requests") == 1 and quantity(bill, "S3 GET requests") == 1
    assert quantity(bill, "S3 storage, first month (GB-month)") == pytest.approx(0.002)
    assert quantity(bill, "SNS publishes") == 2
    # receives outside functions in the ticket's phases (3) and the messages delivered to consumer
    # queues (outbound 1, notifier 2, push 2); start-up polls are not the ticket's
    assert quantity(bill, "SQS requests") == 3 + (1 + 2 + 2)
    assert quantity(bill, "AppSync Events operations (publish + deliver)") == pytest.approx(
        push_messages * (1 + cost.SUBSCRIBERS_PER_MESSAGE))
    busy_ms = 30.0 + 6.0 + re_reads * 2.0
    assert quantity(bill, "Aurora ACU-hours (database busy)") == pytest.approx(
        busy_ms / 1000 / cost.VCPU_PER_ACU / cost.TARGET_UTILIZATION / 3600 * 2)
    assert bill.usd == pytest.approx(sum(line.quantity * line.price.usd for line in bill.lines))


def test_fixed_month_runs_the_sweep_every_minute_and_keeps_the_database_floor():
    c = counted()
    load = cost.Load(tickets_per_day=10)  # almost no tickets: the minimum capacity is what is paid
    bill = cost.fixed_month_bill(c, MEMORY, load, db_min_acu=0.5, db_instances=2, snapstart=SNAPSTART)
    minutes = cost.HOURS_PER_MONTH * 60
    assert quantity(bill, "sweep: Lambda requests") == minutes
    assert quantity(bill, "sweep: Data API requests") == minutes * 8
    floor = next(line for line in bill.lines if line.item.startswith("Aurora floor"))
    assert floor.quantity == pytest.approx(0.5 * 2 * cost.HOURS_PER_MONTH - quantity(
        bill, "sweep: Aurora ACU-hours (database busy)") - quantity(
        cost.ticket_bill(c, MEMORY, 2), "Aurora ACU-hours (database busy)") * load.tickets_per_month)
    busy = cost.fixed_month_bill(c, MEMORY, cost.Load(tickets_per_day=50_000_000), 0.5, 2, SNAPSTART)
    assert not any(line.item.startswith("Aurora floor") for line in busy.lines), "a busy database pays no floor on top"


def test_agent_month_is_tickets_per_agent_times_the_ticket_plus_a_share_of_the_fixed_month():
    model = cost.model(counted(), MEMORY, 0.5, 2, SNAPSTART)
    load = model.load
    assert load.tickets_per_month / load.agents == pytest.approx(50_000 * 730 / 24 / 2000)
    assert model.per_agent_month == pytest.approx(
        model.per_ticket.usd * load.tickets_per_month / load.agents + model.fixed_month.usd / load.agents)
    assert model.idle_requests_per_agent_hour == (pytest.approx(130 * 3600 / 2000), 0.0)


def test_polling_is_priced_as_view_reads():
    model = cost.model(counted(), MEMORY, 0.5, 2, SNAPSTART)
    polls = 130 * cost.SECONDS_PER_MONTH
    assert quantity(model.polling_month, "polling: API Gateway requests") == pytest.approx(polls)
    assert quantity(model.polling_month, "polling: Data API requests") == pytest.approx(polls)


def test_section_has_the_hosted_comparison_and_the_assumptions():
    text = "\n".join(cost.section(cost.model(counted(), MEMORY, 0.5, 2, SNAPSTART), "python -m bench"))
    for plan in prices.HOSTED_PLANS:
        assert f"| {plan.vendor} | {plan.plan} | {plan.usd_per_agent_month:.2f} |" in text
    assert prices.PRICES_DATE in text and prices.REGION in text
    assert "not modeled:" in text and "Idle requests per agent-hour: 234 polling before push, 0 with push" in text


def test_every_price_is_positive_and_names_its_page():
    assert prices.AWS_PRICES
    for name, price in prices.AWS_PRICES.items():
        assert price.usd > 0 and price.per and "aws.amazon.com" in price.source, name

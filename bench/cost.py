"""The cost model (issue 20 item 6): AWS list prices (bench/prices.py) times the work counted on a real
run of one ticket's life (bench/lifecycle.py), per ticket, per 1,000 tickets and per agent-month at
the promised load, beside the hosted help desks' per-agent prices.

Counted, not assumed: Lambda invocations per function and their time here (the push consumer's
among them), the AWS calls each made (Data API, S3, SES, SNS), the calls AWS's own services make for
us (SES storing the mail in S3, S3 notifying SQS, the event source mappings receiving and deleting),
the events published, the bytes stored, and the every-minute sweep's calls and time. The channel
messages the events make are computed by the push consumer's own rule (helpdesk.push.channels.deliveries)
over the events published.

Modeled (each stated where it is used, in assumptions() and in the RESULTS.md section):
- Lambda time on AWS = time measured here + for each AWS call made, the mean of its latency model
  (bench/latency.py: the design's Data API model; other AWS calls AWS_CALL_MS), times the function's
  memory (infra/workers.py function_specs);
- the push service (AppSync Events): who listens, i.e. every agent an event names has their own
  channel open and a chat ticket's visitor their session (push_deliveries), and subscribers per channel
  message (SUBSCRIBERS_PER_MESSAGE); every signal an agent receives makes the page re-read once
  through the API (a view read, counted here);
- Aurora capacity from the time PostgreSQL took to execute our statements here (counted per phase) at
  VCPU_PER_ACU and TARGET_UTILIZATION, on every instance of the stage (prod's reader scales with the
  writer), never below the stage's minimum capacity.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import prices as P
from bench.latency import DESIGN_CALL
from bench.lifecycle import PHASES, SWEEP_PHASE, VIEW_PHASE, Counted, Invocation

HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


@dataclass(frozen=True)
class Load:
    """The promised scale (DESIGN.md: 2,000 agents, 50,000 tickets a day, 150,000 open) and how agents work."""

    agents: int = 2000
    tickets_per_day: int = 50_000
    open_tickets: int = 150_000
    online_hours_per_agent_month: float = 40 * 52 / 12  # a full-time seat, connected while working
    # Polling before push (issue 20): ~130 requests a second of idle traffic at 2,000 agents.
    polling_requests_per_second: float = 130.0

    @property
    def tickets_per_month(self) -> float:
        return self.tickets_per_day * HOURS_PER_MONTH / 24


# Modeling assumptions (not measured here); RESULTS.md prints them.
AWS_CALL_MS = 20.0  # mean latency of an S3, SES or SNS call from Lambda in-region (assumed)
VCPU_PER_ACU = 0.25  # an ACU is ~2 GiB of memory "with corresponding CPU"; AWS publishes no vCPU figure
TARGET_UTILIZATION = 0.5  # Aurora Serverless v2 scales before the CPU is full
SUBSCRIBERS_PER_MESSAGE = 3.0  # average listeners of a channel message: 1-2 on a ticket, ~10 on a team queue, 0-1 on the portal
AGENT_SHARE_OF_DELIVERIES = 0.95  # deliveries that reach an agent's page (each re-reads once); the rest reach customers
ESM_POLLERS_PER_QUEUE = 5  # Lambda's SQS event source mapping polls with 5 pollers while idle
ESM_IDLE_RECEIVES_PER_POLLER_MINUTE = 3  # 20 s long polls
CONSUMER_QUEUES = 4  # inbound, notify, outbound, push
SNAPSTART_RESTORES_PER_MONTH = 3000  # new environments a month per SnapStart function (scale-out, recycling): assumed
SNAPSTART_VERSIONS_CACHED = 1


def assumptions(counted: Counted) -> tuple[str, ...]:
    """The modeling assumptions (not measured here); RESULTS.md prints them."""
    return (
        f"Lambda time on AWS = time measured here + per Data API call the mean of the design's per-call model "
        f"({DESIGN_CALL.mean:.1f} ms, bench/latency.py) + {AWS_CALL_MS:.0f} ms per S3, SES or SNS call; billed at the "
        "function's memory (infra/workers.py)",
        f"push (AppSync Events): channel messages per event {channels_per_event(counted)} (helpdesk.push.channels over "
        "the events published, every agent they name listening on their own channel), "
        f"{SUBSCRIBERS_PER_MESSAGE:g} subscribers per message on average, every agent "
        f"delivery ({AGENT_SHARE_OF_DELIVERIES:.0%}) re-reads once through the API (priced as the counted view read); "
        "its consumer (functions/push) is counted",
        f"Aurora: {VCPU_PER_ACU} vCPU per ACU at {TARGET_UTILIZATION:.0%} utilisation, busy for the time PostgreSQL took "
        "to execute our statements here (this machine's CPU, shared and loaded: errs high), on each instance (prod: the "
        "reader scales with the writer); never below the stage's minimum capacity",
        f"SQS: each message delivered to a consumer queue is one request; idle polling {ESM_POLLERS_PER_QUEUE} pollers "
        f"x {ESM_IDLE_RECEIVES_PER_POLLER_MINUTE} receives a minute x {CONSUMER_QUEUES} queues",
        f"SnapStart (the functions infra/workers.py gives it): {SNAPSTART_VERSIONS_CACHED} version each cached at its "
        f"memory all month, {SNAPSTART_RESTORES_PER_MONTH:,} restores a month each",
        "raw mail in S3: its first month at S3 Standard (it stays, moving to cheaper classes after 30 and 180 days)",
        "not modeled: Aurora I/O (Aurora Standard charges $0.20 per million; most reads are cached), Aurora storage, "
        "CloudWatch logs and metrics, X-Ray, KMS, Secrets Manager, WAF, CloudFront, data transfer, Cognito (2,000 "
        "monthly active users are inside its free tier), free tiers",
    )


@dataclass
class Line:
    item: str
    quantity: float
    price: P.Price

    @property
    def usd(self) -> float:
        return self.quantity * self.price.usd


@dataclass
class Bill:
    lines: list[Line] = field(default_factory=list)

    def add(self, item: str, quantity: float, price: P.Price) -> None:
        if quantity:
            self.lines.append(Line(item, quantity, price))

    @property
    def usd(self) -> float:
        return sum(line.usd for line in self.lines)

    def scaled(self, factor: float) -> "Bill":
        return Bill([Line(line.item, line.quantity * factor, line.price) for line in self.lines])


def aws_ms(invocation: Invocation) -> float:
    """An invocation's modeled duration on AWS (see assumptions())."""
    return invocation.ms + invocation.data_api_calls * DESIGN_CALL.mean + invocation.other_aws_calls * AWS_CALL_MS


def gb_seconds(invocation: Invocation, memory_mb: dict[str, int]) -> float:
    return math.ceil(aws_ms(invocation)) / 1000 * memory_mb[invocation.function] / 1024


def push_deliveries(counted: Counted) -> list[list[tuple[Any, dict[str, Any]]]]:
    """Per event published, the (channel, message) pairs the push consumer makes of it: its own rule
    (helpdesk.push.channels.deliveries), with every agent the events name listening on their own
    channel and the visitor of a chat ticket on its session."""
    from helpdesk.events.schemas import parse_event
    from helpdesk.push.channels import Recipients, agent_ids, deliveries

    events = [parse_event(message) for message in counted.published]
    agents = {a for e in events for a in agent_ids(e)}
    chats = {str(e.ticket_id) for e in events
             if e.type == "ticket.created" and getattr(e.payload, "channel", None) == "chat"}
    listening = Recipients(agent_subs={a: a for a in agents}, chat_sessions={t: t for t in chats})
    return [deliveries([e], listening) for e in events]


def push_messages(counted: Counted) -> int:
    """Channel messages published for the counted life's events."""
    return sum(len(d) for d in push_deliveries(counted))


def channels_per_event(counted: Counted) -> dict[str, float]:
    """Channel messages per event, by event type (mean over the counted life's events of that type)."""
    by_type: dict[str, list[int]] = {}
    for event_type, made in zip(counted.events, push_deliveries(counted)):
        by_type.setdefault(event_type, []).append(len(made))
    return {t: round(statistics.mean(n), 2) for t, n in by_type.items()}


def acu_hours(database_ms: float, db_instances: int) -> float:
    """ACU-hours that keep the database busy this long at the target utilisation, on every instance."""
    return database_ms / 1000 / VCPU_PER_ACU / TARGET_UTILIZATION / 3600 * db_instances


def ticket_bill(counted: Counted, memory_mb: dict[str, int], db_instances: int) -> Bill:
    """One ticket's life: everything counted in its phases, plus the push it causes (modeled)."""
    bill = Bill()
    ticket = counted.ticket_invocations()
    messages = push_messages(counted)
    delivered = messages * SUBSCRIBERS_PER_MESSAGE
    re_reads = delivered * AGENT_SHARE_OF_DELIVERIES
    view = counted.view_read
    http = [i for i in ticket if i.trigger == "http"]
    bill.add("Lambda requests", len(ticket) + (re_reads if view else 0), P.LAMBDA_REQUEST)
    bill.add("Lambda GB-seconds", sum(gb_seconds(i, memory_mb) for i in ticket)
             + (re_reads * gb_seconds(view, memory_mb) if view else 0), P.LAMBDA_GB_SECOND)
    bill.add("API Gateway requests", len(http) + (re_reads if view else 0), P.API_GATEWAY_REST_REQUEST)
    bill.add("Data API requests", counted.calls("rds-data", outside=False)
             + (re_reads * view.data_api_calls if view else 0), P.DATA_API_REQUEST)
    bill.add("SES mails sent", counted.calls("ses", ("SendRawEmail", "SendEmail")), P.SES_OUTBOUND_MAIL)
    bill.add("SES mails received", counted.mails_received, P.SES_INBOUND_MAIL)
    bill.add("SES received 256 KB chunks", math.ceil(counted.mail_bytes_received / (256 * 1024)) if counted.mails_received else 0,
             P.SES_INBOUND_CHUNK)
    bill.add("S3 PUT requests", counted.calls("s3", ("PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart")),
             P.S3_WRITE_REQUEST)
    bill.add("S3 GET requests", counted.calls("s3", ("GetObject", "HeadObject")), P.S3_READ_REQUEST)
    bill.add("S3 storage, first month (GB-month)", sum(counted.s3_bytes_stored[p] for p in PHASES) / 1e9,
             P.S3_STORAGE_GB_MONTH)
    bill.add("SNS publishes", counted.calls("sns", ("Publish", "PublishBatch")), P.SNS_PUBLISH)
    queue_deliveries = sum(i.records for i in ticket if i.trigger == "sqs" and i.function != "inbound_email")
    bill.add("SQS requests", counted.calls("sqs", outside=True, inside=True) + queue_deliveries, P.SQS_REQUEST)
    bill.add("AppSync Events operations (publish + deliver)", messages + delivered, P.APPSYNC_EVENTS_OPERATION)
    bill.add("Aurora ACU-hours (database busy)", acu_hours(
        sum(counted.db_ms[p] for p in PHASES) + (re_reads * counted.db_ms[VIEW_PHASE] if view else 0), db_instances),
        P.AURORA_ACU_HOUR)
    return bill


def fixed_month_bill(counted: Counted, memory_mb: dict[str, int], load: Load, db_min_acu: float,
                     db_instances: int, snapstart: Sequence[str]) -> Bill:
    """What the deployment costs a month whatever the tickets: the every-minute sweep, idle polling, the
    database's floor (the part of the minimum capacity the tickets' work does not already use), the
    snapshots of the `snapstart` functions, and the agents' push connections."""
    bill = Bill()
    minutes = HOURS_PER_MONTH * 60
    sweep = counted.sweep()
    if sweep is not None:
        bill.add("sweep: Lambda requests", minutes, P.LAMBDA_REQUEST)
        bill.add("sweep: Lambda GB-seconds", minutes * gb_seconds(sweep, memory_mb), P.LAMBDA_GB_SECOND)
        bill.add("sweep: Data API requests", minutes * sweep.data_api_calls, P.DATA_API_REQUEST)
    bill.add("SQS idle polling", minutes * ESM_POLLERS_PER_QUEUE * ESM_IDLE_RECEIVES_PER_POLLER_MINUTE * CONSUMER_QUEUES,
             P.SQS_REQUEST)
    used_acu = ticket_bill(counted, memory_mb, db_instances).lines
    load_acu_hours = sum(line.quantity for line in used_acu if line.price is P.AURORA_ACU_HOUR) * load.tickets_per_month
    sweep_acu_hours = acu_hours(minutes * counted.db_ms[SWEEP_PHASE], db_instances)
    floor = db_min_acu * db_instances * HOURS_PER_MONTH
    bill.add(f"Aurora floor: {db_min_acu:g} ACU x {db_instances} instance(s) beyond the load's ACU-hours",
             max(0.0, floor - load_acu_hours - sweep_acu_hours), P.AURORA_ACU_HOUR)
    bill.add("sweep: Aurora ACU-hours (database busy)", sweep_acu_hours, P.AURORA_ACU_HOUR)
    for name in snapstart:
        gb = memory_mb[name] / 1024
        bill.add(f"SnapStart cache ({name}, {memory_mb[name]} MB)", SNAPSTART_VERSIONS_CACHED * gb * SECONDS_PER_MONTH,
                 P.SNAPSTART_CACHE_GB_SECOND)
        bill.add(f"SnapStart restores ({name}, {memory_mb[name]} MB)", SNAPSTART_RESTORES_PER_MONTH * gb,
                 P.SNAPSTART_RESTORE_GB)
    bill.add("AppSync Events connection-minutes", load.agents * load.online_hours_per_agent_month * 60,
             P.APPSYNC_EVENTS_CONNECTION_MINUTE)
    return bill


def polling_month_bill(counted: Counted, memory_mb: dict[str, int], load: Load, db_instances: int) -> Bill:
    """Before push: the idle polling of issue 20 (each poll a view read: API Gateway, Lambda, Data API)."""
    bill = Bill()
    view = counted.view_read
    if view is None:
        return bill
    polls = load.polling_requests_per_second * SECONDS_PER_MONTH
    bill.add("polling: API Gateway requests", polls, P.API_GATEWAY_REST_REQUEST)
    bill.add("polling: Lambda requests", polls, P.LAMBDA_REQUEST)
    bill.add("polling: Lambda GB-seconds", polls * gb_seconds(view, memory_mb), P.LAMBDA_GB_SECOND)
    bill.add("polling: Data API requests", polls * view.data_api_calls, P.DATA_API_REQUEST)
    bill.add("polling: Aurora ACU-hours", acu_hours(polls * counted.db_ms[VIEW_PHASE], db_instances), P.AURORA_ACU_HOUR)
    return bill


@dataclass
class CostModel:
    per_ticket: Bill
    fixed_month: Bill
    polling_month: Bill
    load: Load
    counted: Counted

    @property
    def per_agent_month(self) -> float:
        tickets = self.load.tickets_per_month / self.load.agents
        return self.per_ticket.usd * tickets + self.fixed_month.usd / self.load.agents

    @property
    def idle_requests_per_agent_hour(self) -> tuple[float, float]:
        """(before push, after): polling requests vs polling requests left with push connected (none)."""
        return self.load.polling_requests_per_second * 3600 / self.load.agents, 0.0


def model(counted: Counted, memory_mb: dict[str, int], db_min_acu: float, db_instances: int,
          snapstart: Sequence[str], load: Load = Load()) -> CostModel:
    return CostModel(ticket_bill(counted, memory_mb, db_instances),
                     fixed_month_bill(counted, memory_mb, load, db_min_acu, db_instances, snapstart),
                     polling_month_bill(counted, memory_mb, load, db_instances), load, counted)


def stage(stage: str = "prod"):
    """(the stage's StageConfig, its FunctionSpecs by name), read from infra/ and cdk.json."""
    from app import load_context
    from infra.config import StageConfig
    from infra.workers import function_specs

    config = StageConfig.from_context(load_context(["-c", f"stage={stage}"]))
    return config, function_specs(config)


def stage_settings(stage_name: str = "prod") -> tuple[dict[str, int], float, int, tuple[str, ...]]:
    """(memory per function, minimum ACU, database instances, the functions with SnapStart) of a stage,
    read from infra/ (cdk.json): model()'s arguments after the counted life."""
    config, specs = stage(stage_name)
    return ({name: spec.memory_mb for name, spec in specs.items()}, config.db_min_capacity,
            2 if config.is_prod else 1, tuple(name for name, spec in specs.items() if spec.snap_start))


def section(cost: CostModel, command: str) -> list[str]:
    load, counted = cost.load, cost.counted
    tickets_per_agent = load.tickets_per_month / load.agents
    before, after = cost.idle_requests_per_agent_hour
    lines = [
        "## What it costs on AWS (issue 20 item 6)", "",
        f"AWS list prices, {P.REGION}, recorded {P.PRICES_DATE} (bench/prices.py, each with its pricing page; "
        "no free tiers or discounts; not re-read live that day: check before quoting), times the work counted on "
        f"one ticket's life run on the local stack (`{command}`; bench/lifecycle.py): mail in with the "
        "acknowledgement, two agent replies, resolve, close; the agent opens the ticket before each action.", "",
        "Counted in the run (per phase: invocations, Data API calls, other AWS calls):", "",
        "| phase | invocations | Data API calls | other AWS calls in functions | AWS's own calls (SES->S3, S3->SQS, pollers) |",
        "|---|---|---:|---:|---:|",
    ]
    for phase in PHASES:
        runs = [i for i in counted.ticket_invocations() if i.phase == phase]
        names = ", ".join(f"{n} x{sum(1 for i in runs if i.function == n)}" for n in dict.fromkeys(i.function for i in runs))
        outside = sum(n for (ph, _, _), n in counted.service_calls.items() if ph == phase)
        lines.append(f"| {phase} | {names} | {sum(i.data_api_calls for i in runs)} | "
                     f"{sum(i.other_aws_calls for i in runs)} | {outside} |")
    sweep = counted.sweep()
    lines += ["", f"Events published: {len(counted.events)} ({', '.join(counted.events)}). "
              + (f"The every-minute sweep (steady state): {sweep.data_api_calls} Data API calls, {sweep.ms:.0f} ms here. "
                 if sweep else "")
              + (f"A view read: {counted.view_read.data_api_calls} Data API call, {counted.view_read.ms:.0f} ms here."
                 if counted.view_read else ""), "",
              "Per ticket (whole life):", "",
              "| item | quantity | unit price (USD) | per ticket (USD) | per 1,000 tickets (USD) |", "|---|---:|---:|---:|---:|"]
    for line in cost.per_ticket.lines:
        lines.append(f"| {line.item} | {_qty(line.quantity)} | {line.price.usd:.10g} per {line.price.per} | "
                     f"{line.usd:.6f} | {line.usd * 1000:.4f} |")
    lines.append(f"| **total** | | | **{cost.per_ticket.usd:.5f}** | **{cost.per_ticket.usd * 1000:.2f}** |")
    lines += ["", f"Per agent-month at the promised load ({load.agents:,} agents, {load.tickets_per_day:,} tickets a day "
              f"= {tickets_per_agent:.0f} ticket lives per agent-month, {load.open_tickets:,} open; "
              f"{HOURS_PER_MONTH:.0f} h a month):", "",
              "| item | per month, whole deployment (USD) | per agent-month (USD) |", "|---|---:|---:|",
              f"| ticket lives ({tickets_per_agent:.0f} per agent) | {cost.per_ticket.usd * load.tickets_per_month:,.2f} | "
              f"{cost.per_ticket.usd * tickets_per_agent:.4f} |"]
    for line in cost.fixed_month.lines:
        lines.append(f"| {line.item} | {line.usd:,.2f} | {line.usd / load.agents:.4f} |")
    lines.append(f"| **total with push** | **{cost.per_agent_month * load.agents:,.2f}** | **{cost.per_agent_month:.4f}** |")
    polling = cost.polling_month.usd
    lines += [f"| for comparison: the idle polling push replaces (issue 20: {load.polling_requests_per_second:g} "
              f"requests/s, each a view read) | {polling:,.2f} | {polling / load.agents:.4f} |", "",
              f"Idle requests per agent-hour: {before:.0f} polling before push, {after:.0f} with push connected "
              "(a page polls every 60 s only while disconnected).", "",
              "Hosted help desks, per agent-month (list prices as published on their pricing pages, recorded "
              f"{P.PRICES_DATE}, not re-read live that day):", "",
              "| product | plan | USD per agent-month | billing | ours, per agent-month | source |", "|---|---|---:|---|---:|---|"]
    for plan in P.HOSTED_PLANS:
        lines.append(f"| {plan.vendor} | {plan.plan} | {plan.usd_per_agent_month:.2f} | {plan.billing} | "
                     f"{cost.per_agent_month:.2f} | {plan.source} |")
    lines += ["", "Assumptions (everything else is counted):", ""] + [f"- {a}" for a in assumptions(counted)]
    return lines


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.4g}"


def main() -> None:
    from bench.lifecycle import count_one_ticket

    counted = count_one_ticket()
    print("\n".join(section(model(counted, *stage_settings()), "python -m bench.cost")))


if __name__ == "__main__":
    main()

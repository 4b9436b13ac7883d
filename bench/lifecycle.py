"""One ticket's whole life on the local stack, with every piece of work counted (issue 20 item 6).

The local stack (local/stack.py) runs in this process on free ports and a data directory of its
own: SMTP -> the SES stand-in -> S3 -> SQS -> functions/inbound_email; the API through its HTTP
front; SNS -> SQS -> functions/outbound and functions/notifier; mail out through moto's SES. The
meter counts what AWS would bill:

- every Lambda invocation (function, trigger, duration here, and the AWS calls made inside it,
  Data API calls among them);
- every AWS API call made outside a function by the stand-ins for AWS's own work: SES storing the
  raw mail in S3, the S3 notification to SQS, and the event source mappings' receives (only those
  that returned messages: the pollers' idle receives are a fixed cost, bench/cost.py) and deletes;
- bytes stored in S3 and mails received.

The run's own look-ups (waiting for a ticket, for the queues to drain) come from the main thread
and are not counted. A first life warms the stack (connections, query plans, caches); the second is
counted. Phases: mail in (with the acknowledgement), reply 1, reply 2, resolve, close;
the agent opens the ticket (one GET) before each action, as in the workspace. Then the scheduled
sweep, twice (catch-up, then the every-minute steady state), which is a fixed cost per minute, not
per ticket.

    .venv/bin/python -m bench.lifecycle      # prints the counts
"""
from __future__ import annotations

import json
import os
import smtplib
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHASES = ("mail in + acknowledgement", "reply 1", "reply 2", "resolve", "close")
VIEW_PHASE = "view read"
SWEEP_PHASE = "sweep (every minute)"
DRIVER_THREAD = "MainThread"


@dataclass
class Invocation:
    phase: str
    function: str
    trigger: str  # "http" (API Gateway), "sqs", "schedule"
    ms: float
    records: int  # SQS messages in the batch (1 for others)
    calls: Counter = field(default_factory=Counter)  # (service, operation) -> n, made inside this invocation

    @property
    def data_api_calls(self) -> int:
        return sum(n for (service, _), n in self.calls.items() if service == "rds-data")

    @property
    def other_aws_calls(self) -> int:
        return sum(n for (service, _), n in self.calls.items() if service != "rds-data")


@dataclass
class Counted:
    """What one ticket's life cost in work, by phase."""

    invocations: list[Invocation] = field(default_factory=list)
    # (phase, service, operation) -> n: AWS's own work outside our functions (SES -> S3, S3 -> SQS, pollers)
    service_calls: Counter = field(default_factory=Counter)
    s3_bytes_stored: Counter = field(default_factory=Counter)  # phase -> bytes written to S3
    mails_received: int = 0
    mail_bytes_received: int = 0
    published: list[str] = field(default_factory=list)  # the events published to SNS (their JSON), in order
    view_read: Invocation | None = None  # one agent view read (GET my open tickets), for re-reads on push
    db_ms: Counter = field(default_factory=Counter)  # phase -> time PostgreSQL spent executing our statements

    @property
    def events(self) -> list[str]:
        """The types of the events published, in order."""
        return [_event_type(m) for m in self.published]

    def ticket_invocations(self) -> list[Invocation]:
        return [i for i in self.invocations if i.phase in PHASES and i.trigger != "schedule"]

    def sweep(self) -> Invocation | None:
        sweeps = [i for i in self.invocations if i.phase == SWEEP_PHASE and i.function == "sweep"]
        return sweeps[-1] if sweeps else None

    def calls(self, service: str, operations: tuple[str, ...] = (), *, inside: bool = True, outside: bool = True) -> int:
        """AWS calls of one service (optionally only these operations) over the ticket's life."""
        total = 0
        if inside:
            total += sum(n for i in self.ticket_invocations() for (s, op), n in i.calls.items()
                         if s == service and (not operations or op in operations))
        if outside:
            total += sum(n for (phase, s, op), n in self.service_calls.items()
                         if phase in PHASES and s == service and (not operations or op in operations))
        return total


class Meter:
    """Counts AWS API calls (botocore, every client of the process) and Lambda invocations (the stack's
    Functions) while installed."""

    def __init__(self) -> None:
        self.counted = Counted()
        self.phase = "start-up"
        self.own_sql: set[str] = set()  # the run's own look-ups, not counted
        self.first_events: dict[str, dict[str, Any]] = {}  # function -> the first event it was given (bench/coldstart.py)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._undo: list[Callable[[], None]] = []

    def install(self, functions: Any) -> None:
        from botocore.client import BaseClient

        original_call = BaseClient._make_api_call
        meter = self

        def counted_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            body = params.get("Body")  # botocore wraps it while sending: its size is read before
            size = len(body) if isinstance(body, (bytes, bytearray, str)) else 0
            result = original_call(client, operation, params)
            meter._record_call(client.meta.service_model.service_name, operation, params, result, size)
            return result

        BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(BaseClient, "_make_api_call", original_call))

        original_invoke = functions.invoke

        def counted_invoke(name: str, event: dict[str, Any]) -> Any:
            records = event.get("Records")
            invocation = Invocation(self.phase, name, "sqs" if records else "http" if "httpMethod" in event else "schedule",
                                    0.0, len(records) if records else 1)
            self._local.invocation = invocation
            with self._lock:
                self.first_events.setdefault(name, json.loads(json.dumps(event)))
            started = time.perf_counter()
            try:
                return original_invoke(name, event)
            finally:
                invocation.ms = (time.perf_counter() - started) * 1000
                self._local.invocation = None
                with self._lock:
                    self.counted.invocations.append(invocation)

        functions.invoke = counted_invoke
        self._undo.append(lambda: setattr(functions, "invoke", original_invoke))

        # The database's own work: the time PostgreSQL takes to execute each statement the local Data API
        # runs (not the HTTP, JSON and Python around it), by phase.
        from local import dataapi

        original_execute = dataapi._execute_prepared

        def timed_execute(conn: Any, sql: str, values: dict[str, Any]) -> Any:
            started = time.perf_counter()
            try:
                return original_execute(conn, sql, values)
            finally:
                if sql not in self.own_sql:
                    with self._lock:
                        self.counted.db_ms[self.phase] += (time.perf_counter() - started) * 1000

        dataapi._execute_prepared = timed_execute
        self._undo.append(lambda: setattr(dataapi, "_execute_prepared", original_execute))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _record_call(self, service: str, operation: str, params: dict[str, Any], result: Any, size: int) -> None:
        invocation = getattr(self._local, "invocation", None)
        with self._lock:
            if service == "sns" and operation in ("Publish", "PublishBatch"):
                messages = [params.get("Message", "")] if operation == "Publish" else \
                    [e.get("Message", "") for e in params.get("PublishBatchRequestEntries", [])]
                self.counted.published.extend(messages)
            if service == "s3" and operation == "PutObject":
                self.counted.s3_bytes_stored[self.phase] += size
            if invocation is not None:
                invocation.calls[(service, operation)] += 1
                return
            if threading.current_thread().name == DRIVER_THREAD:
                return  # the run's own look-ups
            if service == "sqs" and operation == "ReceiveMessage" and not (result or {}).get("Messages"):
                return  # an idle poll: a fixed cost of the event source mapping
            if service == "sqs" and operation == "GetQueueAttributes":
                return
            self.counted.service_calls[(self.phase, service, operation)] += 1


def _event_type(message: str) -> str:
    try:
        return str(json.loads(message).get("type", "?"))
    except (ValueError, AttributeError):
        return "?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """The local stack, the meter and the agent's HTTP calls."""

    def __init__(self, stack: Any, meter: Meter, progress: Callable[[str], None]) -> None:
        self.stack, self.meter, self.say = stack, meter, progress
        self.tokens = json.loads(stack.tokens_path.read_text())

    def http(self, method: str, path: str, email: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"{self.stack.url}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.tokens[email]}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} answered {exc.code}: {exc.read()[:400]!r}") from None
        return json.loads(raw) if raw else None

    def drained(self, timeout: float = 90.0) -> None:
        """Until every queue is empty, no function runs and the Maildir is delivered, for 1.5 s."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            busy = any(w.waiting() for w in self.stack.workers.values())
            seen = len(self.meter.counted.invocations)
            if not busy:
                quiet_since = quiet_since if quiet_since and seen == quiet_since[1] else (time.monotonic(), seen)
                if time.monotonic() - quiet_since[0] >= 1.5:
                    self.stack.maildir.deliver_pending()
                    return
            else:
                quiet_since = None
            time.sleep(0.2)
        raise TimeoutError("the local stack's queues did not drain")

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.2)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def count_one_ticket(progress: Callable[[str], None] = print,
                     while_up: Callable[[Any, Meter], None] | None = None) -> Counted:
    """Runs a ticket's life on a fresh local stack and returns what was counted; `while_up(stack, meter)`
    runs after it, before the stack stops (bench/coldstart.py replays the events it saw)."""
    from local.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="helpdesk-cost-") as tmp:
        saved = dict(os.environ)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
        stack = LocalStack(ROOT, http_port=_free_port(), smtp_port=_free_port(), data_dir=Path(tmp),
                           sweep_interval=86400.0)
        meter = Meter()
        try:
            progress("  starting a local stack for the counted ticket life ...")
            stack.start()
            meter.install(stack.functions)
            run = Run(stack, meter, progress)
            run.drained()
            # A first life warms what a running deployment has warm (connections, plans, caches, the
            # agent look-up); the second is the one counted.
            _ticket_life(run)
            meter.counted = Counted()
            _ticket_life(run)
            if while_up is not None:
                while_up(stack, meter)
        finally:
            meter.uninstall()
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)
    return meter.counted


def _ticket_life(run: Run) -> None:
    from local.sqlparams import translate

    stack, meter = run.stack, run.meter
    customer = f"cost-{uuid.uuid4().hex[:8]}@customer.example.net"
    meter.phase = PHASES[0]
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"Casey Customer <{customer}>", "support@example.com", "My order never arrived"
    mail["Message-ID"] = f"<{uuid.uuid4()}@customer.example.net>"
    mail.set_content("Hello,\n\nmy order 4711 has not arrived yet, the tracking page shows nothing since Monday.\n"
                     "Could you check what happened?\n\nThanks,\nCasey\n")
    raw = mail.as_bytes()
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)
    meter.counted.mails_received += 1
    meter.counted.mail_bytes_received += len(raw)
    find = ("SELECT t.id::text AS id, a.email AS assignee FROM tickets t LEFT JOIN agents a ON a.id = t.assignee_id"
            " JOIN customers c ON c.id = t.requester_id WHERE c.email = :email")
    meter.own_sql.add(translate(find, {}).sql)
    ticket = run.wait_for("the ticket", lambda: stack.db.query_one(find, {"email": customer}))
    run.drained()
    agent = ticket["assignee"] or "admin@example.com"
    run.say(f"  ticket {ticket['id']} for {customer}, handled by {agent}")
    for phase, action in zip(PHASES[1:], (
            ("messages", {"body": "Thanks for the report, I am checking with the carrier.", "visibility": "public"}),
            ("messages", {"body": "The carrier found it: it will be delivered tomorrow.", "visibility": "public"}),
            ("status", {"status": "resolved"}),
            ("status", {"status": "closed"}))):
        meter.phase = phase
        opened = run.http("GET", f"/tickets/{ticket['id']}", agent)  # the agent opens the ticket
        if action[1].get("status") == "resolved" and opened["status"] != "in_progress":
            # Replies leave an assigned ticket assigned; resolving starts from in progress.
            run.http("POST", f"/tickets/{ticket['id']}/status", agent, {"status": "in_progress"})
        run.http("POST", f"/tickets/{ticket['id']}/{action[0]}", agent, action[1])
        run.drained()
    meter.phase = VIEW_PHASE
    before = len(meter.counted.invocations)
    run.http("GET", "/tickets?view=mine&limit=50", agent)
    meter.counted.view_read = meter.counted.invocations[before]
    for phase in ("sweep catch-up", SWEEP_PHASE):  # then the every-minute steady state
        meter.phase = phase
        stack.sweep.run_now()
    meter.phase = "done"


def count_in_subprocess(progress: Callable[[str], None] = print) -> Counted:
    """count_one_ticket() in a fresh process: the local stack wires the process's handlers to itself, and
    the bench's own process has its handlers wired to the bench database."""
    import pickle
    import subprocess

    with tempfile.TemporaryDirectory(prefix="helpdesk-cost-") as tmp:
        out = Path(tmp) / "counted.pickle"
        # Imported, not run as __main__, so the pickled classes are bench.lifecycle's.
        result = subprocess.run([sys.executable, "-c", f"from bench.lifecycle import main; main(['--pickle', {str(out)!r}])"],
                                cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"the counted ticket life failed:\n{result.stderr[-3000:]}")
        progress("\n".join(line for line in result.stdout.splitlines() if line.startswith("  ")))
        return pickle.loads(out.read_bytes())


def main(argv: list[str] | None = None) -> None:
    import argparse
    import pickle

    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pickle", type=Path, help="write what was counted here (for bench/__main__.py)")
    args = parser.parse_args(argv)
    counted = count_one_ticket()
    if args.pickle:
        args.pickle.write_bytes(pickle.dumps(counted))
        return
    for i in counted.invocations:
        print(f"{i.phase:28} {i.function:14} {i.trigger:8} {i.ms:8.1f} ms  {dict(i.calls)}")
    print("outside functions:", dict(counted.service_calls))
    print("events:", counted.events)
    print("S3 bytes:", dict(counted.s3_bytes_stored), "mails in:", counted.mails_received, counted.mail_bytes_received)
    print("database ms:", {k: round(v, 1) for k, v in counted.db_ms.items()})


if __name__ == "__main__":
    main()

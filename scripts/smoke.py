"""End-to-end smoke check of a running Helpdesk: the local stack (default) or a deployed stage.

    make smoke                      # the local stack started with `make run` (reads .local/stack.lock)
    STAGE=dev make smoke            # the stack Helpdesk-dev in AWS (reads its CloudFormation outputs)

Each step prints one line, PASS / FAIL / SKIP with what it saw (or why it was skipped and how to
run it); the exit status is 1 when any step failed, 2 when the target cannot be reached at all.

Steps: the public form opens a ticket and the signed portal link it mails reads it; an agent creates and
reads a ticket through the API; a mail to the support address becomes a ticket (SES receiving:
locally through the SMTP front); an agent's public reply is on the ticket and goes out (outbound
delivered it to SES; locally it is in the Maildir); locally, the customer's answer to that mail
threads back into the ticket; and the Data API behaviours the app relies on, on the database the
stage really uses: timestamps round-trip with time zones, jsonb operators, the largest response.

In AWS (STAGE set), these stack outputs are read: ApiUrl, SupportAddresses, DbClusterArn,
DbSecretArn, DbName (REQUIRED_OUTPUTS; tests/infra checks the stack has them). Credentials are the
usual boto3 ones (AWS_PROFILE, AWS_REGION), allowed to describe the stack, run rds-data
ExecuteStatement on the cluster with its secret, and, for the mail step, ses:SendRawEmail.
Optional environment:
    HELPDESK_TOKEN   an agent's Cognito ID token (sign in to WebUrl, then in the browser console:
                     sessionStorage.getItem("helpdesk.token")); without it the agent steps are skipped
    SMOKE_FROM       an address SES may send from (verified in SES); without it the mail step prints
                     how to send one by hand
    SMOKE_TIMEOUT    seconds to wait for asynchronous results (default 60, 120 in AWS)
"""
from __future__ import annotations

import argparse
import json
import mailbox
import os
import smtplib
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "helpdesk")]

from helpdesk.db import smoke as sql  # noqa: E402
from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.db.tickets.reads import MESSAGE_PREVIEW_CHARS  # noqa: E402

REQUIRED_OUTPUTS = ("ApiUrl", "SupportAddresses", "DbClusterArn", "DbSecretArn", "DbName")
LOCAL_AGENT = "admin@example.com"  # seeded by the local stack, an admin with an agent record
SES_SIMULATOR = "success@simulator.amazonses.com"  # accepts mail even from a sandboxed SES account
HTTP_TIMEOUT = 35.0  # above a resuming Aurora cluster's ~15 s first answer, under API Gateway's 29 s + margin


class StepFailed(Exception):
    pass


class StepSkipped(Exception):
    pass


class Unreachable(Exception):
    """The target itself cannot be used (no running local stack, no such CloudFormation stack)."""


# -- the target ----------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Target:
    name: str
    api_base: str  # .../api/v1
    support_address: str
    data_api: DataApi
    timeout: float
    token: str | None = None
    token_note: str = ""
    send_mail: Callable[[EmailMessage], None] | None = None
    mail_note: str = ""
    maildir: Path | None = None  # local only: where the SES stand-in delivers outbound mail
    requester: Callable[[str], str] = field(default=lambda marker: f"smoke.{marker}@customer.test")

    def call(self, method: str, path: str, body: Any = None, *, agent: bool = False,
             headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(self.api_base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if agent:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise StepFailed(f"{method} {self.api_base}{path}: {getattr(err, 'reason', err)}") from None
        try:
            return Answer(status, json.loads(raw) if raw else None)
        except ValueError:
            return Answer(status, raw.decode(errors="replace")[:300])

    def expect(self, answer: Answer, status: int, what: str) -> Any:
        if answer.status != status:
            detail = answer.body.get("detail") if isinstance(answer.body, dict) else answer.body
            raise StepFailed(f"{what}: HTTP {answer.status} (expected {status}): {detail}")
        return answer.body

    def need_agent(self) -> None:
        if not self.token:
            raise StepSkipped(self.token_note)


def local_target(data_dir: Path, timeout: float | None) -> Target:
    """The stack `make run` started on data_dir: its lock file says where everything is."""
    import boto3

    lock = data_dir / "stack.lock"
    try:
        info = json.loads(lock.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if info.get("status") != "running" or "data_api" not in info:
        raise Unreachable(f"no local stack is running on {data_dir} (no running stack in {lock}): start one with "
                          "`make run`, or pass STAGE=<stage> to check a deployed stage")
    try:
        token = json.loads((data_dir / "tokens.json").read_text())[LOCAL_AGENT]
    except (OSError, ValueError, KeyError):
        raise Unreachable(f"{data_dir / 'tokens.json'} holds no token for {LOCAL_AGENT}") from None
    db = info["data_api"]
    client = boto3.client("rds-data", region_name="us-east-1", endpoint_url=db["url"],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    data_api = DataApi(client, resource_arn=db["cluster_arn"], secret_arn=db["secret_arn"], database=db["database"])
    host, port = "127.0.0.1", int(info["smtp_port"])

    def send(mail: EmailMessage) -> None:
        with smtplib.SMTP(host, port, timeout=15) as smtp:
            smtp.send_message(mail, to_addrs=[a for _, a in getaddresses(mail.get_all("To", []))])

    return Target(f"local stack {info['url']}", info["url"].rstrip("/") + "/api/v1", info["support_address"],
                  data_api, timeout or 60.0, token=token, send_mail=send, maildir=data_dir / "mail" / "outbox")


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The named stack's outputs; Unreachable naming the stack or the outputs that are missing."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise Unreachable(f"CloudFormation stack {stack_name}: {exc.response['Error'].get('Message', exc)} "
                          "(deploy it first, or check AWS_REGION / AWS_PROFILE)") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise Unreachable(f"stack {stack_name} has no output {', '.join(missing)}: redeploy it with this version "
                          f"of infra/ (scripts/smoke.py reads {', '.join(REQUIRED_OUTPUTS)})")
    return outputs


def aws_target(stage: str, timeout: float | None, session: Any = None) -> Target:
    import boto3
    from botocore.config import Config

    session = session or boto3.session.Session()
    stack_name = f"Helpdesk-{stage}"
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    # The client's own retries ride out a paused cluster (DatabaseResumingException); botocore's would
    # hide them, and its read timeout must outlast a statement's answer.
    rds_data = session.client("rds-data", config=Config(retries={"total_max_attempts": 1}, read_timeout=60))
    data_api = DataApi(rds_data, resource_arn=outputs["DbClusterArn"], secret_arn=outputs["DbSecretArn"],
                       database=outputs["DbName"])
    support = outputs["SupportAddresses"].split(",")[0].strip()
    sender = os.environ.get("SMOKE_FROM", "").strip()
    send = None
    if sender:
        ses = session.client("ses")

        def send(mail: EmailMessage) -> None:
            ses.send_raw_email(Source=sender, Destinations=[support], RawMessage={"Data": mail.as_bytes()})

    token = os.environ.get("HELPDESK_TOKEN", "").strip() or None
    return Target(
        f"stage {stage} ({outputs['ApiUrl']})", outputs["ApiUrl"].rstrip("/"), support, data_api, timeout or 120.0,
        token=token,
        token_note=("set HELPDESK_TOKEN to an agent's ID token to run it (sign in to the WebUrl output, then in the "
                    "browser console: sessionStorage.getItem(\"helpdesk.token\"))"),
        send_mail=send,
        mail_note=(f"set SMOKE_FROM to an address verified in SES to send one, or mail {support} yourself with a "
                   "subject you choose and check that a ticket with that subject appears in the web app"),
        requester=lambda marker: SES_SIMULATOR)


# -- the steps -------------------------------------------------------------------------------------

@dataclass
class Run:
    target: Target
    marker: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    ticket: dict[str, Any] | None = None  # the agent-created ticket (reply out)
    outbound_mail: Any = None  # local: the reply as the SES stand-in delivered it

    def wait_for(self, what: str, probe: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.target.timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepFailed(f"{what} after {self.target.timeout:.0f} s")
            time.sleep(0.5)


def step_public_form_and_portal(run: Run) -> str:
    t = run.target
    created = t.expect(t.call("POST", "/public/tickets", {
        "requester_email": f"smoke.{run.marker}@customer.test", "requester_name": "Smoke Test",
        "subject": f"Smoke test {run.marker} (web form)", "body": "Opened by scripts/smoke.py; safe to close."},
        headers={"Idempotency-Key": f"smoke-form-{run.marker}"}), 201, "POST /public/tickets")
    if "portal_token" in created or "portal_url" in created:
        raise StepFailed("the form's answer carries the portal link: it must only be mailed to the address")
    number = int(str(created["ref"]).split("-")[1])

    def acknowledged() -> dict[str, Any] | None:
        row = t.data_api.query_one(sql.ACK_OF_TICKET, {"number": number})
        if row and row["state"] == "failed":
            raise StepFailed(f"the acknowledgement failed: {row['last_error']}")
        return row if row and row["state"] == "sent" else None

    row = run.wait_for("the acknowledgement with the portal link was not sent", acknowledged)
    if t.maildir is None:
        return (f"{created['ref']} opened; its portal link was mailed to {row['recipient']} (SES message "
                f"{row['ses_message_id']}): open it from that mailbox")
    mail = run.wait_for(f"the acknowledgement is not in {t.maildir}",
                        lambda: _mail_in_maildir(t.maildir, f"TKT-{number}: Smoke test {run.marker}"))
    link = next((line.strip() for line in mail.get_body(("plain",)).get_content().splitlines()
                 if "/portal.html#" in line), "")
    token = link.split("#", 1)[1] if link else ""
    view = t.expect(t.call("GET", f"/portal/{token}"), 200, "GET /portal/<token>")
    if view.get("ref") != created.get("ref") or run.marker not in (view.get("subject") or ""):
        raise StepFailed(f"the portal shows {view.get('ref')} {view.get('subject')!r}, not {created.get('ref')}")
    key_id = token.split(".")[0] if token.count(".") == 3 else "?"
    return f"{created['ref']} opened and read back through the portal link it mailed (signed with key {key_id})"


def step_agent_create_and_read(run: Run) -> str:
    t = run.target
    t.need_agent()
    body = {"subject": f"Smoke test {run.marker} (API)", "body": "Created by scripts/smoke.py; safe to close.",
            "requester_email": t.requester(run.marker), "requester_name": "Smoke Test"}
    created = t.call("POST", "/tickets", body, agent=True, headers={"Idempotency-Key": f"smoke-api-{run.marker}"})
    ticket = t.expect(created, 201, "POST /tickets")
    read = t.expect(t.call("GET", f"/tickets/{ticket['id']}", agent=True), 200, "GET /tickets/{id}")
    if read.get("subject") != body["subject"] or read.get("id") != ticket["id"]:
        raise StepFailed(f"GET /tickets/{ticket['id']} answered {read.get('id')} {read.get('subject')!r}")
    run.ticket = ticket
    return f"TKT-{ticket['number']} created and read back"


def step_mail_in(run: Run) -> str:
    t = run.target
    if t.send_mail is None:
        raise StepSkipped(t.mail_note)
    mail = EmailMessage()
    mail["From"] = os.environ.get("SMOKE_FROM") or f"Smoke Test <smoke.{run.marker}@customer.test>"
    mail["To"] = t.support_address
    mail["Subject"] = f"Smoke test {run.marker} (mail)"
    mail["Message-ID"] = f"<smoke.{run.marker}@smoke.invalid>"
    mail.set_content("Sent by scripts/smoke.py to check SES receiving; safe to close.")
    t.send_mail(mail)
    row = run.wait_for(f"no ticket for the mail to {t.support_address}",
                       lambda: t.data_api.query_one(sql.TICKET_BY_SUBJECT_MARKER, {"marker": f"{run.marker} (mail)"}))
    if row["channel"] != "email":
        raise StepFailed(f"TKT-{row['number']} came in on channel {row['channel']!r}, not email")
    return f"mail to {t.support_address} became TKT-{row['number']}"


def step_reply_out(run: Run) -> str:
    t = run.target
    t.need_agent()
    if run.ticket is None:
        raise StepSkipped("needs the ticket of 'API: an agent creates and reads a ticket'")
    text = f"Smoke reply {run.marker}: this checks outbound mail."
    posted = t.expect(t.call("POST", f"/tickets/{run.ticket['id']}/messages", {"body": text, "visibility": "public"},
                             agent=True), 201, "POST /tickets/{id}/messages")
    message_id = posted["message"]["id"]
    shown = t.expect(t.call("GET", f"/tickets/{run.ticket['id']}", agent=True), 200, "GET /tickets/{id}")
    if not any(m.get("id") == message_id for m in shown.get("messages", [])):
        raise StepFailed("the ticket does not show the reply")

    def delivered() -> dict[str, Any] | None:
        row = t.data_api.query_one(sql.OUTBOUND_OF_MESSAGE, {"message_id": message_id})
        if row and row["state"] == "failed":
            raise StepFailed(f"outbound mail failed: {row['last_error']}")
        return row if row and row["state"] in ("sent", "skipped") else None

    row = run.wait_for("the reply was not handed to SES (email_outbound not 'sent')", delivered)
    if row["state"] != "sent":
        raise StepFailed(f"outbound mail was skipped for {row['recipient']}: {row['last_error']}")
    where = f"SES message {row['ses_message_id']} to {row['recipient']}"
    if t.maildir is not None:
        run.outbound_mail = run.wait_for(f"the reply is not in {t.maildir}", lambda: _mail_in_maildir(t.maildir, text))
        where += f", delivered to {t.maildir}"
    return f"reply on TKT-{run.ticket['number']} sent: {where}"


def _mail_in_maildir(maildir: Path, text: str) -> Any:
    if not maildir.is_dir():
        return None
    box = mailbox.Maildir(str(maildir), create=False)
    for key in list(box.keys()):
        mail = message_from_bytes(box.get_bytes(key), policy=policy.default)
        body = mail.get_body(("plain",))
        if body is not None and text in body.get_content():
            return mail
    return None


def step_answer_threads_back(run: Run) -> str:
    t = run.target
    if t.maildir is None:
        raise StepSkipped("in AWS the reply went to SES's mailbox simulator; answer a reply in your own mailbox to "
                          "check that it threads back into its ticket")
    if run.outbound_mail is None or run.ticket is None:
        raise StepSkipped("needs the mail of 'Mail out: an agent's reply is sent'")
    sent = run.outbound_mail
    answer = EmailMessage()
    answer["From"] = sent["To"]
    answer["To"] = sent.get("Reply-To") or sent["From"]
    answer["Subject"] = "Re: " + sent["Subject"]
    answer["In-Reply-To"] = sent["Message-ID"]
    answer["Message-ID"] = f"<smoke.answer.{run.marker}@smoke.invalid>"
    answer.set_content(f"Thanks ({run.marker}-answer).")
    t.send_mail(answer)

    def threaded() -> bool:
        listed = t.call("GET", f"/tickets/{run.ticket['id']}/messages", agent=True)
        return listed.status == 200 and any(f"{run.marker}-answer" in (m.get("body") or "") for m in listed.body["items"])

    run.wait_for(f"the answer to {answer['To']} did not thread into TKT-{run.ticket['number']}", threaded)
    return f"the answer to {answer['To']} threaded into TKT-{run.ticket['number']}"


def step_timestamps(run: Run) -> str:
    # Just before the 2026 DST change in New York, with microseconds, given in a third zone.
    at = datetime(2026, 3, 8, 6, 59, 59, 123456, tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Kolkata"))
    offset_text = "2026-03-08T01:59:59.5-05:00"
    row = run.target.data_api.query_one(sql.TIMESTAMPS, {"at": at, "offset_text": offset_text})
    problems = []
    if row["at"] != at:
        problems.append(f"a timestamptz came back as {row['at'].isoformat()}, sent {at.isoformat()}")
    if abs(float(row["epoch"]) - at.timestamp()) > 1e-6:
        problems.append(f"epoch {row['epoch']} != {at.timestamp()}")
    wall = at.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None).isoformat(sep=" ")
    if row["new_york_wall"] != wall:
        problems.append(f"AT TIME ZONE 'America/New_York' gave {row['new_york_wall']}, expected {wall}")
    in_jsonb = datetime.fromisoformat(row["in_jsonb"])
    if in_jsonb.tzinfo is None or in_jsonb != at:
        problems.append(f"a timestamptz inside jsonb reads {row['in_jsonb']} (session TimeZone "
                        f"{row['session_time_zone']}), not {at.isoformat()}")
    if row["from_offset_text"] != datetime.fromisoformat(offset_text):
        problems.append(f"{offset_text} as text came back as {row['from_offset_text'].isoformat()}")
    if problems:
        raise StepFailed("; ".join(problems))
    return (f"{at.isoformat()} round-trips to the microsecond, in jsonb and across zones "
            f"(session TimeZone {row['session_time_zone']})")


def step_jsonb(run: Run) -> str:
    doc = {"name": "Zoë \"Q\" 🙂", "tags": ["vip", "eu"], "secret": "x", "count": 3}
    ids = [str(uuid.UUID(int=i)) for i in (3, 1, 2)]
    row = run.target.data_api.query_one(sql.JSONB_OPERATORS, {"doc": doc, "ids": ids})
    expected = {"name": doc["name"], "tagged_vip": True, "has_missing": False,
                "reshaped": {"name": doc["name"], "tags": ["vip", "eu"], "count": 3, "checked": True},
                "contains_vip": True, "count_type": "number", "ids": ",".join(sorted(ids))}
    wrong = {k: row.get(k) for k, v in expected.items() if row.get(k) != v}
    if wrong:
        raise StepFailed(f"unexpected results: {wrong}")
    return "->>, ->, ?, -, ||, @>, jsonb_typeof and jsonb_array_elements_text agree with Python"


def step_largest_response(run: Run) -> str:
    started = time.monotonic()
    rows = run.target.data_api.query(sql.LARGEST_PAGE, {"char": "🙂", "preview_chars": MESSAGE_PREVIEW_CHARS,
                                                       "messages": sql.LARGEST_PAGE_MESSAGES})
    seconds = time.monotonic() - started
    size = sum(len(json.dumps(r["doc"], ensure_ascii=False).encode()) for r in rows)
    bodies = {len(r["doc"]["body"]) for r in rows}
    if len(rows) != sql.LARGEST_PAGE_MESSAGES or bodies != {MESSAGE_PREVIEW_CHARS}:
        raise StepFailed(f"{len(rows)} rows with body lengths {sorted(bodies)}; expected {sql.LARGEST_PAGE_MESSAGES} "
                         f"of {MESSAGE_PREVIEW_CHARS}")
    return (f"{len(rows)} messages x {MESSAGE_PREVIEW_CHARS} four-byte characters = {size / 1024:.0f} KiB "
            f"in one call ({seconds:.2f} s)")


STEPS: list[tuple[str, Callable[[Run], str]]] = [
    ("API: the public form opens a ticket and mails its portal link, which reads it", step_public_form_and_portal),
    ("API: an agent creates and reads a ticket", step_agent_create_and_read),
    ("Mail in: a mail to the support address becomes a ticket", step_mail_in),
    ("Mail out: an agent's reply is sent", step_reply_out),
    ("Mail in: the customer's answer threads back", step_answer_threads_back),
    ("Data API: timestamps round-trip with time zones", step_timestamps),
    ("Data API: jsonb operators", step_jsonb),
    ("Data API: the largest response the app asks for", step_largest_response),
]


def run_steps(target: Target, out: Callable[[str], None] = print) -> int:
    run = Run(target)
    out(f"Helpdesk smoke check against {target.name} (marker {run.marker})")
    failed = 0
    for name, step in STEPS:
        started = time.monotonic()
        try:
            detail = step(run)
            out(f"PASS  {name}: {detail} [{time.monotonic() - started:.1f}s]")
        except StepSkipped as exc:
            out(f"SKIP  {name}: {exc}")
        except StepFailed as exc:
            failed += 1
            out(f"FAIL  {name}: {exc} [{time.monotonic() - started:.1f}s]")
        except Exception as exc:  # noqa: BLE001 - a smoke run reports every step, whatever broke
            failed += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            out(f"FAIL  {name}: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})")
    out(f"{'FAILED' if failed else 'PASSED'}: {failed} of {len(STEPS)} steps failed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default=os.environ.get("STAGE", ""),
                        help="a deployed stage (Helpdesk-<stage>); default: the local stack (or $STAGE)")
    parser.add_argument("--local-dir", type=Path, default=ROOT / ".local", help="the local stack's data dir")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("SMOKE_TIMEOUT") or 0) or None,
                        help="seconds to wait for asynchronous results")
    args = parser.parse_args(argv)
    try:
        target = aws_target(args.stage, args.timeout) if args.stage else local_target(args.local_dir, args.timeout)
    except Unreachable as exc:
        print(f"FAIL  reach the target: {exc}")
        return 2
    return run_steps(target)


if __name__ == "__main__":
    sys.exit(main())

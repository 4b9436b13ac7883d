"""The whole help desk in one process: `LocalStack(...).start()` ... `.stop()`.

Start order: the single-instance lock and port checks, PostgreSQL (embedded, or DATABASE_URL),
the local Data API on a loopback port, the process environment every function reads, moto and
its resources, migrations, the demo seed, tokens, then the front doors (HTTP, SMTP) and the
background loops (queue workers, sweep schedule, Maildir delivery). stop() reverses it.

Everything runs in this process and the functions read os.environ, so there is one stack per
process (tests start it in a subprocess: see tests/e2e/conftest.py).
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from local import aws, tokens
from local.functions import Functions

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "helpdesk"
SWEEP_INTERVAL_SECONDS = 30.0
# Queue -> the function Lambda's event source mapping would invoke.
QUEUE_FUNCTIONS = {"inbound": "inbound_email", "notify": "notifier", "outbound": "outbound", "push": "push"}
# Every function the stack runs (migrate runs as a library call at start).
FUNCTIONS = ("api", "inbound_email", "outbound", "notifier", "sweep", "audit_export", "push", "push_authorizer")


class AlreadyRunning(RuntimeError):
    """Another stack holds this data directory (or a port we need is taken)."""


class LocalStack:
    def __init__(self, root: Path = ROOT, http_port: int = 8080, smtp_port: int = 2525,
                 data_dir: Path | None = None, *, host: str = "127.0.0.1",
                 sweep_interval: float = SWEEP_INTERVAL_SECONDS, keep_postgres: bool = False,
                 database_url: str | None = None, db_name: str = DB_NAME) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self.http_port = http_port
        self.smtp_port = smtp_port
        self.data_dir = Path(data_dir or self.root / ".local").resolve()
        self.sweep_interval = sweep_interval
        self.keep_postgres = keep_postgres
        self.database_url = database_url
        self.db_name = db_name
        self.functions = Functions(self.root)
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self._lock_file: Any = None
        self._stopped = threading.Event()
        self.ready = threading.Event()  # set when every part is up: health answers 200 only then
        self.started_at: datetime | None = None

    # -- paths -----------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.data_dir / "stack.lock"

    @property
    def tokens_path(self) -> Path:
        return self.data_dir / "tokens.json"

    @property
    def clock_offset_path(self) -> Path:
        return self.data_dir / "clock-offset"

    @property
    def maildir_path(self) -> Path:
        return self.data_dir / "mail" / "outbox"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "LocalStack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            self._check_ports()
            self._start_everything()
        except BaseException:
            self.stop()
            raise
        self.started_at = datetime.now(timezone.utc)
        return self

    def _start_everything(self) -> None:
        from helpdesk.db.client import DataApi
        from helpdesk.db.migrate import migrate

        from local import dataapi, postgres, seed
        from local.httpfront import HttpFront, start_thread
        from local.smtpfront import SesInbound, SmtpFront
        from local.workers import MaildirDelivery, QueueWorker, Schedule

        t0 = time.monotonic()
        pg = postgres.EmbeddedServer(self.data_dir / "pgdata", keep_running=self.keep_postgres, url=self.database_url)
        self._on_stop("postgres", pg.release)
        database_uri = postgres.ensure_database(pg.uri, self.db_name)
        log.info("PostgreSQL ready (%s) in %.1fs", "embedded, data in " + str(self.data_dir / "pgdata") if pg.embedded else "DATABASE_URL", time.monotonic() - t0)

        backend = dataapi.LocalDataApi(database_uri)
        self._on_stop("data api backend", backend.close)
        data_api_server = dataapi.serve(backend, host=self.host, port=0)
        self._on_stop("data api", lambda: (data_api_server.shutdown(), data_api_server.server_close()))
        data_api_url = f"http://{self.host}:{data_api_server.server_address[1]}"

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto = aws.MotoServer(host=self.host)
        endpoint = moto.start()
        self._on_stop("moto", moto.stop)

        log.info("moto at %s, local Data API at %s", endpoint, data_api_url)
        secrets_doc = self._secrets()
        self.token_key = secrets_doc["token_key"]
        self._set_environment(data_api_url, endpoint, secrets_doc["signing_key"])
        self._start_events()
        db = DataApi.from_settings()
        applied = migrate(db)
        log.info("migrations: %s", ", ".join(applied) if applied else "up to date")
        seeded_path = self.data_dir / "seeded.json"
        done = set(json.loads(seeded_path.read_text())) if seeded_path.exists() else set()
        summary = seed.seed(db, done)
        seeded_path.write_text(json.dumps(sorted(summary["done"])))
        for skipped in summary["skipped"]:
            log.warning("seed: %s", skipped)
        self.db = db
        self.support_domains = seed.support_domains(db)
        senders = [r["email_address"] for r in db.query("SELECT email_address FROM teams WHERE email_address IS NOT NULL")]
        self.resources = aws.provision(endpoint, support_domain=os.environ["SUPPORT_DOMAIN"],
                                       sender_addresses=senders, web_origin=self.url)
        self._start_slack(endpoint)
        s3_dir = self.data_dir / "s3"
        restored = aws.restore_buckets(endpoint, s3_dir)
        if restored:
            log.info("restored %d S3 objects (raw mail, attachments, audit) from %s", restored, s3_dir)
        queues_dir = self.data_dir / "queues"
        requeued = aws.restore_queues(endpoint, self.resources.queue_urls, queues_dir)
        if requeued:
            log.info("re-queued %d messages left in the queues at the last stop", requeued)
        # Registered after moto's stop, so they run before it: moto's state exists only in memory.
        self._on_stop("s3 snapshot", lambda: log.info("saved %d S3 objects to %s", aws.save_buckets(endpoint, s3_dir), s3_dir))
        self._on_stop("queue snapshot", lambda: log.info("saved %d queued messages to %s", aws.save_queues(queues_dir), queues_dir))
        if _events_publisher_available():
            os.environ["EVENTS_TOPIC_ARN"] = self.resources.topic_arn
        else:
            log.warning("helpdesk.events.sns not available yet: events wait in the outbox (no notify/outbound fan-out)")
        self.write_tokens()

        # Background loops first, so the front doors never accept work nobody will process.
        self.maildir = MaildirDelivery(self.maildir_path)
        loops: list[Any] = [self.maildir]
        self.workers = {}
        for queue, function in QUEUE_FUNCTIONS.items():
            worker = QueueWorker(self.functions, function, self.resources.queue_urls[queue],
                                 self.resources.queue_arns[queue], endpoint,
                                 dlq_url=self.resources.queue_urls[f"{queue}-dlq"])
            self.workers[queue] = worker
            loops.append(worker)
        from helpdesk.wiring import clock

        now = lambda: clock().now()  # noqa: E731
        # The EventBridge rules of infra/workers.py: the sweep (every minute in AWS, 30 s here), the
        # notifier's deferred run (quiet hours) every minute, the audit export daily.
        self.sweep = Schedule(self.functions, "sweep", self.sweep_interval, now, rule="SweepEveryMinute")
        self.schedules = [self.sweep,
                          Schedule(self.functions, "notifier", 60.0, now, first_delay=60.0, rule="NotifierDeferredEveryMinute"),
                          Schedule(self.functions, "audit_export", 86400.0, now, first_delay=300.0, rule="AuditExportDaily")]
        loops.extend(self.schedules)
        for loop in loops:
            loop.start()
        self._on_stop("background loops", lambda: _stop_loops(loops))
        for name in FUNCTIONS:
            self.functions.available(name)  # logs once which functions are missing

        self.http = HttpFront(host=self.host, port=self.http_port, web_dir=self.root / "web",
                              functions=self.functions, dev=self)
        self._on_stop("http", start_thread(self.http))
        self.smtp_handler = SesInbound(endpoint=endpoint, inbound_queue_url=self.resources.queue_urls["inbound"],
                                       domains=lambda: self.support_domains)
        smtp = SmtpFront(self.smtp_handler, host=self.host, port=self.smtp_port)
        smtp.start()
        self._on_stop("smtp", smtp.stop)
        # A dev database that was idle: the first requests meet a cluster waking from 0 ACU (switchable
        # later too: POST /api/v1/dev/database {"resuming_seconds": N}).
        backend.resume_after(float(os.environ.get(dataapi.RESUMING_SECONDS_ENV) or 0))
        self.data_api_backend = backend
        self._write_lock_info()
        self.ready.set()
        log.info("Helpdesk local stack ready in %.1fs: %s (API + web), smtp://%s:%d, tokens in %s, mail in %s",
                 time.monotonic() - t0, self.url, self.host, self.smtp_port, self.tokens_path, self.maildir_path)

    def stop(self) -> None:
        """Stop everything started, in reverse order; safe to call twice."""
        self.ready.clear()
        while self._stops:
            name, fn = self._stops.pop()
            try:
                fn()
            except Exception:
                log.exception("stopping %s failed", name)
        self._release_lock()
        self._stopped.set()

    def wait(self) -> None:
        """Block until stop() (the __main__ loop calls this and stops on Ctrl-C)."""
        while not self._stopped.wait(0.5):
            pass

    def _on_stop(self, name: str, fn: Callable[[], Any]) -> None:
        self._stops.append((name, fn))

    # -- single instance -------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        handle = open(self.lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            info = _parse_lock(handle.read())
            handle.close()
            where = f"pid {info.get('pid', '?')}, {info.get('url', 'http://127.0.0.1:?')}, smtp port {info.get('smtp_port', '?')}"
            raise AlreadyRunning(
                f"The Helpdesk local stack is already running with data in {self.data_dir} ({where}). "
                f"Use that one, or stop it first (Ctrl-C in its terminal, or kill {info.get('pid', '<pid>')}).") from None
        self._lock_file = handle
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "status": "starting"}))
        handle.flush()

    def _write_lock_info(self) -> None:
        handle = self._lock_file
        handle.seek(0)
        handle.truncate()
        # Also how tools reach this stack from outside (scripts/smoke.py): its Data API and support address.
        handle.write(json.dumps({"pid": os.getpid(), "url": self.url, "smtp_port": self.smtp_port,
                                 "status": "running", "started_at": datetime.now(timezone.utc).isoformat(),
                                 "support_address": f"support@{os.environ['SUPPORT_DOMAIN']}",
                                 "data_api": {"url": os.environ["AWS_ENDPOINT_URL_RDS_DATA"],
                                              "cluster_arn": os.environ["DB_CLUSTER_ARN"],
                                              "secret_arn": os.environ["DB_SECRET_ARN"],
                                              "database": os.environ["DB_NAME"]}}))
        handle.flush()

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.seek(0)
            self._lock_file.truncate()
            self._lock_file.flush()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _check_ports(self) -> None:
        for port, what, flag in ((self.http_port, "HTTP", "--http-port"), (self.smtp_port, "SMTP", "--smtp-port")):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.host, port))
                except OSError as exc:
                    if exc.errno != errno.EADDRINUSE:
                        raise
                    raise AlreadyRunning(
                        f"{what} port {self.host}:{port} is already in use (another Helpdesk stack with other data, "
                        f"or another program). Stop it, or choose another port with {flag}.") from None

    # -- environment, secrets, tokens ------------------------------------------------------
    def _secrets(self) -> dict[str, str]:
        """Keys that persist in the data dir, so tokens and reply addresses survive restarts."""
        path = self.data_dir / "secrets.json"
        doc = json.loads(path.read_text()) if path.exists() else {}
        if not {"token_key", "signing_key"} <= doc.keys():
            doc = {"token_key": secrets.token_urlsafe(32), "signing_key": secrets.token_urlsafe(32), **doc}
            path.write_text(json.dumps(doc, indent=2))
            path.chmod(0o600)
        return doc

    def _set_environment(self, data_api_url: str, moto_endpoint: str, signing_key: str) -> None:
        import sys

        from helpdesk import wiring

        saved = dict(os.environ)
        # The handlers cache collaborators built from the environment (boto3 clients bound to this
        # moto, a DataApi): the stack imports its own copies of functions.*, and stop() puts back
        # whatever copies the process had before (in-process use from tests).
        saved_modules = {k: sys.modules.pop(k) for k in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]}
        wiring.data_api.cache_clear()

        def restore() -> None:  # leave the process as we found it
            os.environ.clear()
            os.environ.update(saved)
            for name in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]:
                del sys.modules[name]
            sys.modules.update(saved_modules)
            wiring.data_api.cache_clear()

        self._on_stop("environment", restore)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": aws.REGION, "AWS_REGION": aws.REGION,
            # Every boto3 client goes to moto, except rds-data which goes to the local Data API.
            "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ENDPOINT_URL_RDS_DATA": data_api_url,
            "DB_CLUSTER_ARN": "arn:aws:rds:us-east-1:123456789012:cluster:helpdesk-local",
            "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:helpdesk-local",
            "DB_NAME": self.db_name,
            "SUPPORT_DOMAIN": os.environ.get("SUPPORT_DOMAIN", "example.com"),
            "HELPDESK_SIGNING_KEY": signing_key,
            "RAW_MAIL_BUCKET": aws.RAW_MAIL_BUCKET, "ATTACHMENTS_BUCKET": aws.ATTACHMENTS_BUCKET,
            "AUDIT_BUCKET": aws.AUDIT_BUCKET, "SES_CONFIGURATION_SET": aws.CONFIGURATION_SET,
            "WEB_BASE_URL": self.url,
            "HELPDESK_CLOCK_OFFSET_FILE": str(self.clock_offset_path),
            "POWERTOOLS_SERVICE_NAME": "helpdesk-local", "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "HelpdeskLocal",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        })
        os.environ.pop("EVENTS_TOPIC_ARN", None)

    def _start_events(self) -> None:
        """The AppSync Events stand-in (local/events.py): the push function publishes to it, pages subscribe."""
        from local.events import Authorizer, EventsStandIn

        self.events = EventsStandIn(Authorizer(self.token_key, lambda event: self.functions.invoke("push_authorizer", event)),
                                    host=self.host).start()
        self._on_stop("events stand-in", self.events.stop)
        os.environ.update({"PUSH_HTTP_ENDPOINT": self.events.http_url, "PUSH_REALTIME_ENDPOINT": self.events.realtime_url})
        log.info("AppSync Events stand-in: %s (publish), %s (subscribe)", self.events.http_url, self.events.realtime_url)

    def _start_slack(self, moto_endpoint: str) -> None:
        """Slack keys in moto Secrets Manager (as in AWS), the Web API stand-in, .local/slack.json."""
        from local import slack

        keys = slack.keys(self.data_dir)
        arn = slack.store_secret(aws.client("secretsmanager", moto_endpoint), keys)
        self.slack_api = slack.SlackApiStandIn(keys["bot_token"], slack.posts_path(self.data_dir), host=self.host)
        base_url = self.slack_api.start()
        self._on_stop("slack stand-in", self.slack_api.stop)
        os.environ.update({"SLACK_SECRET_ARN": arn, "SLACK_API_BASE_URL": base_url})
        path = slack.write_config(self.data_dir, keys, events_url=self.url + slack.EVENTS_PATH,
                                  api_base_url=base_url, secret_arn=arn)
        log.info("Slack: signing secret in %s, Web API stand-in at %s (posts in %s)", path, base_url,
                 slack.posts_path(self.data_dir))

    def write_tokens(self) -> dict[str, str]:
        from local.seed import agents

        issued = {r["email"]: tokens.sign(tokens.agent_claims(r["id"], r["email"], r["role"]), self.token_key)
                  for r in agents(self.db)}
        self.tokens_path.write_text(json.dumps(issued, indent=2) + "\n")
        return issued

    # -- the dev endpoints (local.httpfront.DevApi) ---------------------------------------
    def issue_token(self, email: str) -> str:
        from local.httpfront import Problem

        row = self.db.query_one("SELECT id, email, role, is_active FROM agents WHERE email = :email", {"email": email})
        if row is None:
            known = ", ".join(r["email"] for r in self.db.query("SELECT email FROM agents ORDER BY email LIMIT 20"))
            raise Problem(404, "No such agent", f"{email} is not an agent; known agents: {known}")
        if not row["is_active"]:
            raise Problem(403, "Agent deactivated", f"{email} is deactivated")
        return tokens.sign(tokens.agent_claims(row["id"], row["email"], row["role"]), self.token_key)

    def clock_state(self) -> dict[str, Any]:
        from helpdesk.wiring import FileOffsetClock

        clock = FileOffsetClock(self.clock_offset_path)
        return {"now": clock.now().isoformat(), "offset_seconds": clock.offset().total_seconds()}

    def pause_database(self, seconds: float) -> dict[str, Any]:
        """The local Data API answers DatabaseResumingException for `seconds`, as a cluster waking from 0 ACU."""
        self.data_api_backend.resume_after(seconds)
        log.info("local Data API resuming for %ss", seconds)
        return {"resuming_seconds": seconds}

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        from helpdesk.wiring import FileOffsetClock

        with _CLOCK_LOCK:
            offset = FileOffsetClock(self.clock_offset_path).offset() + timedelta(seconds=seconds)
            tmp = self.clock_offset_path.with_suffix(".tmp")
            tmp.write_text(f"{offset.total_seconds()}\n")
            tmp.replace(self.clock_offset_path)  # atomic: readers never see a half-written file
        state = self.clock_state()
        # Run the sweep at once so warnings, breaches and auto-closes show without waiting 30 s.
        sweep = getattr(self, "sweep", None)
        state["sweep"] = sweep.run_now() if sweep is not None else None
        log.info("dev clock advanced by %ss: now %s", seconds, state["now"])
        return state

    def health(self) -> dict[str, Any]:
        try:
            self.db.query_one("SELECT 1 AS ok")
            database = "ok"
        except Exception as exc:
            database = f"error: {exc}"
        return {
            "status": "starting" if not self.ready.is_set() else "ok" if database == "ok" else "degraded",
            "database": database,
            "functions": {n: self.functions.available(n) for n in FUNCTIONS},
            "queues": {q: {"processed": w.processed, "failed": w.failed, "waiting": w.waiting(),
                           "dead_letters": w.waiting(dead_letters=True)}
                       for q, w in getattr(self, "workers", {}).items()},
            "mail": {"received": getattr(getattr(self, "smtp_handler", None), "received", 0),
                     "delivered_to_maildir": getattr(getattr(self, "maildir", None), "delivered", 0)},
            "slack": {"posted": getattr(getattr(self, "slack_api", None), "posted", 0)},
            "push": {"published": getattr(getattr(self, "events", None), "published", 0),
                     "delivered": getattr(getattr(self, "events", None), "delivered", 0)},
            "sweep_runs": getattr(getattr(self, "sweep", None), "runs", 0),
            "scheduled_runs": {s.function: s.runs for s in getattr(self, "schedules", [])},
            # Events reach SNS (and so notify/outbound) only once helpdesk.events.sns exists.
            "events_topic": os.environ.get("EVENTS_TOPIC_ARN") or None,
            "clock": self.clock_state(),
            "pid": os.getpid(),
        }


_CLOCK_LOCK = threading.Lock()


def _events_publisher_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("helpdesk.events.sns") is not None
    except ImportError:
        return False


def _stop_loops(loops: list[Any]) -> None:
    for loop in loops:
        loop.stop()
    for loop in loops:
        loop.join()


def _parse_lock(text: str) -> dict[str, Any]:
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


class LocalStackProcess:
    """`python -m local` in a child process, for tests: the same arguments as LocalStack.

    The stack sets os.environ for its functions, so tests run it out of their own process.
    start() waits until GET /api/v1/dev/health answers; stop() sends SIGINT (Ctrl-C) and waits."""

    def __init__(self, root: Path = ROOT, http_port: int = 8080, smtp_port: int = 2525,
                 data_dir: Path | None = None, *, sweep_interval: float = SWEEP_INTERVAL_SECONDS,
                 host: str = "127.0.0.1", env: dict[str, str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.host, self.http_port, self.smtp_port = host, http_port, smtp_port
        self.data_dir = Path(data_dir or self.root / ".local").resolve()
        self.sweep_interval = sweep_interval
        self.env = env
        self.process: Any = None
        self.log_path = self.data_dir / "stack.log"
        self.returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def tokens_path(self) -> Path:
        return self.data_dir / "tokens.json"

    @property
    def maildir_path(self) -> Path:
        return self.data_dir / "mail" / "outbox"

    def command(self) -> list[str]:
        import sys

        return [sys.executable, "-m", "local", "--http-port", str(self.http_port), "--smtp-port", str(self.smtp_port),
                "--data-dir", str(self.data_dir), "--sweep-interval", str(self.sweep_interval)]

    def start(self, timeout: float = 90.0) -> "LocalStackProcess":
        import subprocess
        import urllib.request

        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), cwd=self.root, stdout=log_file, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(self.env or {})})
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/dev/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the local stack did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> int | None:
        import signal
        import subprocess

        if self.process is None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        self.process = None
        return self.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

"""LocalStack in this process (on the test PostgreSQL, its own database): the HTTP and SMTP doors
answer, the single-instance lock holds, and stop() leaves the process environment as it was."""
from __future__ import annotations

import json
import os
import smtplib
import socket
import urllib.request
from pathlib import Path

import pytest

from local.stack import AlreadyRunning, LocalStack

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stack_db(pg_server_uri):
    name = f"helpdesk_stack_{os.getpid()}"
    yield name
    import psycopg

    with psycopg.connect(pg_server_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_local_stack_in_process(tmp_path, pg_server_uri, stack_db):
    import sys

    environment = dict(os.environ)
    import functions.migrate.handler as before  # a module other tests may hold

    stack = LocalStack(ROOT, http_port=_free_port(), smtp_port=_free_port(), data_dir=tmp_path / "local",
                       database_url=pg_server_uri, db_name=stack_db, sweep_interval=3600)
    stack.start()
    try:
        with urllib.request.urlopen(stack.url + "/api/v1/dev/health", timeout=10) as answer:
            health = json.load(answer)
        assert health["status"] == "ok" and health["database"] == "ok"
        tokens = json.loads(stack.tokens_path.read_text())
        assert "admin@example.com" in tokens
        with smtplib.SMTP(stack.host, stack.smtp_port, timeout=10) as smtp:
            smtp.sendmail("a@customer.test", ["support@example.com"], b"Subject: hi\r\n\r\nhello")
        assert stack.health()["mail"]["received"] == 1
        with pytest.raises(AlreadyRunning, match="already running"):
            LocalStack(ROOT, http_port=_free_port(), smtp_port=_free_port(), data_dir=tmp_path / "local").start()
        assert os.environ["DB_NAME"] == stack_db
        assert stack.functions.available("migrate")
        assert sys.modules["functions.migrate.handler"] is not before  # the stack has its own copies
    finally:
        stack.stop()
    assert dict(os.environ) == environment
    assert sys.modules["functions.migrate.handler"] is before
    # the lock is free again
    with pytest.raises(AlreadyRunning, match="in use"):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        try:
            LocalStack(ROOT, http_port=blocker.getsockname()[1], smtp_port=_free_port(), data_dir=tmp_path / "local").start()
        finally:
            blocker.close()

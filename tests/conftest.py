"""Shared fixtures: a real PostgreSQL behind the local Data API, reached through boto3's rds-data client.

Each pytest process gets its own database (migrated once), so parallel runs never collide;
every test starts from empty tables.
"""
from __future__ import annotations

import os
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
CLUSTER_ARN = "arn:aws:rds:us-east-1:000000000000:cluster:helpdesk-test"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:helpdesk-test"


@pytest.fixture(scope="session")
def pg_server_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    from local.postgres import server_uri

    return server_uri(ROOT / ".local" / "pgdata-test")


@pytest.fixture(scope="session")
def database_uri(pg_server_uri: str):
    from local.postgres import ensure_database

    name = f"helpdesk_test_{os.getpid()}"
    uri = ensure_database(pg_server_uri, name, recreate=True)
    yield uri
    import psycopg

    with psycopg.connect(pg_server_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def data_api_backend(database_uri: str):
    from local.dataapi import LocalDataApi

    backend = LocalDataApi(database_uri)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def rds_data_client(data_api_backend):
    import boto3

    from local.dataapi import attach

    return attach(boto3.client("rds-data", region_name="us-east-1"), data_api_backend)


class SkippingTime:
    """Monotonic time that sleep() moves forward at once: a client's retries run their whole
    schedule, up to their deadline, without the test waiting for it."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += seconds


def make_data_api(client) -> "DataApi":  # noqa: F821
    from helpdesk.db.client import DataApi

    skipping = SkippingTime()
    return DataApi(client, resource_arn=CLUSTER_ARN, secret_arn=SECRET_ARN, database="helpdesk",
                   sleep=skipping.sleep, monotonic=skipping.monotonic)


@pytest.fixture(scope="session")
def migrated(rds_data_client) -> list[str]:
    from helpdesk.db.migrate import migrate

    return migrate(make_data_api(rds_data_client))


# Tables whose rows the migrations write (the migration ledger, the state machine): never emptied.
MIGRATION_TABLES = ("schema_migrations", "ticket_transitions")
_KEEP = ", ".join(f"'{t}'" for t in MIGRATION_TABLES)
# The tables a test may fill, by name.
DATA_TABLES = f"SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ({_KEEP})"

# Empties every table in one call: DELETE with foreign-key triggers off is much faster than a
# TRUNCATE of ~40 tables (which pays per-table file work) on the tiny tables tests leave behind.
RESET_TABLES = f"""
DO $$
DECLARE t record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR t IN {DATA_TABLES} LOOP
        EXECUTE format('DELETE FROM %I', t.tablename);
    END LOOP;
    ALTER SEQUENCE ticket_number_seq RESTART WITH 1;
END $$
"""


@pytest.fixture
def db(rds_data_client, migrated):
    """A DataApi on empty tables (schema kept). Its `stats` count the calls this test made."""
    api = make_data_api(rds_data_client)
    api.execute(RESET_TABLES)
    api.stats.calls = 0
    api.stats.by_operation.clear()
    return api


@pytest.fixture
def factories(db, clock):
    """Teams, agents and schedules built through the domain's admin services (tests/factories.py)."""
    from tests.factories import Factories

    return Factories(db, clock)


@pytest.fixture
def clock():
    from helpdesk.clock import FixedClock

    # A Monday, 10:00 in New York.
    return FixedClock(datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc))


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA}")
    return CORPORA


# -- dead letters ------------------------------------------------------------------------------
# Nothing accepted may be lost: a message of any queue (inbound mail, outbound, notify) that reaches
# a dead-letter queue during a test fails that test, unless it is marked dead_letters_expected (a
# test of the redrive path itself). moto moves a message to the DLQ by adding the received message
# to it; a new message is added with a receive count of 0, a redriven one never is. The local stack
# in a child process (tests/e2e) is checked by its own fixture through /dev/health.
_dead_letters: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _watch_dead_letters():
    try:
        from moto.sqs.models import Queue
    except ImportError:  # moto is a dev dependency; without it there are no queues to watch
        yield
        return
    original = Queue.add_message

    def add_message(self, message, *args, **kwargs):
        if getattr(message, "approximate_receive_count", 0) > 0:
            _dead_letters.append(f"{self.name}: {str(getattr(message, 'body', ''))[:300]}")
        return original(self, message, *args, **kwargs)

    Queue.add_message = add_message
    yield
    Queue.add_message = original


@pytest.fixture(autouse=True)
def _no_dead_letters(request):
    _dead_letters.clear()
    yield
    if _dead_letters and request.node.get_closest_marker("dead_letters_expected") is None:
        found, _dead_letters[:] = list(_dead_letters), []
        pytest.fail(f"{len(found)} message(s) reached a dead-letter queue: {found}", pytrace=False)


# Every typed statement (helpdesk.db.statement.Statement) a test runs returns exactly the columns its
# row type declares: the types callers read instead of the SQL stay true.
@pytest.fixture(scope="session", autouse=True)
def _statements_return_their_declared_rows():
    from helpdesk.db.client import DataApi
    from helpdesk.db.statement import Statement

    original = DataApi.execute

    def execute(self, sql, params=None, **kwargs):
        result = original(self, sql, params, **kwargs)
        if isinstance(sql, Statement):
            for row in result.rows:
                assert set(row) == sql.declared_columns, (
                    f"a statement returned columns {sorted(row)}; its row type {sql.row.__name__} declares "
                    f"{sorted(sql.declared_columns)}")
        return result

    DataApi.execute = execute
    yield
    DataApi.execute = original

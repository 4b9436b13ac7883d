"""Migrations: checksums, forward-only, atomic per file, safe when several migrators race, re-run a no-op."""
from __future__ import annotations

import hashlib
import itertools
import os
import threading

import boto3
import pytest

from helpdesk import errors
from helpdesk.db.client import DataApi
from helpdesk.db.migrate import Migration, available, migrate
from local.dataapi import LocalDataApi, attach

_counter = itertools.count()


@pytest.fixture
def fresh_api(pg_server_uri):
    """A DataApi on a brand-new, empty database."""
    import psycopg

    from local.postgres import ensure_database

    name = f"helpdesk_mig_{os.getpid()}_{next(_counter)}"
    uri = ensure_database(pg_server_uri, name, recreate=True)
    backend = LocalDataApi(uri)
    client = attach(boto3.client("rds-data", region_name="us-east-1"), backend)
    yield DataApi(client, resource_arn="arn:aws:rds:us-east-1:0:cluster:m", secret_arn="arn:aws:secretsmanager:us-east-1:0:secret:m",
                  database=name, sleep=lambda s: None)
    backend.close()
    with psycopg.connect(pg_server_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tables(api: DataApi) -> set[str]:
    return {r["t"] for r in api.query("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")}


def test_packaged_files_are_numbered_and_unique():
    found = available()
    assert found and found[0].name == "0001_core.sql"
    versions = [m.version for m in found]
    assert versions == sorted(set(versions))


def test_applies_all_with_checksums_then_rerun_is_noop(fresh_api):
    applied = migrate(fresh_api)
    assert applied == [m.name for m in available()]
    rows = fresh_api.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
        (m.version, m.name, hashlib.sha256(m.sql.encode()).hexdigest()) for m in available()]
    assert {"tickets", "ticket_messages", "assignments", "sla_targets", "ticket_audit", "customers", "teams", "agents",
            "outbox", "idempotency_keys", "attachments"} <= tables(fresh_api)
    fresh_api.stats.calls = 0
    assert migrate(fresh_api) == []
    assert fresh_api.stats.calls == 2  # ensure the bookkeeping table, read the checksums


def test_changed_applied_file_is_refused(fresh_api):
    first = Migration(1, "0001_a.sql", "CREATE TABLE a (x int);")
    assert migrate(fresh_api, [first]) == ["0001_a.sql"]
    changed = Migration(1, "0001_a.sql", "CREATE TABLE a (x int, y int);")
    later = Migration(2, "0002_b.sql", "CREATE TABLE b (x int);")
    with pytest.raises(errors.DatabaseError) as info:
        migrate(fresh_api, [changed, later])
    assert "0001_a.sql" in info.value.detail and "forward-only" in info.value.detail
    assert "b" not in tables(fresh_api)  # nothing after the refusal ran
    assert migrate(fresh_api, [first, later]) == ["0002_b.sql"]  # adding a new file is the way forward


def test_each_file_is_atomic(fresh_api):
    broken = Migration(1, "0001_broken.sql", "CREATE TABLE c (x int);\nINSERT INTO c VALUES (1);\nINSERT INTO c VALUES ('nope');")
    with pytest.raises(errors.DatabaseError):
        migrate(fresh_api, [broken])
    assert "c" not in tables(fresh_api)
    assert fresh_api.query("SELECT * FROM schema_migrations") == []
    fixed = Migration(1, "0001_broken.sql", "CREATE TABLE c (x int);\nINSERT INTO c VALUES (1);")
    assert migrate(fresh_api, [fixed]) == ["0001_broken.sql"]
    assert fresh_api.query("SELECT x FROM c") == [{"x": 1}]


def test_dollar_quoted_bodies_and_comments_split_correctly(fresh_api):
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE d (x int);
    CREATE FUNCTION d_double() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN NEW.x := NEW.x * 2; RETURN NEW; END $$;
    CREATE TRIGGER d_t BEFORE INSERT ON d FOR EACH ROW EXECUTE FUNCTION d_double();
    INSERT INTO d VALUES (21); /* done; */
    """
    assert migrate(fresh_api, [Migration(1, "0001_d.sql", sql)]) == ["0001_d.sql"]
    assert fresh_api.query("SELECT x FROM d") == [{"x": 42}]


def test_concurrent_migrators_apply_each_file_once(fresh_api):
    results: list[list[str]] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        try:
            barrier.wait()
            results.append(migrate(fresh_api))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    names = [name for r in results for name in r]
    assert sorted(names) == sorted(m.name for m in available())  # each applied by exactly one migrator
    assert fresh_api.query_one("SELECT count(*) AS c FROM schema_migrations")["c"] == len(available())


def test_session_schema_has_the_design_indexes(db):
    indexes = {r["i"] for r in db.query("SELECT indexname AS i FROM pg_indexes WHERE schemaname = 'public'")}
    assert {"tickets_assignee_open", "tickets_team_queue", "ticket_messages_inbound_message_id_key",
            "sla_targets_warn_due", "sla_targets_breach_due", "outbox_pending"} <= indexes


def test_1255_takes_back_the_resolution_of_tickets_reopened_before_it(fresh_api):
    """Before 1255 a customer's message reopening a closed ticket left its resolved_at: the migration
    clears what such tickets kept, then holds every statement to it."""
    before = [m for m in available() if m.version < 1255]
    migrate(fresh_api, before)
    fresh_api.execute("INSERT INTO customers (email) VALUES ('kim@example.com')")
    fresh_api.execute("""
        INSERT INTO tickets (id, subject, channel, requester_id, status, resolved_at, closed_at, created_at, updated_at)
        SELECT gen_random_uuid(), s.subject, 'email', c.id, s.status, s.resolved_at::timestamptz, s.closed_at::timestamptz, now(), now()
        FROM customers c, (VALUES ('reopened by mail', 'in_progress', '2026-03-02T15:00:00Z', NULL),
                                  ('still closed', 'closed', '2026-03-02T15:00:00Z', '2026-03-05T15:00:00Z'),
                                  ('still resolved', 'resolved', '2026-03-02T15:00:00Z', NULL),
                                  ('reopened, not yet worked', 'reopened', '2026-03-02T15:00:00Z', '2026-03-05T15:00:00Z'))
             s(subject, status, resolved_at, closed_at)""")
    assert migrate(fresh_api) == [m.name for m in available() if m.version >= 1255]
    rows = fresh_api.query("SELECT subject, resolved_at IS NOT NULL AS resolved, closed_at IS NOT NULL AS closed "
                           "FROM tickets ORDER BY subject")
    assert rows == [{"subject": "reopened by mail", "resolved": False, "closed": False},
                    {"subject": "reopened, not yet worked", "resolved": False, "closed": False},
                    {"subject": "still closed", "resolved": True, "closed": True},
                    {"subject": "still resolved", "resolved": True, "closed": False}]

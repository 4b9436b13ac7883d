"""The local Data API enforces what Aurora's Data API enforces, through the real boto3 client.

Each test module gets its own database (so these scratch tables never meet the schema tests).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time as clock_time
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from helpdesk import errors
from helpdesk.db.client import DataApi
from local.dataapi import MAX_RESPONSE_BYTES, MAX_ROW_BYTES, LocalDataApi, attach, serve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ARN = "arn:aws:rds:us-east-1:000000000000:cluster:local"
SECRET = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def scratch_uri(pg_server_uri):
    import psycopg

    from local.postgres import ensure_database

    name = f"helpdesk_localapi_{os.getpid()}"
    uri = ensure_database(pg_server_uri, name, recreate=True)
    yield uri
    with psycopg.connect(pg_server_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def fake_clock():
    return FakeMonotonic()


@pytest.fixture(scope="module")
def backend(scratch_uri, fake_clock):
    b = LocalDataApi(scratch_uri, monotonic=fake_clock)
    yield b
    b.close()


@pytest.fixture(scope="module")
def client(backend):
    return attach(boto3.client("rds-data", region_name="us-east-1"), backend)


@pytest.fixture
def api(client, backend, fake_clock):
    backend.resume_after(0)
    a = resume_client(client, fake_clock, [])
    a.execute("CREATE TABLE IF NOT EXISTS items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner text NOT NULL, "
              "n integer NOT NULL CHECK (n >= 0), UNIQUE (owner, n))")
    a.execute("TRUNCATE items CASCADE")
    a.stats.calls = 0
    a.stats.by_operation.clear()
    return a


def raw(client, sql, parameters=None, **kw):
    return client.execute_statement(resourceArn=ARN, secretArn=SECRET, database="scratch", sql=sql,
                                    parameters=parameters or [], **kw)


# -- types round trip --------------------------------------------------------------------
def test_every_type_hint_round_trips(api):
    u = uuid.uuid4()
    at = datetime(2026, 3, 2, 15, 4, 5, 123456, tzinfo=timezone.utc)
    row = api.query_one(
        "SELECT :u::uuid AS u, :at::timestamptz AS at, :d::date AS d, :t::time AS t, :n::numeric AS n, "
        ":j::jsonb AS j, :b::bytea AS b, :s AS s, :i::int8 AS i, :f::float8 AS f, :flag::boolean AS flag, "
        ":nothing::text AS nothing, pg_typeof(:u::uuid)::text AS ut, pg_typeof(:n)::text AS nt",
        {"u": u, "at": at, "d": date(2026, 12, 25), "t": time(9, 30, 15), "n": Decimal("1234567890.0123456789"),
         "j": {"k": ["v", 1, None, True]}, "b": b"\x00\x01\xfe\xff", "s": "plain", "i": 2**40, "f": 0.25,
         "flag": True, "nothing": None})
    assert row == {"u": str(u), "at": at, "d": date(2026, 12, 25), "t": time(9, 30, 15),
                   "n": Decimal("1234567890.0123456789"), "j": {"k": ["v", 1, None, True]}, "b": b"\x00\x01\xfe\xff",
                   "s": "plain", "i": 2**40, "f": 0.25, "flag": True, "nothing": None, "ut": "uuid", "nt": "numeric"}


def test_timestamp_hint_is_utc_instant(api):
    from datetime import timedelta
    local = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    row = api.query_one("SELECT :at::timestamptz = '2026-03-02 15:00:00+00'::timestamptz AS same", {"at": local})
    assert row["same"] is True


def test_arrays_are_decoded(api):
    row = api.query_one("SELECT ARRAY[1,2,3]::int8[] AS ints, ARRAY['a', NULL]::text[] AS texts, "
                        "ARRAY[true,false] AS bools, ARRAY[0.5]::float8[] AS floats")
    assert row == {"ints": [1, 2, 3], "texts": ["a", None], "bools": [True, False], "floats": [0.5]}


def test_json_list_instead_of_array(api):
    rows = api.query("SELECT x FROM jsonb_array_elements_text(:ids::jsonb) AS x ORDER BY x", {"ids": ["b", "a"]})
    assert [r["x"] for r in rows] == ["a", "b"]


def test_strings_are_varchar_so_missing_casts_fail_here_too(api):
    with pytest.raises(errors.DatabaseError) as info:
        api.execute("SELECT 1 WHERE gen_random_uuid() = :id", {"id": str(uuid.uuid4())})
    assert info.value.sqlstate == "42883"  # operator does not exist: uuid = character varying


def test_parameters_are_typed_as_the_service_types_them(client):
    params = [{"name": "l", "value": {"longValue": 3}}, {"name": "s", "value": {"stringValue": "x"}},
              {"name": "d", "value": {"doubleValue": 0.5}}, {"name": "b", "value": {"booleanValue": True}},
              {"name": "blob", "value": {"blobValue": b"\x00"}}]
    record = raw(client, "SELECT pg_typeof(:l)::text, pg_typeof(:s)::text, pg_typeof(:d)::text, pg_typeof(:b)::text, "
                         "pg_typeof(:blob)::text", params)["records"][0]
    assert [f["stringValue"] for f in record] == ["bigint", "character varying", "double precision", "boolean", "bytea"]


def test_a_small_integer_is_still_a_bigint(client):
    # Bound as the smallest type that fits, left(text, :n) would work here and fail on Aurora.
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT left('abcdef', :n)", [{"name": "n", "value": {"longValue": 3}}])
    assert "function left(unknown, bigint) does not exist" in info.value.response["Error"]["Message"]
    assert raw(client, "SELECT left('abcdef', :n::int) AS s",
               [{"name": "n", "value": {"longValue": 3}}])["records"] == [[{"stringValue": "abc"}]]


def test_a_null_has_no_type_of_its_own(client):
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT :x IS NULL", [{"name": "x", "value": {"isNull": True}}])
    assert "could not determine data type of parameter $1" in info.value.response["Error"]["Message"]
    assert raw(client, "SELECT :x::text IS NULL", [{"name": "x", "value": {"isNull": True}}])["records"] == [[{"booleanValue": True}]]


def test_every_statement_is_prepared_from_its_first_call(api):
    marker = f"first_call_{uuid.uuid4().hex}"
    api.query(f"SELECT 1 AS {marker}")
    prepared = api.query_one("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE :m", {"m": f"%{marker}%"})
    assert prepared["n"] == 1


def test_result_types_the_service_does_not_return_are_refused(client):
    for sql, type_name in (("SELECT pg_sleep(0)", "void"), ("SELECT interval '1 day'", "interval"),
                           ("SELECT 'int4'::regtype", "regtype"), ("SELECT to_tsvector('simple', 'a')", "tsvector")):
        with pytest.raises(ClientError) as info:
            raw(client, sql)
        assert info.value.response["Error"]["Code"] == "UnsupportedResultException"
        assert info.value.response["Error"]["Message"] == f"The result contains the unsupported data type {type_name}"
    assert raw(client, "SELECT true AS locked FROM pg_advisory_xact_lock(:k)",
               [{"name": "k", "value": {"longValue": 1}}])["records"] == [[{"booleanValue": True}]]


def test_error_messages_have_the_service_shape(client, api):
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT no_such_column FROM items")
    assert info.value.response["Error"]["Message"] == 'ERROR: column "no_such_column" does not exist\n  Position: 8; SQLState: 42703'
    api.execute("INSERT INTO items (owner, n) VALUES ('dup', 1)")
    with pytest.raises(ClientError) as info:
        raw(client, "INSERT INTO items (owner, n) VALUES ('dup', 1)")
    assert info.value.response["Error"]["Message"] == (
        'ERROR: duplicate key value violates unique constraint "items_owner_n_key"\n'
        "  Detail: Key (owner, n)=(dup, 1) already exists.; SQLState: 23505")


def test_statements_are_cut_at_the_time_limit(scratch_uri):
    backend = LocalDataApi(scratch_uri, statement_timeout=0.3)
    quick = attach(boto3.client("rds-data", region_name="us-east-1"), backend)
    try:
        with pytest.raises(ClientError) as info:
            raw(quick, "SELECT 1 AS one FROM pg_sleep(2)")
        assert info.value.response["Error"]["Code"] == "StatementTimeoutException"
        assert info.value.response["Error"]["Message"] == "Request timed out"
        raw(quick, "CREATE TABLE IF NOT EXISTS late_rows (v text)")
        with pytest.raises(ClientError) as info:  # continueAfterTimeout: the caller still hears the timeout...
            raw(quick, "INSERT INTO late_rows SELECT 'done' FROM pg_sleep(0.8)", continueAfterTimeout=True)
        assert info.value.response["Error"]["Code"] == "StatementTimeoutException"
        assert raw(quick, "SELECT count(*) AS c FROM late_rows")["records"] == [[{"longValue": 0}]]
        deadline = clock_time.monotonic() + 5
        while raw(quick, "SELECT count(*) AS c FROM late_rows")["records"] != [[{"longValue": 1}]]:
            assert clock_time.monotonic() < deadline, "...but the statement ran on and committed"
            clock_time.sleep(0.1)
    finally:
        backend.close()


def test_prepared_select_star_survives_ddl_from_another_connection(api, scratch_uri):
    import psycopg

    api.execute("CREATE TABLE IF NOT EXISTS widened (a int)")
    api.execute("INSERT INTO widened VALUES (1)")
    for _ in range(8):
        assert api.query("SELECT * FROM widened") == [{"a": 1}]
    with psycopg.connect(scratch_uri, autocommit=True) as other:
        other.execute("ALTER TABLE widened ADD COLUMN b text DEFAULT 'x'")
    try:
        assert api.query("SELECT * FROM widened") == [{"a": 1, "b": "x"}]
    finally:
        api.execute("DROP TABLE widened")


# -- Aurora's rules ----------------------------------------------------------------------
def test_array_parameters_rejected(client):
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT :a", [{"name": "a", "value": {"arrayValue": {"longValues": [1, 2]}}}])
    assert info.value.response["Error"]["Code"] == "BadRequestException"
    assert "Array parameters are not supported" in info.value.response["Error"]["Message"]


def test_multiple_statements_rejected(api):
    with pytest.raises(errors.DatabaseError, match="Multistatement"):
        api.execute("INSERT INTO items (owner, n) VALUES ('x', 1); INSERT INTO items (owner, n) VALUES ('x', 2)")
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 0
    # A semicolon inside a literal, or a trailing one, is still one statement.
    assert api.query_one("SELECT ';' AS s;")["s"] == ";"


def test_missing_parameter_rejected(api):
    with pytest.raises(errors.DatabaseError, match="No value specified for parameter: b"):
        api.execute("SELECT :a::int, :b::int", {"a": 1})


def test_row_limit_64k(api):
    assert len(api.query_one("SELECT repeat('x', :n::int) AS s", {"n": MAX_ROW_BYTES - 100})["s"]) == MAX_ROW_BYTES - 100
    with pytest.raises(errors.DatabaseError, match="row larger than"):
        api.query("SELECT repeat('x', :n::int) AS s", {"n": MAX_ROW_BYTES + 1})


def test_row_limit_counts_utf8_bytes_not_escapes(api):
    # 8,000 emoji are 32 KB of UTF-8: under the row limit even though JSON \\u escapes would be 96 KB.
    assert len(api.query_one("SELECT repeat(:e, 8000) AS s", {"e": "\U0001F600"})["s"]) == 8000
    with pytest.raises(errors.DatabaseError, match="row larger than"):
        api.query("SELECT repeat(:e, 17000) AS s", {"e": "\U0001F600"})  # 68 KB


def test_response_limit_1mib(api):
    per_row = 60_000
    ok_rows = MAX_RESPONSE_BYTES // (per_row + 100) - 1
    assert len(api.query("SELECT repeat('x', :n::int) AS s FROM generate_series(1, :k)", {"n": per_row, "k": ok_rows})) == ok_rows
    with pytest.raises(errors.DatabaseError, match="1 MiB"):
        api.query("SELECT repeat('x', :n::int) AS s FROM generate_series(1, :k)", {"n": per_row, "k": ok_rows + 3})


# -- SQLSTATE mapping on real errors -------------------------------------------------------
def test_real_sqlstates_map_to_domain_errors(api):
    api.execute("INSERT INTO items (owner, n) VALUES ('a', 1)")
    with pytest.raises(errors.UniqueViolation) as info:
        api.execute("INSERT INTO items (owner, n) VALUES ('a', 1)")
    assert info.value.extra["constraint"] == "items_owner_n_key" and info.value.sqlstate == "23505"
    with pytest.raises(errors.CheckViolation) as info:
        api.execute("INSERT INTO items (owner, n) VALUES ('a', -1)")
    assert info.value.extra["constraint"] == "items_n_check"
    api.execute("CREATE TABLE IF NOT EXISTS item_refs (item_id bigint REFERENCES items(id))")
    with pytest.raises(errors.ForeignKeyViolation):
        api.execute("INSERT INTO item_refs VALUES (-5)")
    with pytest.raises(errors.SerializationFailure):
        api.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'could not serialize'; END $$")
    with pytest.raises(errors.DatabaseError) as info:
        api.execute("SELECT 1/0")
    assert info.value.sqlstate == "22012" and "division by zero" in info.value.detail


# -- retries -------------------------------------------------------------------------------
class InvocationContext:
    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


def resume_client(client, fake_clock, sleeps):
    """A client on the backend's own fake time: each backoff sleep moves the cluster's clock too."""

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_clock.now += seconds

    return DataApi(client, resource_arn=ARN, secret_arn=SECRET, database="scratch", sleep=sleep, monotonic=fake_clock)


def test_a_paused_cluster_answers_resuming_for_its_span_of_seconds(client, backend, fake_clock):
    backend.resume_after(15)
    try:
        for _ in range(3):  # a span of time, not a number of calls
            with pytest.raises(ClientError) as info:
                raw(client, "SELECT 1 AS one")
            assert info.value.response["Error"]["Code"] == "DatabaseResumingException"
            assert "Wait a few seconds and try again" in info.value.response["Error"]["Message"]
        fake_clock.now += 15
        assert raw(client, "SELECT 1 AS one")["records"] == [[{"longValue": 1}]]
    finally:
        backend.resume_after(0)


def test_the_api_rides_out_a_15_second_resume(client, backend, fake_clock):
    from helpdesk.db.client import API_GATEWAY_SECONDS

    sleeps: list[float] = []
    api = resume_client(client, fake_clock, sleeps)
    api.bind_invocation(InvocationContext(29.0), at_most=API_GATEWAY_SECONDS)
    started = fake_clock.now
    backend.resume_after(15)
    try:
        assert api.query_one("SELECT 1 AS one") == {"one": 1}
    finally:
        backend.resume_after(0)
    waited = fake_clock.now - started
    assert 15 <= waited <= 17  # answered within ~2 s (the capped backoff) of the cluster waking
    assert max(sleeps) <= 2.0
    for attempt, delay in enumerate(sleeps[:4], start=1):
        nominal = 0.1 * 2 ** (attempt - 1)
        assert nominal / 2 <= delay <= nominal  # exponential with jitter


def test_a_resume_longer_than_the_invocation_allows_gives_up_in_time(client, backend, fake_clock):
    from helpdesk.db.client import ANSWER_MARGIN_SECONDS, API_GATEWAY_SECONDS, READ_TIMEOUT_SECONDS

    api = resume_client(client, fake_clock, [])
    api.bind_invocation(InvocationContext(60.0), at_most=API_GATEWAY_SECONDS)
    started = fake_clock.now
    backend.resume_after(120)
    try:
        with pytest.raises(errors.DatabaseUnavailable, match="DatabaseResumingException"):
            api.query("SELECT 1")
    finally:
        backend.resume_after(0)
    # The last attempt may still hang for a read timeout: the whole must fit in API Gateway's 29 s.
    window = API_GATEWAY_SECONDS - READ_TIMEOUT_SECONDS - ANSWER_MARGIN_SECONDS
    assert window - 2.0 <= fake_clock.now - started <= window
    assert window >= 15  # a cluster waking from 0 ACU fits


def test_a_long_invocation_waits_longer(client, backend, fake_clock):
    api = resume_client(client, fake_clock, [])
    api.bind_invocation(InvocationContext(55.0))  # the sweep's timeout, no API Gateway in front
    backend.resume_after(40)
    try:
        assert api.query_one("SELECT 1 AS one") == {"one": 1}
    finally:
        backend.resume_after(0)


def test_sql_errors_are_not_retried(api):
    with pytest.raises(errors.DatabaseError):
        api.execute("SELECT * FROM no_such_table")
    assert api.stats.calls == 1


# -- transactions --------------------------------------------------------------------------
def test_transaction_commit_and_isolation(api):
    with api.transaction() as tx:
        tx.execute("INSERT INTO items (owner, n) VALUES ('tx', 1)")
        # Uncommitted: invisible to calls outside the transaction.
        assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 0
        assert tx.query("SELECT count(*) AS c FROM items")[0]["c"] == 1
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 1
    assert api.stats.by_operation["begin_transaction"] == 1 and api.stats.by_operation["commit_transaction"] == 1


def test_transaction_rollback_on_error(api):
    with pytest.raises(errors.UniqueViolation):
        with api.transaction() as tx:
            tx.execute("INSERT INTO items (owner, n) VALUES ('rb', 1)")
            tx.execute("INSERT INTO items (owner, n) VALUES ('rb', 1)")
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 0
    assert api.stats.by_operation["rollback_transaction"] == 1


def test_one_connection_per_transaction(api):
    with api.transaction() as a, api.transaction() as b:
        pid_a = {a.query("SELECT pg_backend_pid() AS p")[0]["p"] for _ in range(3)}
        pid_b = {b.query("SELECT pg_backend_pid() AS p")[0]["p"] for _ in range(3)}
        assert len(pid_a) == 1 and len(pid_b) == 1 and pid_a != pid_b
        a.execute("SET LOCAL application_name = 'tx_a'")
        assert a.query("SELECT current_setting('application_name') AS n")[0]["n"] == "tx_a"
        assert b.query("SELECT current_setting('application_name') AS n")[0]["n"] != "tx_a"


def test_unknown_transaction(client):
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT 1", transactionId="bm90LWEtdHJhbnNhY3Rpb24=")
    assert info.value.response["Error"]["Code"] == "TransactionNotFoundException"


def test_transaction_expires_after_three_idle_minutes(client, api, fake_clock):
    begin = client.begin_transaction(resourceArn=ARN, secretArn=SECRET, database="scratch")
    tid = begin["transactionId"]
    raw(client, "INSERT INTO items (owner, n) VALUES ('idle', 1)", transactionId=tid)
    fake_clock.now += 179  # just under: still alive, and this use resets the idle timer
    raw(client, "INSERT INTO items (owner, n) VALUES ('idle', 2)", transactionId=tid)
    fake_clock.now += 179
    assert raw(client, "SELECT count(*) FROM items", transactionId=tid)["records"][0][0]["longValue"] == 2
    fake_clock.now += 181
    with pytest.raises(ClientError) as info:
        raw(client, "SELECT 1", transactionId=tid)
    assert info.value.response["Error"]["Code"] == "TransactionNotFoundException"
    with pytest.raises(ClientError):
        client.commit_transaction(resourceArn=ARN, secretArn=SECRET, transactionId=tid)
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 0  # rolled back


def test_rollback_and_commit_answers(client, api):
    tid = client.begin_transaction(resourceArn=ARN, secretArn=SECRET, database="scratch")["transactionId"]
    raw(client, "INSERT INTO items (owner, n) VALUES ('r', 1)", transactionId=tid)
    assert client.rollback_transaction(resourceArn=ARN, secretArn=SECRET, transactionId=tid)["transactionStatus"] == "Rollback Complete"
    tid = client.begin_transaction(resourceArn=ARN, secretArn=SECRET, database="scratch")["transactionId"]
    raw(client, "INSERT INTO items (owner, n) VALUES ('c', 1)", transactionId=tid)
    assert client.commit_transaction(resourceArn=ARN, secretArn=SECRET, transactionId=tid)["transactionStatus"] == "Transaction Committed"
    assert [r["owner"] for r in api.query("SELECT owner FROM items")] == ["c"]


def test_batch_execute(api):
    assert api.batch_execute("INSERT INTO items (owner, n) VALUES (:o, :n)", [{"o": "b", "n": i} for i in range(5)]) == 5
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 5
    with pytest.raises(errors.UniqueViolation):  # a batch is atomic
        api.batch_execute("INSERT INTO items (owner, n) VALUES (:o, :n)", [{"o": "c", "n": 1}, {"o": "b", "n": 1}])
    assert api.query_one("SELECT count(*) AS c FROM items WHERE owner = 'c'")["c"] == 0


# -- concurrency ---------------------------------------------------------------------------
def test_concurrent_threads(api):
    errors_seen: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(10):
                api.execute("INSERT INTO items (owner, n) VALUES (:o, :n)", {"o": f"t{k}", "n": i})
            with api.transaction() as tx:
                tx.execute("INSERT INTO items (owner, n) VALUES (:o, 100)", {"o": f"t{k}"})
        except BaseException as exc:  # noqa: BLE001
            errors_seen.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors_seen
    assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 12 * 11


CHILD = textwrap.dedent("""
    import sys, boto3
    from helpdesk.db.client import DataApi
    url, owner = sys.argv[1], sys.argv[2]
    client = boto3.client("rds-data", region_name="us-east-1", endpoint_url=url)
    api = DataApi(client, resource_arn="{arn}", secret_arn="{secret}", database="scratch")
    for i in range(25):
        api.execute("INSERT INTO items (owner, n) VALUES (:o, :n)", {{"o": owner, "n": i}})
    with api.transaction() as tx:
        tx.execute("INSERT INTO items (owner, n) VALUES (:o, 1000)", {{"o": owner}})
    try:
        api.execute("INSERT INTO items (owner, n) VALUES (:o, 0)", {{"o": owner}})
    except Exception as exc:
        print(type(exc).__name__)
    print(api.query_one("SELECT count(*) AS c FROM items WHERE owner = :o", {{"o": owner}})["c"])
""").format(arn=ARN, secret=SECRET)


def test_other_processes_through_http_endpoint(api, backend):
    server = serve(backend)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, f"p{k}"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for k in range(2)]
        for i in range(25):  # this process writes at the same time, in-process
            api.execute("INSERT INTO items (owner, n) VALUES ('here', :n)", {"n": i})
        outs = [p.communicate(timeout=60) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err
            assert out.split() == ["UniqueViolation", "26"]
        assert api.query_one("SELECT count(*) AS c FROM items")["c"] == 25 + 2 * 26
    finally:
        server.shutdown()
        server.server_close()

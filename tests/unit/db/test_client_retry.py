"""Which failures the client retries, until when, and which it turns into a 503 at once.

A write that may already have run (an internal error, a dropped answer) is never sent twice unless
the caller declares it idempotent; a failure that happened before the statement ran is always retried."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from helpdesk import errors
from helpdesk.db.client import DataApi, reads_only

OK = {"records": [[{"longValue": 1}]], "columnMetadata": [{"name": "one", "typeName": "int4"}]}


def service_error(code: str, message: str = "x") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "ExecuteStatement")


class Flaky:
    """An rds-data client whose first calls fail with the given errors, then answer."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def execute_statement(self, **request):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return OK

    def begin_transaction(self, **request):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"transactionId": "tx"}

    commit_transaction = rollback_transaction = begin_transaction


class Time:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def data_api(client: Flaky, time: Time | None = None) -> DataApi:
    time = time or Time()
    return DataApi(client, resource_arn="arn", secret_arn="secret", database="db", sleep=time.sleep, monotonic=time.monotonic)


AMBIGUOUS = [service_error("InternalServerErrorException"), service_error("ServiceUnavailableError"),
             service_error("DatabaseUnavailableException"), ReadTimeoutError(endpoint_url="https://rds-data")]


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=["internal", "unavailable", "writer-down", "read-timeout"])
def test_a_write_that_may_have_run_is_not_sent_twice(failure):
    client = Flaky(failure)
    with pytest.raises(errors.OutcomeUnknown, match="may or may not have run"):
        data_api(client).execute("INSERT INTO t (v) VALUES (:v) RETURNING 1 AS one", {"v": 1})
    assert client.calls == 1


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=["internal", "unavailable", "writer-down", "read-timeout"])
def test_a_read_or_an_idempotent_write_is_retried_after_the_same_failure(failure):
    client = Flaky(failure)
    assert data_api(client).query_one("SELECT 1 AS one") == {"one": 1}
    client = Flaky(failure)
    assert data_api(client).execute("INSERT INTO t (k) VALUES (:k) ON CONFLICT (k) DO NOTHING RETURNING 1 AS one",
                                    {"k": "request-id"}, idempotent=True).one() == {"one": 1}
    assert client.calls == 2


def test_a_statement_inside_a_transaction_is_not_repeated():
    client = Flaky(service_error("InternalServerErrorException"))
    api = data_api(client)
    with pytest.raises(errors.DatabaseUnavailable):
        api.execute("SELECT 1 AS one", transaction_id="tx")
    assert client.calls == 1


def test_a_commit_that_may_have_happened_is_not_repeated():
    client = Flaky()
    api = data_api(client)
    with pytest.raises(errors.OutcomeUnknown):
        with api.transaction():
            client.failures.append(service_error("InternalServerErrorException"))  # the commit's answer is lost
    assert client.calls == 2  # begin, commit: no second commit


@pytest.mark.parametrize("failure", [service_error("DatabaseResumingException"), service_error("ThrottlingException"),
                                     EndpointConnectionError(endpoint_url="https://rds-data")],
                         ids=["resuming", "throttled", "unreachable"])
def test_a_failure_before_the_statement_ran_is_retried_even_for_a_write(failure):
    client = Flaky(failure, failure)
    assert data_api(client).execute("INSERT INTO t (v) VALUES (1) RETURNING 1 AS one").one() == {"one": 1}
    assert client.calls == 3


def test_the_service_time_limit_is_a_503_not_a_retry():
    client = Flaky(service_error("StatementTimeoutException", "Request timed out"))
    with pytest.raises(errors.DatabaseUnavailable, match="Request timed out"):
        data_api(client).query("SELECT 1 AS one")
    assert client.calls == 1


def test_without_an_invocation_the_window_is_the_default():
    from helpdesk.db.client import DEFAULT_RETRY_SECONDS

    time = Time()
    client = Flaky(*[service_error("DatabaseResumingException")] * 1000)
    with pytest.raises(errors.DatabaseUnavailable, match="DatabaseResumingException"):
        data_api(client, time).query("SELECT 1 AS one")
    assert DEFAULT_RETRY_SECONDS - 2.0 <= time.now <= DEFAULT_RETRY_SECONDS


def test_an_invocation_with_little_time_left_does_not_retry_past_it():
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 12_000

    time = Time()
    client = Flaky(*[service_error("DatabaseResumingException")] * 1000)
    api = data_api(client, time)
    api.bind_invocation(Context())
    with pytest.raises(errors.DatabaseUnavailable):
        api.query("SELECT 1 AS one")
    assert time.now <= 12 - 10 - 1  # the last attempt may hang for a read timeout (10 s); 1 s to answer


@pytest.mark.parametrize("sql, reads", [
    ("SELECT * FROM tickets WHERE id = :id::uuid", True),
    ("WITH t AS (SELECT 1) SELECT * FROM t", True),
    ("SELECT 'insert into x' AS text_not_code, created_at, updated_at FROM t", True),
    ("WITH moved AS (UPDATE tickets SET status = 'open' RETURNING id) SELECT id FROM moved", False),
    ("INSERT INTO t VALUES (1)", False),
    ("DELETE FROM t", False),
    ("SELECT id FROM t FOR UPDATE SKIP LOCKED", False),
    ("SELECT ticket_search_docs_rebuild()", False),
    ("SELECT nextval('s')", False),
])
def test_reads_only_is_read_from_the_code_not_the_literals(sql, reads):
    assert reads_only(sql) is reads

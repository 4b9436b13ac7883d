"""A small client over the AWS SDK's `rds-data`: typed parameters, decoded rows, domain errors, retries.

Every database call in the project goes through `DataApi`. Parameters are plain Python
values; the client picks the Data API field and typeHint:

    None -> isNull            bool -> booleanValue       int -> longValue
    float -> doubleValue      str -> stringValue         bytes -> blobValue
    UUID -> UUID              datetime (aware) -> TIMESTAMP (UTC)
    date -> DATE              time -> TIME               Decimal -> DECIMAL
    dict / list / Json(...) -> JSON (use `jsonb_array_elements_text` instead of arrays)

Rows come back as dicts keyed by column name, with timestamps as aware UTC datetimes,
json/jsonb parsed, numeric as Decimal, date as date, time as time, bytea as bytes and
arrays as (nested) lists; uuid and other types stay strings.
"""
from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time as dtime, timezone
from decimal import Decimal
from typing import Any, Callable

from helpdesk import errors

Row = dict[str, Any]

_SQLSTATE = re.compile(r"SQLState:\s*([0-9A-Z]{5})")
# Refused before the statement ran (a paused cluster waking up, throttling): always safe to retry.
_NOT_RUN_CODES = {"DatabaseResumingException", "ThrottlingException", "TooManyRequestsException"}
# The statement may have run, even committed, before the failure: retried only where running it twice
# is harmless (reads, statements the caller declares idempotent, begin/rollback); otherwise a 503.
_AMBIGUOUS_CODES = {"InternalServerErrorException", "ServiceUnavailableError", "DatabaseUnavailableException"}
# The service's 45 s limit: the statement was cancelled; running it again would only time out again.
_TIMEOUT_CODES = {"StatementTimeoutException"}
# What a statement's code (outside literals and comments) names when it may write.
_WRITES = re.compile(r"\b(insert|update|delete|merge|truncate|create|alter|drop|grant|revoke|do|call|copy|lock|"
                     r"nextval|setval|pg_advisory_lock|pg_advisory_xact_lock|[a-z_]*rebuild[a-z_]*|[a-z_]*append[a-z_]*|"
                     # the functions the ticket statements write through (migrations 1110, 1170)
                     r"write_ticket_events|apply_sla_transition|record_assignments|routing_backfill)\b",
                     re.IGNORECASE)
# API Gateway answers 504 after 29 s whatever the function does.
API_GATEWAY_SECONDS = 29.0
# Without an invocation deadline (scripts, the local stack's own calls): how long to keep retrying.
DEFAULT_RETRY_SECONDS = 18.0
# Kept free at the end of an invocation to shape the answer (a 503 problem, a batch failure report).
ANSWER_MARGIN_SECONDS = 1.0
# botocore's socket timeouts for rds-data. A Data API call answers when its statement ends, so the
# read timeout is the longest statement a function waits for; DB_READ_TIMEOUT_SECONDS overrides it
# (the migrate function may want up to the service's own 45 s limit).
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
_SQLSTATE_ERRORS: dict[str, type[errors.DatabaseError]] = {
    "23505": errors.UniqueViolation,
    "23514": errors.CheckViolation,
    "23503": errors.ForeignKeyViolation,
    "40001": errors.SerializationFailure,
    "40P01": errors.SerializationFailure,
}


@dataclass(frozen=True)
class Json:
    """Wrap a value to send it as JSON explicitly (e.g. a JSON string or number)."""

    value: Any


@dataclass
class Result:
    rows: list[Row]
    updated: int = 0

    def one(self) -> Row:
        if len(self.rows) != 1:
            raise errors.DatabaseError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None


@dataclass
class CallStats:
    """Counts Data API round trips (each is 10-100 ms on AWS, so this decides latency)."""

    calls: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    def record(self, operation: str) -> None:
        self.calls += 1
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1


class DataApi:
    """Retries transient failures with jittered exponential backoff until a deadline: the Lambda
    invocation's end (`bind_invocation`), less one read timeout and a margin to answer, so a paused
    cluster's ~15 s resume is ridden out and a failure still becomes an answer, not a function timeout."""

    def __init__(
        self,
        client: Any,
        *,
        resource_arn: str,
        secret_arn: str,
        database: str,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        base_delay: float = 0.1,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._target = {"resourceArn": resource_arn, "secretArn": secret_arn, "database": database}
        self._read_timeout = read_timeout
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._monotonic = monotonic
        self._invocation = threading.local()  # the local stack runs invocations on threads, sharing one DataApi
        self.stats = CallStats()

    @classmethod
    def from_settings(cls, client: Any | None = None, settings: Any | None = None) -> "DataApi":
        from helpdesk.config import get_settings

        settings = settings or get_settings()
        read_timeout = settings.db_read_timeout
        if client is None:
            from botocore.config import Config

            from helpdesk import aws_sdk

            # Our own retry below decides (and knows which calls are safe to repeat); botocore's would not.
            client = aws_sdk.client("rds-data", region=settings.region, config=Config(
                retries={"total_max_attempts": 1}, connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=read_timeout))
        return cls(client, resource_arn=settings.cluster_arn, secret_arn=settings.secret_arn, database=settings.database,
                   read_timeout=read_timeout)

    def bind_invocation(self, context: Any, *, at_most: float | None = None) -> None:
        """Retry no later than this invocation allows: its remaining time (and `at_most` seconds, e.g.
        API Gateway's 29), less a read timeout (the last attempt may hang that long) and a margin to answer."""
        remaining = DEFAULT_RETRY_SECONDS + self._read_timeout + ANSWER_MARGIN_SECONDS
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            remaining = context.get_remaining_time_in_millis() / 1000.0
        if at_most is not None:
            remaining = min(remaining, at_most)
        self._invocation.deadline = self._monotonic() + remaining - self._read_timeout - ANSWER_MARGIN_SECONDS

    def _retry_deadline(self) -> float:
        deadline = getattr(self._invocation, "deadline", None)
        return self._monotonic() + DEFAULT_RETRY_SECONDS if deadline is None else deadline

    # -- statements ----------------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None, *, transaction_id: str | None = None,
                idempotent: bool = False) -> Result:
        """Run one statement. `idempotent=True` declares a write safe to run twice (a request id or a
        compare-and-set makes the second run a no-op), so it is retried after an ambiguous failure too."""
        request: dict[str, Any] = {**self._target, "sql": sql, "includeResultMetadata": True}
        if params:
            request["parameters"] = encode_parameters(params)
        if transaction_id:
            request["transactionId"] = transaction_id
        # A single statement outside a transaction is atomic, so a serialization failure can be retried.
        alone = transaction_id is None
        response = self._call("execute_statement", request, retry_serialization=alone,
                              repeatable=lambda: alone and (idempotent or reads_only(sql)))
        return Result(decode_records(response), response.get("numberOfRecordsUpdated", 0))

    def query(self, sql: str, params: Mapping[str, Any] | None = None, **kw: Any) -> list[Row]:
        return self.execute(sql, params, **kw).rows

    def query_one(self, sql: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Row | None:
        return self.execute(sql, params, **kw).first()

    def batch_execute(self, sql: str, param_sets: Sequence[Mapping[str, Any]], *, transaction_id: str | None = None,
                      idempotent: bool = False) -> int:
        """One statement for many parameter sets in one call; returns how many sets ran."""
        if not param_sets:
            return 0
        request: dict[str, Any] = {**self._target, "sql": sql, "parameterSets": [encode_parameters(p) for p in param_sets]}
        if transaction_id:
            request["transactionId"] = transaction_id
        alone = transaction_id is None
        response = self._call("batch_execute_statement", request, retry_serialization=alone,
                              repeatable=lambda: alone and (idempotent or reads_only(sql)))
        return len(response.get("updateResults", []))

    @contextmanager
    def transaction(self) -> Iterator["Transaction"]:
        """Begin/commit around several statements. Costs two extra round trips: prefer one CTE statement."""
        # A begin retried after an ambiguous failure at worst leaves an empty transaction the service expires.
        tid = self._call("begin_transaction", dict(self._target), repeatable=lambda: True)["transactionId"]
        tx = Transaction(self, tid)
        try:
            yield tx
        except BaseException:
            try:
                self._call("rollback_transaction", {"resourceArn": self._target["resourceArn"], "secretArn": self._target["secretArn"], "transactionId": tid},
                           repeatable=lambda: True)
            except errors.HelpdeskError:
                pass  # the transaction may already be gone; the original error matters
            raise
        self._call("commit_transaction", {"resourceArn": self._target["resourceArn"], "secretArn": self._target["secretArn"], "transactionId": tid})

    # -- plumbing ------------------------------------------------------------------------
    def _call(self, operation: str, request: dict[str, Any], *, retry_serialization: bool = False,
              repeatable: Callable[[], bool] = lambda: False) -> dict[str, Any]:
        """`repeatable` says whether running the call twice is harmless; asked only after an ambiguous
        failure (reading a statement's code costs milliseconds on its first call in a process)."""
        from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, EndpointConnectionError, \
            ConnectTimeoutError, HTTPClientError

        deadline = self._retry_deadline()
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.stats.record(operation)
            try:
                return getattr(self._client, operation)(**request)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                message = exc.response.get("Error", {}).get("Message", "") or str(exc)
                error = _domain_error(code, message)
                serialization = retry_serialization and isinstance(error, errors.SerializationFailure)
                if code in _TIMEOUT_CODES or (code in _AMBIGUOUS_CODES and not repeatable()):
                    unknown = errors.DatabaseUnavailable if repeatable() else errors.OutcomeUnknown
                    raise unknown(f"{code}: {message}; the statement may or may not have run") from exc
                if not (code in _NOT_RUN_CODES or code in _AMBIGUOUS_CODES or serialization):
                    raise error from exc
                failure: Exception = exc
            except (EndpointConnectionError, ConnectTimeoutError) as exc:
                failure = exc  # never reached the service
                code = type(exc).__name__
                error = errors.DatabaseUnavailable(f"database unreachable: {exc}")
            except (BotoConnectionError, HTTPClientError) as exc:
                # A read timeout or a dropped connection after the request was sent: it may have run.
                code = type(exc).__name__
                error = errors.OutcomeUnknown(f"no answer from the database ({code}); the statement may or may not have run")
                if not repeatable():
                    raise error from exc
                failure = exc
            delay = min(self._max_delay, self._base_delay * 2 ** min(attempt - 1, 16)) * (0.5 + random.random() / 2)  # jitter spreads retry storms
            if self._monotonic() + delay > deadline:
                if isinstance(error, errors.SerializationFailure):
                    raise error from failure
                elapsed = self._monotonic() - started
                raise errors.DatabaseUnavailable(
                    f"database unavailable after {attempt} attempts over {elapsed:.1f}s: {code}") from failure
            self._sleep(delay)


@dataclass
class Transaction:
    api: DataApi
    transaction_id: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Result:
        return self.api.execute(sql, params, transaction_id=self.transaction_id)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self.execute(sql, params).rows


def _domain_error(code: str, message: str) -> errors.HelpdeskError:
    match = _SQLSTATE.search(message)
    sqlstate = match.group(1) if match else None
    if sqlstate:
        cls = _SQLSTATE_ERRORS.get(sqlstate, errors.DatabaseError)
        constraint = re.search(r"constraint \"([^\"]+)\"", message)
        return cls(message.split("\n", 1)[0].removeprefix("ERROR: "), sqlstate=sqlstate, constraint=constraint.group(1) if constraint else None)
    return errors.DatabaseError(f"{code}: {message}")


@lru_cache(maxsize=1024)
def reads_only(sql: str) -> bool:
    """True when a statement's code names nothing that writes, so running it twice is harmless."""
    from helpdesk.db.sqltext import tokens

    return not any(kind == "code" and _WRITES.search(text) for kind, text in tokens(sql))


# -- encoding ------------------------------------------------------------------------------
def encode_parameters(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [encode_parameter(name, value) for name, value in params.items()]


def encode_parameter(name: str, value: Any) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name}
    if isinstance(value, Json):
        param["value"] = {"stringValue": json.dumps(value.value, default=str)}
        param["typeHint"] = "JSON"
    elif value is None:
        param["value"] = {"isNull": True}
    elif isinstance(value, bool):
        param["value"] = {"booleanValue": value}
    elif isinstance(value, int):
        param["value"] = {"longValue": value}
    elif isinstance(value, float):
        param["value"] = {"doubleValue": value}
    elif isinstance(value, str):
        param["value"] = {"stringValue": value}
    elif isinstance(value, (bytes, bytearray)):
        param["value"] = {"blobValue": bytes(value)}
    elif isinstance(value, uuid.UUID):
        param["value"] = {"stringValue": str(value)}
        param["typeHint"] = "UUID"
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"parameter {name}: naive datetime; pass an aware datetime")
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        param["value"] = {"stringValue": utc.isoformat(sep=" ", timespec="microseconds")}
        param["typeHint"] = "TIMESTAMP"
    elif isinstance(value, date):
        param["value"] = {"stringValue": value.isoformat()}
        param["typeHint"] = "DATE"
    elif isinstance(value, dtime):
        param["value"] = {"stringValue": value.isoformat()}
        param["typeHint"] = "TIME"
    elif isinstance(value, Decimal):
        param["value"] = {"stringValue": str(value)}
        param["typeHint"] = "DECIMAL"
    elif isinstance(value, (dict, list, tuple)):
        param["value"] = {"stringValue": json.dumps(value, default=str)}
        param["typeHint"] = "JSON"
    else:
        raise TypeError(f"parameter {name}: unsupported type {type(value).__name__}")
    return param


def decode_records(response: Mapping[str, Any]) -> list[Row]:
    records = response.get("records")
    if not records:
        return []
    columns = response.get("columnMetadata") or []
    names = [c.get("label") or c.get("name") for c in columns]
    types = [c.get("typeName", "") for c in columns]
    return [{name: decode_field(f, t) for name, f, t in zip(names, record, types)} for record in records]


def decode_field(field_value: Mapping[str, Any], type_name: str) -> Any:
    if field_value.get("isNull"):
        return None
    if "arrayValue" in field_value:
        return _decode_array(field_value["arrayValue"])
    if "blobValue" in field_value:
        blob = field_value["blobValue"]
        return blob if isinstance(blob, bytes) else base64.b64decode(blob)
    for key in ("booleanValue", "longValue", "doubleValue"):
        if key in field_value:
            return field_value[key]
    value = field_value.get("stringValue")
    if value is None:
        return None
    type_name = type_name.lower()
    if type_name in ("timestamptz", "timestamp"):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    if type_name == "date":
        return date.fromisoformat(value)
    if type_name == "time":
        return dtime.fromisoformat(value)
    if type_name in ("json", "jsonb"):
        return json.loads(value)
    if type_name == "numeric":
        return Decimal(value)
    return value


def _decode_array(array: Mapping[str, Any]) -> list[Any]:
    if "arrayValues" in array:
        return [_decode_array(a) for a in array["arrayValues"]]
    for key in ("stringValues", "longValues", "doubleValues", "booleanValues"):
        if key in array:
            return list(array[key])
    return []

"""The local RDS Data API: the real boto3 `rds-data` client, answered by a real PostgreSQL.

The backend sits below botocore: either as a `before-send` hook (in-process; botocore has
already validated and serialized the call) or as an HTTP endpoint (`endpoint_url`) for other
processes. It enforces what Aurora's Data API enforces, so SQL that passes here works there:
parameters typed as the service types them (longValue bigint, stringValue varchar, doubleValue
double precision, booleanValue boolean, blobValue bytea, isNull untyped), every statement prepared
on the server from its first call, no array parameters, one statement per call, only the result
types the service returns, the 45 s statement limit, the 1 MiB response and 64 KB row limits,
transactions that expire after 3 idle minutes, and a paused cluster that answers
DatabaseResumingException while it wakes up.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import psycopg
from psycopg.types.numeric import Int8Dumper
from psycopg.types.string import StrDumper

from local.sqlparams import translate

MAX_RESPONSE_BYTES = 1024 * 1024
MAX_ROW_BYTES = 64 * 1024
TRANSACTION_IDLE_SECONDS = 180.0
STATEMENT_TIMEOUT_SECONDS = 45.0
# The service's errors name server-side prepared statements: it prepares every statement, so a
# parameter whose type cannot be inferred, or a plan that does not fit, fails on the first call.
PREPARE_THRESHOLD = 0
# Set LOCAL_DATA_API_RESUMING_SECONDS to start the local stack as a cluster waking from 0 ACU (later:
# POST /api/v1/dev/database {"resuming_seconds": N}; tests call LocalDataApi.resume_after).
RESUMING_SECONDS_ENV = "LOCAL_DATA_API_RESUMING_SECONDS"
RESUMING_MESSAGE = ("A request was cancelled because the Aurora Serverless DB instance was paused. The Data API request "
                    "automatically resumes the DB instance. Wait a few seconds and try again.")
STATEMENT_TIMEOUT_MESSAGE = "Request timed out"  # what the service answers (aws-sdk-js#3385)

_CASTS = {"UUID": "uuid", "TIMESTAMP": "timestamp", "DATE": "date", "TIME": "time", "DECIMAL": "numeric", "JSON": "json"}
# The result types the Data API returns for Aurora PostgreSQL (data-api-operations, "supported
# types"); any other column (void, interval, regtype, tsvector, "char", record, ...) is refused with
# UnsupportedResultException. Enum columns (pg_type.typtype 'e') are returned too.
SUPPORTED_RESULT_TYPES = frozenset({
    "bool", "bytea", "date", "cidr", "numeric", "float8", "inet", "int4", "int2", "int8", "jsonb", "json",
    "float4", "text", "bpchar", "varchar", "name", "time", "timestamp", "timestamptz", "uuid", "vector",
    "_bool", "_bit", "_date", "_numeric", "_float4", "_float8", "_int2", "_int4", "_int8", "_json",
    "_text", "_bpchar", "_varchar", "_time", "_timestamp", "_uuid",
})
_OPERATIONS = {
    "/Execute": "ExecuteStatement",
    "/BatchExecute": "BatchExecuteStatement",
    "/BeginTransaction": "BeginTransaction",
    "/CommitTransaction": "CommitTransaction",
    "/RollbackTransaction": "RollbackTransaction",
}


class VarcharDumper(StrDumper):
    """The service binds stringValue as character varying (its errors say `uuid = character varying`)."""

    oid = psycopg.postgres.types["varchar"].oid


class DataApiError(Exception):
    """An error the Data API answers with: HTTP status, error type, message."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


@dataclass
class _Transaction:
    conn: psycopg.Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)


class LocalDataApi:
    """Runs Data API requests (already-parsed JSON bodies) on PostgreSQL."""

    def __init__(self, dsn: str, *, pool_size: int = 16, idle_timeout: float = TRANSACTION_IDLE_SECONDS,
                 statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.dsn = dsn
        self.idle_timeout = idle_timeout
        self.statement_timeout = statement_timeout
        self._monotonic = monotonic
        self._pool: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._pool_size = pool_size
        self._transactions: dict[str, _Transaction] = {}
        self._lock = threading.Lock()
        self._resuming_until = float("-inf")
        self.requests = 0

    # -- a paused cluster ----------------------------------------------------------------
    def resume_after(self, seconds: float) -> None:
        """Act as a cluster waking from 0 ACU: answer DatabaseResumingException for `seconds` (0 ends it)."""
        self._resuming_until = self._monotonic() + seconds

    @property
    def resuming(self) -> bool:
        return self._monotonic() < self._resuming_until

    # -- connections ---------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.dsn, autocommit=True, prepare_threshold=PREPARE_THRESHOLD,
                               options=f"-c statement_timeout={int(self.statement_timeout * 1000)}")
        # Typed as the service types them, so a missing cast fails here as it fails there: psycopg
        # would send str untyped (PostgreSQL infers) and int as the smallest type that fits.
        conn.adapters.register_dumper(str, VarcharDumper)
        conn.adapters.register_dumper(int, Int8Dumper)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def _acquire(self) -> psycopg.Connection:
        try:
            conn = self._pool.get_nowait()
            if not conn.closed:
                return conn
        except queue.Empty:
            pass
        return self._connect()

    def _release(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
            return
        if self._pool.qsize() < self._pool_size:
            self._pool.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        with self._lock:
            txs = list(self._transactions.values())
            self._transactions.clear()
        for tx in txs:
            tx.conn.close()
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        self._expire_idle_transactions()
        if self.resuming:
            raise DataApiError("DatabaseResumingException", RESUMING_MESSAGE)
        if operation == "ExecuteStatement":
            return self._execute(body)
        if operation == "BatchExecuteStatement":
            return self._batch(body)
        if operation == "BeginTransaction":
            return self._begin(body)
        if operation == "CommitTransaction":
            return self._finish(body, commit=True)
        if operation == "RollbackTransaction":
            return self._finish(body, commit=False)
        raise DataApiError("BadRequestException", f"Unsupported operation {operation}")

    def _expire_idle_transactions(self) -> None:
        now = self._monotonic()
        expired: list[_Transaction] = []
        with self._lock:
            for tid, tx in list(self._transactions.items()):
                if not tx.lock.locked() and now - tx.last_used > self.idle_timeout:
                    expired.append(self._transactions.pop(tid))
        for tx in expired:
            tx.conn.close()  # closing rolls back

    def _transaction(self, tid: str) -> _Transaction:
        with self._lock:
            tx = self._transactions.get(tid)
        if tx is None:
            raise DataApiError("TransactionNotFoundException", f"Transaction {tid} is not found", status=404)
        return tx

    def _begin(self, body: dict[str, Any]) -> dict[str, Any]:
        conn = self._connect()
        conn.autocommit = False
        tid = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
        with self._lock:
            self._transactions[tid] = _Transaction(conn, last_used=self._monotonic())
        return {"transactionId": tid}

    def _finish(self, body: dict[str, Any], *, commit: bool) -> dict[str, Any]:
        tid = body["transactionId"]
        tx = self._transaction(tid)
        with tx.lock:
            with self._lock:
                self._transactions.pop(tid, None)
            try:
                if commit:
                    tx.conn.commit()
                else:
                    tx.conn.rollback()
            except psycopg.Error as exc:
                raise _database_error(exc) from exc
            finally:
                tx.conn.close()
        return {"transactionStatus": "Transaction Committed" if commit else "Rollback Complete"}

    # -- statements ----------------------------------------------------------------------
    def _prepare(self, body: dict[str, Any], parameters: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        casts = {p["name"]: _CASTS[p["typeHint"]] for p in parameters if p.get("typeHint")}
        translated = translate(body["sql"], casts)
        if translated.statements > 1:
            raise DataApiError("BadRequestException", "Multistatement is not supported: send one SQL statement per call")
        values = {p["name"]: _decode_param(p) for p in parameters}
        missing = [name for name in translated.names if name not in values]
        if missing:
            raise DataApiError("BadRequestException", f"No value specified for parameter: {missing[0]}")
        return translated.sql, values

    def _run(self, body: dict[str, Any], fn: Callable[[psycopg.Connection], dict[str, Any]]) -> dict[str, Any]:
        if body.get("continueAfterTimeout"):
            return self._run_past_timeout(body, fn)
        tid = body.get("transactionId")
        if tid:
            tx = self._transaction(tid)
            with tx.lock:
                try:
                    return fn(tx.conn)
                finally:
                    tx.last_used = self._monotonic()
        conn = self._acquire()
        try:
            return fn(conn)
        finally:
            self._release(conn)

    def _run_past_timeout(self, body: dict[str, Any], fn: Callable[[psycopg.Connection], dict[str, Any]]) -> dict[str, Any]:
        """continueAfterTimeout: the caller still gets the timeout error, but the statement runs on."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work(conn: psycopg.Connection) -> dict[str, Any]:
            conn.execute("SET statement_timeout = 0")
            try:
                return fn(conn)
            finally:
                if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                    conn.execute("RESET statement_timeout")

        def background() -> None:
            try:
                outcome["result"] = self._run({**body, "continueAfterTimeout": False}, work)
            except BaseException as exc:  # handed to the waiting caller, or dropped once it gave up
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=background, name="local-data-api-continue", daemon=True).start()
        if not done.wait(self.statement_timeout):
            raise DataApiError("StatementTimeoutException", STATEMENT_TIMEOUT_MESSAGE)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def _execute(self, body: dict[str, Any]) -> dict[str, Any]:
        sql, values = self._prepare(body, body.get("parameters", []))

        def run(conn: psycopg.Connection) -> dict[str, Any]:
            try:
                cur = _execute_prepared(conn, sql, values)
            except psycopg.Error as exc:
                raise _database_error(exc) from exc
            return _result(cur, body)

        return self._run(body, run)

    def _batch(self, body: dict[str, Any]) -> dict[str, Any]:
        sets = body.get("parameterSets") or [[]]
        prepared = [self._prepare(body, params) for params in sets]

        def run(conn: psycopg.Connection) -> dict[str, Any]:
            results = []
            try:
                with conn.transaction():
                    for sql, values in prepared:
                        cur = _execute_prepared(conn, sql, values)
                        generated = []
                        description = cur.description
                        if description:
                            types = _result_types(conn, description)
                            row = cur.fetchone()
                            generated = [_encode_value(v, t) for v, t in zip(row or [], types)]
                        results.append({"generatedFields": generated})
            except psycopg.Error as exc:
                raise _database_error(exc) from exc
            return {"updateResults": results}

        return self._run(body, run)


def _execute_prepared(conn: psycopg.Connection, sql: str, values: dict[str, Any]) -> psycopg.Cursor:
    try:
        return conn.execute(sql, values)
    except psycopg.errors.FeatureNotSupported as exc:
        # DDL from another connection changed a table a prepared `SELECT *`-style statement returns:
        # PostgreSQL refuses the stale plan. Without prepared statements the call would have worked, so
        # forget them and run it again (outside a transaction only: inside, the error aborted it).
        if ("cached plan must not change result type" not in str(exc)
                or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE):
            raise
        conn.execute("DEALLOCATE ALL")  # psycopg sees the command and forgets its prepared statements too
        return conn.execute(sql, values)


# -- encoding ----------------------------------------------------------------------------
def _decode_param(param: dict[str, Any]) -> Any:
    value = param.get("value", {})
    if "arrayValue" in value:
        raise DataApiError("BadRequestException", f"Array parameters are not supported (parameter {param['name']}): pass JSON and use jsonb_array_elements_text")
    if value.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in value:
            return value[key]
    if "blobValue" in value:
        return base64.b64decode(value["blobValue"])
    raise DataApiError("BadRequestException", f"Parameter {param['name']} has no value")


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    if info is not None:
        return info.name
    row = conn.execute("SELECT CASE WHEN typtype = 'e' THEN 'enum' ELSE typname END FROM pg_type WHERE oid = %s",
                       (oid,)).fetchone()
    return row[0] if row else "unknown"


def _result_types(conn: psycopg.Connection, description: Any) -> list[str]:
    """Each result column's type name; a type the service does not return fails the call, as there."""
    types = [_type_name(conn, d.type_code) for d in description]
    for name in types:
        if name not in SUPPORTED_RESULT_TYPES and name != "enum":
            raise DataApiError("UnsupportedResultException", f"The result contains the unsupported data type {name}")
    return types


def _format_timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(sep=" ")


def _encode_value(value: Any, type_name: str) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if type_name in ("json", "jsonb"):
        return {"stringValue": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"stringValue": _format_timestamp(value)}
    if isinstance(value, (dt.date, dt.time)):
        return {"stringValue": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"stringValue": str(value)}
    if isinstance(value, list):
        return {"arrayValue": _encode_array(value)}
    return {"stringValue": str(value)}


def _encode_array(values: list[Any]) -> dict[str, Any]:
    if any(isinstance(v, list) for v in values):
        return {"arrayValues": [_encode_array(v) for v in values]}
    non_null = [v for v in values if v is not None]
    if non_null and all(isinstance(v, bool) for v in non_null):
        return {"booleanValues": values}
    if non_null and all(isinstance(v, int) for v in non_null):
        return {"longValues": values}
    if non_null and all(isinstance(v, float) for v in non_null):
        return {"doubleValues": values}
    return {"stringValues": [None if v is None else (_format_timestamp(v) if isinstance(v, dt.datetime) else str(v)) for v in values]}


def _result(cur: psycopg.Cursor, body: dict[str, Any]) -> dict[str, Any]:
    description = cur.description  # a property that builds new Column objects on every access: read it once
    response: dict[str, Any] = {"numberOfRecordsUpdated": max(cur.rowcount, 0) if description is None else 0, "generatedFields": []}
    if description is None:
        return response
    conn = cur.connection
    types = _result_types(conn, description)
    names = [d.name for d in description]
    rows = cur.fetchall()
    total = 0
    as_json = body.get("formatRecordsAs") == "JSON"
    records: list[Any] = []
    for row in rows:
        if as_json:
            record: Any = {name: _json_value(v, t) for v, name, t in zip(row, names, types)}
        else:
            record = [_encode_value(v, t) for v, t in zip(row, types)]
        size = _wire_size(record)
        if size > MAX_ROW_BYTES:
            raise DataApiError("BadRequestException", f"Database returned a row larger than the {MAX_ROW_BYTES} byte limit; select fewer or smaller columns")
        total += size
        if total > MAX_RESPONSE_BYTES:
            raise DataApiError("BadRequestException", "Database returned more than the allowed response size limit (1 MiB); paginate the query")
        records.append(record)
    if as_json:
        response["formattedRecords"] = json.dumps(records, default=str)
    else:
        response["records"] = records
    if body.get("includeResultMetadata"):
        response["columnMetadata"] = [
            {"name": d.name, "label": d.name, "typeName": t, "type": d.type_code, "nullable": 2}
            for d, t in zip(description, types)
        ]
    return response


def _wire_size(record: Any) -> int:
    """A record's size as UTF-8 bytes of its JSON (not ASCII \\u escapes, which would count an emoji as 12)."""
    return len(json.dumps(record, default=str, ensure_ascii=False).encode("utf-8"))


def _json_value(value: Any, type_name: str) -> Any:
    if isinstance(value, dt.datetime):
        return _format_timestamp(value)
    if isinstance(value, (dt.date, decimal.Decimal, uuid.UUID, dt.time)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _database_error(exc: psycopg.Error) -> DataApiError:
    """The service's message: PgJDBC's rendering of the server error (message, then Detail, Hint,
    Position and Where lines when the server sent them), then `; SQLState: NNNNN`."""
    diag = exc.diag
    if exc.sqlstate == "57014" and "statement timeout" in (diag.message_primary or ""):
        return DataApiError("StatementTimeoutException", STATEMENT_TIMEOUT_MESSAGE)
    parts = [f"{diag.severity_nonlocalized or 'ERROR'}: {diag.message_primary or str(exc).strip()}"]
    for label, value in (("Detail", diag.message_detail), ("Hint", diag.message_hint),
                         ("Position", diag.statement_position), ("Where", diag.context)):
        if value:
            parts.append(f"  {label}: {value}")
    return DataApiError("DatabaseErrorException", "\n".join(parts) + f"; SQLState: {exc.sqlstate or 'XX000'}")


# -- wiring: botocore hook and HTTP endpoint ---------------------------------------------
class _RawResponse:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def _http_answer(backend: LocalDataApi, path: str, raw_body: bytes) -> tuple[int, dict[str, str], bytes]:
    operation = _OPERATIONS.get(path.split("?")[0])
    try:
        if operation is None:
            raise DataApiError("BadRequestException", f"Unknown path {path}", status=404)
        payload = backend.handle(operation, json.loads(raw_body or b"{}"))
        return 200, {"content-type": "application/json"}, json.dumps(payload).encode()
    except DataApiError as err:
        headers = {"content-type": "application/json", "x-amzn-ErrorType": err.error_type}
        return err.status, headers, json.dumps({"message": err.message, "__type": err.error_type}).encode()


def attach(client: Any, backend: LocalDataApi) -> Any:
    """Answer every call of this boto3 rds-data client from `backend` (after botocore serialized it)."""
    from botocore.awsrequest import AWSResponse

    def before_send(request: Any, **_: Any) -> AWSResponse:
        path = "/" + request.url.split("://", 1)[-1].split("/", 1)[-1]
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        status, headers, payload = _http_answer(backend, path, body or b"")
        return AWSResponse(request.url, status, headers, _RawResponse(payload))

    client.meta.events.register("before-send.rds-data", before_send)
    return client


def serve(backend: LocalDataApi, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP endpoint for clients in other processes (`endpoint_url=http://host:port`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length") or 0)
            status, headers, payload = _http_answer(backend, self.path, self.rfile.read(length))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="local-data-api", daemon=True).start()
    return server

"""The Data API client's parameter encoding, record decoding and SQLSTATE mapping (pure)."""
from __future__ import annotations

import base64
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from helpdesk import errors
from helpdesk.db.client import Json, Result, _domain_error, decode_field, decode_records, encode_parameter, encode_parameters


@pytest.mark.parametrize(("value", "expected"), [
    (None, {"value": {"isNull": True}}),
    (True, {"value": {"booleanValue": True}}),
    (False, {"value": {"booleanValue": False}}),
    (7, {"value": {"longValue": 7}}),
    (-2**63, {"value": {"longValue": -2**63}}),
    (1.5, {"value": {"doubleValue": 1.5}}),
    ("text", {"value": {"stringValue": "text"}}),
    ("", {"value": {"stringValue": ""}}),
    (b"\x00\xff", {"value": {"blobValue": b"\x00\xff"}}),
    (bytearray(b"ab"), {"value": {"blobValue": b"ab"}}),
    (uuid.UUID(int=1), {"value": {"stringValue": "00000000-0000-0000-0000-000000000001"}, "typeHint": "UUID"}),
    (datetime(2026, 3, 2, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
     {"value": {"stringValue": "2026-03-02 15:00:00.000005"}, "typeHint": "TIMESTAMP"}),
    (datetime(2026, 3, 2, 15, tzinfo=timezone.utc), {"value": {"stringValue": "2026-03-02 15:00:00.000000"}, "typeHint": "TIMESTAMP"}),
    (date(2026, 12, 25), {"value": {"stringValue": "2026-12-25"}, "typeHint": "DATE"}),
    (time(9, 30), {"value": {"stringValue": "09:30:00"}, "typeHint": "TIME"}),
    (Decimal("12.340"), {"value": {"stringValue": "12.340"}, "typeHint": "DECIMAL"}),
    ({"a": [1, "b"]}, {"value": {"stringValue": '{"a": [1, "b"]}'}, "typeHint": "JSON"}),
    ([1, 2], {"value": {"stringValue": "[1, 2]"}, "typeHint": "JSON"}),
    ((1, "x"), {"value": {"stringValue": '[1, "x"]'}, "typeHint": "JSON"}),
    ([], {"value": {"stringValue": "[]"}, "typeHint": "JSON"}),
    (Json("just a string"), {"value": {"stringValue": '"just a string"'}, "typeHint": "JSON"}),
    (Json(None), {"value": {"stringValue": "null"}, "typeHint": "JSON"}),
])
def test_encode(value, expected):
    assert encode_parameter("p", value) == {"name": "p", **expected}


def test_never_sends_array_values():
    for value in ([1, 2], [uuid.uuid4()], [[1], [2]], {"k": [date(2026, 1, 1)]}):
        encoded = encode_parameter("p", value)
        assert "arrayValue" not in encoded["value"]
    assert "2026-01-01" in encode_parameter("p", {"k": [date(2026, 1, 1)]})["value"]["stringValue"]


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="naive datetime"):
        encode_parameter("at", datetime(2026, 1, 1))


def test_unsupported_type_rejected():
    with pytest.raises(TypeError, match="parameter p: unsupported type object"):
        encode_parameter("p", object())


def test_encode_parameters_keeps_order_and_names():
    assert [p["name"] for p in encode_parameters({"b": 1, "a": None})] == ["b", "a"]


@pytest.mark.parametrize(("field", "type_name", "expected"), [
    ({"isNull": True}, "text", None),
    ({"booleanValue": True}, "bool", True),
    ({"longValue": 3}, "int8", 3),
    ({"doubleValue": 2.5}, "float8", 2.5),
    ({"stringValue": "hi"}, "text", "hi"),
    ({"stringValue": "00000000-0000-0000-0000-000000000001"}, "uuid", "00000000-0000-0000-0000-000000000001"),
    ({"stringValue": "2026-03-02 15:00:00"}, "timestamptz", datetime(2026, 3, 2, 15, tzinfo=timezone.utc)),
    ({"stringValue": "2026-03-02 15:00:00.123"}, "timestamptz", datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=timezone.utc)),
    ({"stringValue": "2026-03-02 15:00:00.123456"}, "timestamp", datetime(2026, 3, 2, 15, 0, 0, 123456, tzinfo=timezone.utc)),
    ({"stringValue": "2026-12-25"}, "date", date(2026, 12, 25)),
    ({"stringValue": "09:30:00"}, "time", time(9, 30)),
    ({"stringValue": "12.340"}, "numeric", Decimal("12.340")),
    ({"stringValue": '{"a": [1, null]}'}, "jsonb", {"a": [1, None]}),
    ({"stringValue": "[1]"}, "json", [1]),
    ({"blobValue": b"\x00\x01"}, "bytea", b"\x00\x01"),
    ({"blobValue": base64.b64encode(b"\x02").decode()}, "bytea", b"\x02"),
    ({"arrayValue": {"longValues": [1, 2]}}, "_int8", [1, 2]),
    ({"arrayValue": {"stringValues": ["a", None]}}, "_text", ["a", None]),
    ({"arrayValue": {"booleanValues": [True]}}, "_bool", [True]),
    ({"arrayValue": {"doubleValues": [0.5]}}, "_float8", [0.5]),
    ({"arrayValue": {"arrayValues": [{"longValues": [1]}, {"longValues": [2, 3]}]}}, "_int4", [[1], [2, 3]]),
    ({"arrayValue": {}}, "_text", []),
])
def test_decode_field(field, type_name, expected):
    assert decode_field(field, type_name) == expected


def test_decode_records_uses_labels():
    response = {
        "columnMetadata": [{"name": "x", "label": "alias", "typeName": "int4"}, {"name": "d", "typeName": "date"}],
        "records": [[{"longValue": 1}, {"stringValue": "2026-01-02"}], [{"isNull": True}, {"isNull": True}]],
    }
    assert decode_records(response) == [{"alias": 1, "d": date(2026, 1, 2)}, {"alias": None, "d": None}]
    assert decode_records({}) == []
    assert decode_records({"records": []}) == []


def test_result_one_and_first():
    assert Result([{"a": 1}]).one() == {"a": 1}
    assert Result([]).first() is None
    with pytest.raises(errors.DatabaseError, match="expected one row, got 2"):
        Result([{}, {}]).one()


@pytest.mark.parametrize(("sqlstate", "cls"), [
    ("23505", errors.UniqueViolation),
    ("23514", errors.CheckViolation),
    ("23503", errors.ForeignKeyViolation),
    ("40001", errors.SerializationFailure),
    ("40P01", errors.SerializationFailure),
    ("22P02", errors.DatabaseError),
])
def test_sqlstate_mapping(sqlstate, cls):
    message = (f'ERROR: duplicate key value violates unique constraint "tickets_pkey"\n'
               f"  Detail: Key (id)=(x) already exists.; SQLState: {sqlstate}")
    err = _domain_error("DatabaseErrorException", message)
    assert type(err) is cls
    assert err.sqlstate == sqlstate
    assert err.extra["constraint"] == "tickets_pkey"
    assert err.detail == 'duplicate key value violates unique constraint "tickets_pkey"'


def test_constraint_from_the_message_the_service_sends():
    # PgJDBC's rendering, as the Data API sends it: no "Constraint:" line, the name is in the message.
    err = _domain_error("DatabaseErrorException", 'ERROR: new row for relation "tickets" violates check constraint '
                        '"tickets_status_check"\n  Detail: Failing row contains (1).; SQLState: 23514')
    assert isinstance(err, errors.CheckViolation)
    assert err.extra["constraint"] == "tickets_status_check"


def test_no_sqlstate_is_generic():
    err = _domain_error("BadRequestException", "Multistatement is not supported")
    assert type(err) is errors.DatabaseError
    assert err.sqlstate is None
    assert "BadRequestException" in err.detail

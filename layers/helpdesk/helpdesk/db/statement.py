"""A statement together with what it takes and what it returns.

`Statement` is the SQL text itself (a `str`, so `DataApi.execute` runs it unchanged) carrying two
TypedDicts: the parameters its `:names` bind and the columns of each row it returns. A caller reads
what a statement needs and gives back from those types without reading the SQL;
tests/unit/db/test_statements.py checks every statement's `:names` against its parameter type, and
the test suite checks each row it runs against its row type (tests/conftest.py).
"""
from __future__ import annotations

from typing import Any, Generic, TypeAlias, TypeVar

from helpdesk.db.sqltext import parameter_names

# A parameter sent as JSON: a list or dict the client encodes (the SQL casts it with ::jsonb).
JsonValue: TypeAlias = Any

P = TypeVar("P")
R = TypeVar("R")


class Statement(str, Generic[P, R]):
    params: type[P]
    row: type[R]

    def __new__(cls, sql: str, *, params: type[P], row: type[R]) -> "Statement[P, R]":
        self = super().__new__(cls, sql)
        self.params = params
        self.row = row
        return self

    @property
    def parameter_names(self) -> frozenset[str]:
        """The `:names` the SQL binds."""
        return parameter_names(str(self))

    @property
    def declared_parameters(self) -> frozenset[str]:
        return frozenset(_keys(self.params))

    @property
    def declared_columns(self) -> frozenset[str]:
        return frozenset(_keys(self.row))


def _keys(typed_dict: Any) -> list[str]:
    return list(getattr(typed_dict, "__annotations__", {}))

"""Translate Data API SQL (named `:param` placeholders) into psycopg's `%(param)s` form."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from helpdesk.db.sqltext import split_statements, tokens


@dataclass(frozen=True)
class TranslatedSql:
    sql: str
    names: tuple[str, ...]
    statements: int


def translate(sql: str, casts: dict[str, str] | None = None) -> TranslatedSql:
    """Rewrite `:name` to `%(name)s` (with `::cast` for type-hinted names) and escape `%`."""
    return _translate(sql, tuple(sorted((casts or {}).items())))


# The application sends a few dozen distinct statement texts; tokenizing them in Python costs
# 5-15 ms each, a local-only cost Aurora does not have, so the rewrite is memoized.
@lru_cache(maxsize=2048)
def _translate(sql: str, cast_items: tuple[tuple[str, str], ...]) -> TranslatedSql:
    casts = dict(cast_items)
    out: list[str] = []
    names: list[str] = []
    for kind, text in tokens(sql):
        if kind == "param":
            name = text[1:]
            names.append(name)
            out.append(f"%({name})s" + (f"::{casts[name]}" if name in casts else ""))
        else:
            out.append(text.replace("%", "%%"))
    return TranslatedSql("".join(out), tuple(dict.fromkeys(names)), len(split_statements(sql)))

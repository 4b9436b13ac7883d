"""A small SQL scanner: splits text into code, quoted text, comments, `:params`, casts and `;`.

Used to split migration files into single statements (the Data API runs one per call) and,
by the local Data API, to rewrite `:name` placeholders without touching literals.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

Kind = Literal["code", "quoted", "comment", "param", "cast", "semicolon"]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def tokens(sql: str) -> Iterator[tuple[Kind, str]]:
    i, n = 0, len(sql)
    start = 0

    def code_until(j: int) -> Iterator[tuple[Kind, str]]:
        if j > start:
            yield "code", sql[start:j]

    while i < n:
        c = sql[i]
        end = -1
        kind: Kind | None = None
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote stays inside the literal
                        j += 2
                        continue
                    break
                j += 1
            end, kind = min(j + 1, n), "quoted"
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            end, kind = (n if j < 0 else j), "comment"
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end, kind = (n if j < 0 else j + 2), "comment"
        elif c == "$" and (m := _DOLLAR_TAG.match(sql, i)):
            j = sql.find(m.group(0), m.end())
            end, kind = (n if j < 0 else j + len(m.group(0))), "quoted"
        elif sql.startswith("::", i):
            end, kind = i + 2, "cast"
        elif c == ":" and (m := _NAME.match(sql, i + 1)):
            end, kind = m.end(), "param"
        elif c == ";":
            end, kind = i + 1, "semicolon"
        if kind is None:
            i += 1
            continue
        yield from code_until(i)
        yield kind, sql[i:end]
        i = start = end
    yield from code_until(n)


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (without the trailing `;`), dropping empty ones."""
    statements: list[str] = []
    current: list[str] = []
    for kind, text in tokens(sql):
        if kind == "semicolon":
            statements.append("".join(current))
            current = []
        else:
            current.append(text)
    statements.append("".join(current))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    return any(kind != "comment" and text.strip() for kind, text in tokens(statement))


@lru_cache(maxsize=512)
def parameter_names(sql: str) -> frozenset[str]:
    """The `:name` placeholders a statement uses (not `::casts`, not text inside literals or comments)."""
    return frozenset(text[1:] for kind, text in tokens(sql) if kind == "param")

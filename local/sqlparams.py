"""Translate Data API SQL (named `:param` placeholders) into psycopg's `%(param)s` form.

A small scanner, not a regex, so that `::casts`, string literals, quoted identifiers,
comments and dollar-quoted bodies are left alone. It also reports whether the text holds
more than one statement, which the Data API refuses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class TranslatedSql:
    sql: str
    names: tuple[str, ...]
    statements: int


def translate(sql: str, casts: dict[str, str] | None = None) -> TranslatedSql:
    """Rewrite `:name` to `%(name)s` (with `::cast` for type-hinted names) and escape `%`."""
    casts = casts or {}
    out: list[str] = []
    names: list[str] = []
    statements = 0
    pending_content = False
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'" or c == '"':
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote inside the literal
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            pending_content = True
            i = j + 1
            continue
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j].replace("%", "%%"))
            i = j
            continue
        if c == "$":
            m = _DOLLAR_TAG.match(sql, i)
            if m:
                tag = m.group(0)
                j = sql.find(tag, m.end())
                j = n if j < 0 else j + len(tag)
                out.append(sql[i:j].replace("%", "%%"))
                pending_content = True
                i = j
                continue
        if c == ":":
            if sql.startswith("::", i):
                out.append("::")
                i += 2
                continue
            m = _NAME.match(sql, i + 1)
            if m:
                name = m.group(0)
                names.append(name)
                cast = casts.get(name)
                out.append(f"%({name})s" + (f"::{cast}" if cast else ""))
                pending_content = True
                i = m.end()
                continue
        if c == ";":
            if pending_content:
                statements += 1
                pending_content = False
            out.append(c)
            i += 1
            continue
        if c == "%":
            out.append("%%")
            i += 1
            continue
        if not c.isspace():
            pending_content = True
        out.append(c)
        i += 1
    if pending_content:
        statements += 1
    return TranslatedSql("".join(out), tuple(dict.fromkeys(names)), statements)

"""Bounds on what one mail can cost to parse, applied before the expensive parsers see it.

The stdlib's header parser is superlinear on long folded or parameter-heavy values (a 1 MB
Subject took 57 s, a 0.5 MB part Content-Type 80 s) and html5ever (nh3) on deeply nested markup
(1.2 MB of nested <div> took 150 s). So: every header field of every part is cut to
MAX_HEADER_CHARS as the MIME parser reads it (CappedPolicy), HTML is cut to MAX_HTML_CHARS and
flattened below MAX_HTML_DEPTH open elements before it is sanitized or turned into text. What is
cut is named in the mail's defects; the raw mail stays in S3 whole.

NUL bytes are valid in MIME bodies but not in PostgreSQL text or jsonb: header values lose them as
they are read, and `scrub` removes them from everything else a parsed mail carries into storage.
"""
from __future__ import annotations

import dataclasses
import re
from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from typing import Any

MAX_HEADER_CHARS = 16_000  # per header field, unfolded (100 Outlook-length References ids fit in 9,000)
MAX_HTML_CHARS = 1_000_000
MAX_HTML_DEPTH = 100
# Parameters of a MIME header: the stdlib's cost grows with the square of their number (800 took
# 1.3 s per read, and a part's Content-Type is read several times); 100 parse in 40 ms and leave
# room for a long RFC 2231 file name split into numbered pieces.
MAX_MIME_PARAMS = 100
_MIME_PARAM_HEADERS = {"content-type", "content-disposition"}
# multipart containers (declared boundaries) in one mail: the stdlib parser nests a generator per
# level and fails with RecursionError near 1,000 levels after ~4 s; real mail has a few dozen at most.
MAX_MULTIPARTS = 300
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)
# Kept from the end, cut at an id boundary: the latest ids are the ones threading needs.
_KEEP_TAIL = {"references"}


class CappedPolicy(EmailPolicy):
    """policy.default whose header values are cut to MAX_HEADER_CHARS (and cleared of NULs) as
    the parser reads them, at every nesting level. `cut` (a fresh list per parse, via clone) names
    the fields that were cut."""

    cut: list[str] | None = None

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if "\x00" in value or "\x00" in name:
            name, value = name.replace("\x00", ""), value.replace("\x00", "")
        if name.lower() in _MIME_PARAM_HEADERS and value.count(";") > MAX_MIME_PARAMS:
            if self.cut is not None:
                self.cut.append(f"{name} header with {value.count(';')} parameters cut to {MAX_MIME_PARAMS}")
            value = ";".join(value.split(";", MAX_MIME_PARAMS + 1)[:MAX_MIME_PARAMS + 1])
        if len(value) > MAX_HEADER_CHARS:
            if self.cut is not None:
                self.cut.append(f"{name} header of {len(value)} characters cut to {MAX_HEADER_CHARS}")
            if name.lower() in _KEEP_TAIL:
                tail = value[-MAX_HEADER_CHARS:]
                value = tail[tail.find(" ") + 1:] if " " in tail else tail
            else:
                value = value[:MAX_HEADER_CHARS]
        return name, value


    def header_fetch_parse(self, name: str, value: str):  # type: ignore[override]
        # The standard library's structured header parsers crash on some hostile values (an
        # IndexError on "Content-Type: text/plain; charset*", for one), and the parser calls them
        # while it reads the mail: such a header is kept as plain text instead, and noted.
        try:
            return super().header_fetch_parse(name, value)
        except Exception:  # noqa: BLE001 - any crash of a header parser, not only the ones known today
            note = f"{name} header could not be parsed; kept as text"
            if self.cut is not None and note not in self.cut:  # the parser reads a header many times
                self.cut.append(note)
            return _AS_TEXT(name, "".join(value.splitlines()))


# Makes every header an unstructured (plain text) one, whatever its name.
_AS_TEXT = HeaderRegistry(use_default_map=False)


class MailTooComplex(ValueError):
    """The mail's structure is beyond what is parsed (it is quarantined as unparseable, kept in S3)."""


def check_structure(raw: bytes) -> None:
    """Refuses, before parsing, a mail declaring more multipart containers than MAX_MULTIPARTS."""
    count = sum(1 for _ in _BOUNDARY.finditer(raw))
    if count > MAX_MULTIPARTS:
        raise MailTooComplex(f"{count} multipart boundaries declared; at most {MAX_MULTIPARTS} are parsed")


def capped_policy() -> CappedPolicy:
    return CappedPolicy().clone(cut=[])


# Elements that never nest (void) or that the HTML parser closes implicitly when a sibling opens:
# they do not deepen the tree, so they do not count toward MAX_HTML_DEPTH.
_FLAT = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "!doctype"}
_TAG = re.compile(r"<(/?)([A-Za-z!][A-Za-z0-9:-]*)[^>]*?(/?)>")


def bound_html(html: str) -> tuple[str, list[str]]:
    """The HTML cut to MAX_HTML_CHARS, with start and end tags deeper than MAX_HTML_DEPTH removed
    (their text kept), and what was done. Linear in the input."""
    notes: list[str] = []
    if len(html) > MAX_HTML_CHARS:
        notes.append(f"HTML of {len(html)} characters cut to {MAX_HTML_CHARS}")
        html = html[:MAX_HTML_CHARS]
    depth, deepest, dropped = 0, 0, 0
    pieces: list[str] = []
    last = 0
    for match in _TAG.finditer(html):
        closing, tag, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if tag in _FLAT or self_closing:
            continue
        if closing:
            drop = depth > MAX_HTML_DEPTH
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
            drop = depth > MAX_HTML_DEPTH
        if drop:
            pieces.append(html[last:match.start()])
            last = match.end()
            dropped += 1
    if dropped:
        pieces.append(html[last:])
        html = "".join(pieces)
        notes.append(f"HTML nested {deepest} elements deep: {dropped} tags below depth {MAX_HTML_DEPTH} removed")
    return html, notes


def scrub(value: Any) -> Any:
    """`value` with NUL characters removed from every string in it (dataclasses, lists, dicts,
    keys included); bytes (attachment contents) are left as they are."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            cleaned = scrub(current)
            if cleaned is not current:
                setattr(value, f.name, cleaned)
        return value
    return value

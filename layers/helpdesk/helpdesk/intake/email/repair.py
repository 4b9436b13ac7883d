"""Recovering a damaged header block before the MIME parser reads it.

The stdlib parser ends the headers at the first line that is neither a field nor a continuation,
so a relay that writes a stray first line (a banner, a bare address) or an unindented
continuation loses From, Subject and Message-ID to the body. Mature parsers (the Mail gem,
mailparser, postal-mime) read on: this does the same. A broken line followed by more fields
before the blank line is joined to the field above it as a continuation (or skipped when it
comes before the first field); a broken line after which no field follows is where the body
starts, and a blank line is put before it. "Name : value" (white space before the colon, RFC
5322's obsolete syntax) becomes "Name: value".
"""
from __future__ import annotations

import re

_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_MAX_SCAN_LINES = 5_000  # a header block longer than this is left to the parser as it is


def repair_header_block(raw: bytes) -> tuple[bytes, list[str]]:
    """`raw` with its header block made parseable, and a note for each repair (none: `raw` itself)."""
    lines = raw.split(b"\n", _MAX_SCAN_LINES)
    end = next((i for i, line in enumerate(lines[:_MAX_SCAN_LINES]) if not line.rstrip(b"\r")), None)
    block = lines[:end] if end is not None else lines[:_MAX_SCAN_LINES]
    kinds = [_kind(line) for line in block]
    if "broken" not in kinds and "spaced" not in kinds:
        return raw, []
    last_field = max((i for i, k in enumerate(kinds) if k in ("field", "spaced")), default=-1)
    if last_field < 0:
        return raw, []  # no header field at all: nothing to recover
    notes: list[str] = []
    out: list[bytes] = []
    body_from = None
    for i, (line, kind) in enumerate(zip(block, kinds)):
        if kind == "spaced":
            match = _FIELD.match(line)
            assert match is not None
            out.append(match.group(1) + b":" + line[match.end():])
            notes.append(f"header line {i + 1}: white space before the colon removed")
        elif kind != "broken":
            out.append(line)
        elif i > last_field:
            body_from = i  # nothing but body after it: the blank line was missing
            break
        elif not out:
            notes.append(f"header line {i + 1} is not a header field: skipped")
        else:
            out.append(b" " + line.lstrip())
            notes.append(f"header line {i + 1} is not a header field: joined to the field above")
    if body_from is not None:
        notes.append(f"no blank line after the headers: the body starts at line {body_from + 1}")
        rest = block[body_from:] + lines[len(block):]
        newline = b"\r\n" if block[0].endswith(b"\r") else b"\n"
        return b"\n".join(out) + b"\n" + newline + b"\n".join(rest), notes
    return b"\n".join(out + lines[len(block):]), notes


def _kind(line: bytes) -> str:
    if line[:1] in (b" ", b"\t"):
        return "continuation"
    match = _FIELD.match(line)
    if match is None:
        return "broken"
    return "field" if line[match.end(1):match.end(1) + 1] == b":" else "spaced"


_ANGLE = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\([^()]*\)")


def obsolete_address(value: str) -> str | None:
    """The address of a From written in RFC 5322's obsolete syntax, which the stdlib's address
    parser refuses: comments and folding white space inside it, "jdoe@machine(comment).  example"."""
    match = _ANGLE.search(value)
    candidate = match.group(1) if match else value
    candidate = re.sub(r"\s+", "", _COMMENT.sub("", candidate))
    local, at, domain = candidate.rpartition("@")
    if not at or not local or "." not in domain or "@" in local:
        return None
    return candidate.lower()

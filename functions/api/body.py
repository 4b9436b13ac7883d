"""The request checks every route shares, run before routing so no route can answer 500 on them:
size, media type, and a JSON body read once with limits (nesting depth, number size, NUL).

A media type is case-insensitive and `application/<anything>+json` is JSON (RFC 6839): both are
accepted and handed to the resolver as `application/json`, the one spelling its validation reads."""
from __future__ import annotations

import json
import math
from typing import Any

from helpdesk import errors

# API Gateway accepts 10 MB, Lambda 6 MB; our largest body (100,000 chars, JSON-escaped) stays under 4 MiB.
MAX_REQUEST_BYTES = 4 * 1_048_576
# Our deepest document (a routing rule's conditions) nests a handful of levels; 64 leaves room.
MAX_DEPTH = 64
# Every number we store fits PostgreSQL's bigint or a double; larger ones cannot be meant.
MAX_INT = 2**63 - 1
MAX_INT_DIGITS = 20  # longer than any bigint (with sign): refused before converting (no 4,300-digit cost)
JSON = "application/json"


class UnsupportedMediaType(errors.HelpdeskError):
    """The body is not JSON (HTTP 415)."""

    code = "unsupported_media_type"


def check(event: dict[str, Any]) -> None:
    """Raises the domain error naming what is wrong with the request; normalizes the Content-Type."""
    body = event.get("body") or ""
    if len(body) > MAX_REQUEST_BYTES:
        raise errors.PayloadTooLarge(f"the request body is {len(body)} bytes; at most {MAX_REQUEST_BYTES} are accepted")
    if "\x00" in (event.get("path") or "") or any(
            "\x00" in str(v) for v in (event.get("queryStringParameters") or {}).values()):
        raise _nul()
    if not body:
        return
    content_type = _media_type(event)
    if content_type != JSON and not (content_type.startswith("application/") and content_type.endswith("+json")):
        raise UnsupportedMediaType(f"the request body is {content_type or 'untyped'}; send it as application/json "
                                   "(or application/<type>+json)")
    _set_json_media_type(event)
    if event.get("isBase64Encoded"):
        return  # binary JSON is not something our clients send: the resolver answers it 400
    value = _parse(body)
    depth_and_nul(value)


def _parse(body: str) -> Any:
    try:
        return json.loads(body, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise errors.ValidationFailed(f"the request body nests too deeply; at most {MAX_DEPTH} levels are allowed") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or abs(value := int(text)) > MAX_INT:
        shown = text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"
        raise errors.ValidationFailed(f"the number {shown} is out of range; integers must lie within ±{MAX_INT}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"
        raise errors.ValidationFailed(f"the number {shown} is out of range; numbers must be finite doubles")
    return value


def _no_constant(text: str) -> Any:
    raise errors.ValidationFailed(f"{text} is not a JSON number; send a finite number")


def depth_and_nul(value: Any) -> None:
    """Walks the document without recursion: too deep, or a NUL in any key or string, is refused."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul()
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise errors.ValidationFailed(f"the request body nests too deeply; at most {MAX_DEPTH} levels are allowed")
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        else:
            stack.extend((v, depth + 1) for v in item)


class BadRequest(errors.HelpdeskError):
    """A body that is not JSON at all (HTTP 400)."""

    code = "bad_request"


def _nul() -> errors.ValidationFailed:
    return errors.ValidationFailed("text must not contain NUL characters (\\u0000): they cannot be stored")


def _media_type(event: dict[str, Any]) -> str:
    value = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "content-type"), None) or JSON
    return str(value).split(";")[0].strip().lower()


def _set_json_media_type(event: dict[str, Any]) -> None:
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if not headers:
            continue
        for name in [k for k in headers if k.lower() == "content-type"]:
            del headers[name]
        headers["Content-Type"] = [JSON] if key == "multiValueHeaders" else JSON

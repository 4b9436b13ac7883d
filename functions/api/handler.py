"""Lambda entry point of the REST API (API Gateway REST proxy events; the local stack calls it too)."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from helpdesk import errors, wiring
from helpdesk.db.client import API_GATEWAY_SECONDS

if __package__:
    from . import problems
    from .app import allow_chat_origins, build_app
else:  # Lambda: this directory is the code root
    import problems  # type: ignore[no-redef]
    from app import allow_chat_origins, build_app  # type: ignore[no-redef]

logger = Logger(service="api")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="api")
app = build_app()
# API Gateway accepts 10 MB, Lambda 6 MB; our largest body (100,000 chars, JSON-escaped) stays under 4 MiB.
MAX_REQUEST_BYTES = 4 * 1_048_576


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return allow_chat_origins(event, _answer(event, context))


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context, at_most=API_GATEWAY_SECONDS)
    body = event.get("body") or ""
    if len(body) > MAX_REQUEST_BYTES:
        response = problems.from_domain(
            errors.PayloadTooLarge(f"the request body is {len(body)} bytes; at most {MAX_REQUEST_BYTES} are accepted"),
            event.get("path"))
        return _plain(response)
    if _has_nul(event):
        response = problems.from_domain(errors.ValidationFailed(
            "text must not contain NUL characters (\\u0000): they cannot be stored"), event.get("path"))
        return _plain(response)
    if body and not _is_json(event):
        response = problems.problem(415, "Unsupported media type", "send the request body as application/json",
                                    code="unsupported_media_type", instance=event.get("path"))
        return _plain(response)
    return app.resolve(event, context)


def _has_nul(event: dict[str, Any]) -> bool:
    """PostgreSQL text cannot hold U+0000; refuse it here rather than fail in the database."""
    if "\x00" in (event.get("path") or "") or any(
            "\x00" in str(v) for v in (event.get("queryStringParameters") or {}).values()):
        return True
    body = event.get("body") or ""
    if "\\u0000" not in body or event.get("isBase64Encoded"):
        return False
    try:
        return _contains_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: answered 400 by the resolver


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _is_json(event: dict[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _plain(response: Any) -> dict[str, Any]:
    headers = {k: (v if isinstance(v, str) else ", ".join(v)) for k, v in response.headers.items()}
    return {"statusCode": response.status_code, "headers": headers,
            "body": response.body, "isBase64Encoded": False}

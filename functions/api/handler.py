"""Lambda entry point of the REST API (API Gateway REST proxy events; the local stack calls it too)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from helpdesk import errors

if __package__:
    from . import problems
    from .app import build_app
else:  # Lambda: this directory is the code root
    import problems  # type: ignore[no-redef]
    from app import build_app  # type: ignore[no-redef]

logger = Logger(service="api")
app = build_app()
# API Gateway accepts 10 MB; nothing we take is near 1 MiB (bodies are capped at 100,000 chars).
MAX_REQUEST_BYTES = 1_048_576


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    if len(body) > MAX_REQUEST_BYTES:
        response = problems.from_domain(
            errors.PayloadTooLarge(f"the request body is {len(body)} bytes; at most {MAX_REQUEST_BYTES} are accepted"),
            event.get("path"))
        return _plain(response)
    return app.resolve(event, context)


def _plain(response: Any) -> dict[str, Any]:
    headers = {k: (v if isinstance(v, str) else ", ".join(v)) for k, v in response.headers.items()}
    return {"statusCode": response.status_code, "headers": headers,
            "body": response.body, "isBase64Encoded": False}

"""Lambda entry point of the REST API (API Gateway REST proxy events; the local stack calls it too)."""
from __future__ import annotations

import random
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from helpdesk import errors, wiring
from helpdesk.db.client import API_GATEWAY_SECONDS
from helpdesk.snapstart import register_after_restore, register_before_snapshot

if __package__:
    from . import body, problems
    from .app import allow_chat_origins, build_app, prime
else:  # Lambda: this directory is the code root
    import body  # type: ignore[no-redef]
    import problems  # type: ignore[no-redef]
    from app import allow_chat_origins, build_app, prime  # type: ignore[no-redef]

logger = Logger(service="api")
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="api")
app = build_app()
# SnapStart (infra/workers.py): the snapshot carries a primed API, so a restored environment's first
# request costs about what a warm one does. Every environment resumes from one snapshot: reseed, or
# all would draw the same retry jitter.
register_before_snapshot(prime, app)
register_after_restore(random.seed)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return allow_chat_origins(event, _answer(event, context))


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    wiring.bind_invocation(context, at_most=API_GATEWAY_SECONDS)
    try:
        body.check(event)  # before routing: no route may answer 500 on a hostile body
    except errors.HelpdeskError as exc:
        return _plain(problems.from_domain(exc, event.get("path")))
    return app.resolve(event, context)


def _plain(response: Any) -> dict[str, Any]:
    headers = {k: (v if isinstance(v, str) else ", ".join(v)) for k, v in response.headers.items()}
    return {"statusCode": response.status_code, "headers": headers,
            "body": response.body, "isBase64Encoded": False}

"""The ONE place domain errors become HTTP answers: application/problem+json (RFC 9457).

Every answer carries type, title, status, detail and instance (the request path), plus the extra
members a client needs to act: merged_into (410), from/to/allowed (422 transition), errors (422
validation), retry_after (429, also as the Retry-After header), reason and expired_at (a signed link
refused: 403 link_malformed/link_old_format/link_unknown_key/link_bad_signature, 410 link_expired)."""
from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.event_handler import Response

from helpdesk import errors
from helpdesk.auth import Unauthenticated
from helpdesk.auth.signing import LinkExpired, LinkRefused
from helpdesk.auth.uploads import NotConfigured

if __package__:
    from .body import BadRequest, UnsupportedMediaType
else:  # Lambda: this directory is the code root
    from body import BadRequest, UnsupportedMediaType  # type: ignore[no-redef]

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://helpdesk.dev/problems/"

# Most specific first: the first isinstance match decides.
STATUS_BY_ERROR: list[tuple[type[Exception], int, str]] = [
    (BadRequest, 400, "Bad request"),
    (UnsupportedMediaType, 415, "Unsupported media type"),
    (Unauthenticated, 401, "Unauthorized"),
    (LinkExpired, 410, "Link expired"),
    (LinkRefused, 403, "Link not valid"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.NotFound, 404, "Not Found"),
    (errors.Gone, 410, "Gone"),
    (errors.InvalidTransition, 422, "Invalid status transition"),
    (errors.ValidationFailed, 422, "Validation failed"),
    (errors.PayloadTooLarge, 413, "Payload too large"),
    (errors.RateLimited, 429, "Too many requests"),
    (NotConfigured, 503, "Not configured"),
    (errors.UniqueViolation, 409, "Conflict"),
    (errors.Conflict, 409, "Conflict"),
    (errors.CheckViolation, 422, "Validation failed"),
    (errors.ForeignKeyViolation, 422, "Validation failed"),
    (errors.SerializationFailure, 503, "Busy, retry"),
    (errors.DatabaseUnavailable, 503, "Service unavailable"),
    (errors.DatabaseError, 500, "Internal error"),
]
# Transient trouble or a deployment gap, not the caller's fault: 503 with Retry-After (seconds). Matched by
# code because these classes live in modules the API imports only when a route uses them.
# A database that did not answer in time (resuming from a pause, a timeout, a failover): by then the
# cluster is usually back. The client has already retried until the invocation's deadline.
DATABASE_RETRY_AFTER_SECONDS = 5  # also for other AWS services that did not answer
RETRY_LATER_BY_CODE: dict[str, int] = {
    "mail_storage_unavailable": 30,  # helpdesk.intake.email.s3.MailStorageUnavailable (quarantine release)
}


def problem(status: int, title: str, detail: str, *, code: str, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(status, PROBLEM_JSON, json.dumps(body, default=str), headers=headers or {})


def from_domain(exc: errors.HelpdeskError, instance: str | None = None) -> Response:
    if exc.code in RETRY_LATER_BY_CODE:
        return problem(503, "Service unavailable", exc.detail, code=exc.code, instance=instance,
                       headers={"Retry-After": str(RETRY_LATER_BY_CODE[exc.code])})
    for cls, status, title in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            break
    else:
        status, title = 500, "Internal error"
    extra = dict(exc.extra)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
    if status == 429:
        headers["Retry-After"] = str(int(extra.get("retry_after") or 1))
    if isinstance(exc, errors.DatabaseError):
        # SQL details stay in the logs; the caller gets what it can act on.
        log.error("database error %s: %s", exc.code, exc.detail)
        if status == 503:
            headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        if isinstance(exc, errors.OutcomeUnknown):
            return problem(status, title, "the database did not confirm the change, which may have been applied: "
                           "check before repeating it, or repeat it with the same Idempotency-Key",
                           code=exc.code, instance=instance, headers=headers)
        if status >= 500:
            return problem(status, title, "the database could not complete the request; retry later",
                           code=exc.code, instance=instance, headers=headers)
        extra = {}
        detail = exc.detail.split("\n")[0][:300]
        return problem(status, title, detail, code=exc.code, instance=instance, headers=headers)
    extra.pop("followup", None)
    return problem(status, title, exc.detail, code=exc.code, instance=instance, headers=headers, **extra)


def from_request_validation(errs: list[dict[str, Any]], instance: str | None = None) -> Response:
    """Powertools' pydantic errors: malformed JSON is 400, everything else 422 naming each field."""
    if any(e.get("type") == "json_invalid" for e in errs):
        return problem(400, "Bad request", "the request body is not valid JSON", code="bad_request", instance=instance)
    clean = []
    for e in errs:
        loc = [str(p) for p in e.get("loc", ())]
        clean.append({"loc": loc, "msg": e.get("msg", ""), "type": e.get("type", "")})
    detail = "; ".join(f"{'.'.join(c['loc']) or 'body'}: {c['msg']}" for c in clean)
    return problem(422, "Validation failed", detail, code="validation_failed", instance=instance, errors=clean)


def missing_module(exc: ModuleNotFoundError, instance: str | None = None) -> Response:
    """A route whose domain module is not deployed yet (another team's work in progress)."""
    return problem(501, "Not implemented", f"this feature is not available yet (module {exc.name} is missing)",
                   code="not_implemented", instance=instance)


def unreachable(exc: Exception, instance: str | None = None) -> Response:
    """An AWS call (S3, SES, ...) that got no answer in time: transient, so 503 and when to retry, not a 500."""
    log.error("no answer from an AWS service: %s", exc)
    return problem(503, "Service unavailable", "a service this request needs did not answer in time; retry later",
                   code="upstream_unavailable", instance=instance,
                   headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def internal(instance: str | None = None) -> Response:
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged", code="internal",
                   instance=instance)

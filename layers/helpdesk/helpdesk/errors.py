"""Domain errors. Handlers map them to HTTP in one place (functions/api/problems.py)."""
from __future__ import annotations

from typing import Any


class HelpdeskError(Exception):
    """Base of every error the domain raises on purpose. `detail` is safe to show to the caller."""

    code = "error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(HelpdeskError):
    """Bad input: names what was wrong and what is allowed. Nothing was changed."""

    code = "validation_failed"


class NotFound(HelpdeskError):
    code = "not_found"


class Gone(HelpdeskError):
    """The resource was merged away; `extra['merged_into']` names where it went."""

    code = "gone"


class Conflict(HelpdeskError):
    """A concurrent change won, or a uniqueness rule was hit."""

    code = "conflict"


class InvalidTransition(HelpdeskError):
    """A status change not in the state machine table. extra: from, to, allowed."""

    code = "invalid_transition"


class Forbidden(HelpdeskError):
    code = "forbidden"


class RateLimited(HelpdeskError):
    """extra: retry_after (seconds)."""

    code = "rate_limited"


class PayloadTooLarge(HelpdeskError):
    code = "payload_too_large"


# Database-level errors, mapped from SQLSTATE by helpdesk.db.client.
class DatabaseError(HelpdeskError):
    code = "database_error"

    def __init__(self, detail: str, sqlstate: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.sqlstate = sqlstate


class UniqueViolation(DatabaseError):
    code = "unique_violation"


class SerializationFailure(DatabaseError):
    """40001 / 40P01: the statement may be retried as a whole."""

    code = "serialization_failure"


class CheckViolation(DatabaseError):
    code = "check_violation"


class ForeignKeyViolation(DatabaseError):
    code = "foreign_key_violation"


class DatabaseUnavailable(DatabaseError):
    """The database stayed unavailable (resuming or throttled) after bounded retries."""

    code = "database_unavailable"


class OutcomeUnknown(DatabaseUnavailable):
    """A write got no answer (a timeout, a dropped connection, a 5xx after it was sent): it may or may
    not have been applied, so it is not sent again. The caller checks, or repeats it with the same
    Idempotency-Key."""

    code = "outcome_unknown"

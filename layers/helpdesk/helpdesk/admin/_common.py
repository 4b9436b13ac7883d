"""What the admin services share: PATCH parameters (sent vs left out) and mapping rule violations."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from helpdesk import errors
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import _Input

NOT_NULL = {"name", "assignment_mode", "role", "skills", "capacity", "is_active", "team_ids", "title", "body", "tags",
            "is_published"}


def patch_params(patch: _Input, fields: tuple[str, ...]) -> dict[str, Any]:
    sent = patch.model_fields_set
    params: dict[str, Any] = {}
    for f in fields:
        value = getattr(patch, f)
        if f in sent and value is None and f in NOT_NULL:
            raise errors.ValidationFailed(f"{f} cannot be null; leave it out to keep the current value")
        params[f"set_{f}"] = f in sent
        params[f] = [str(x) for x in value] if isinstance(value, list) and f == "team_ids" else value
    return params


def sent(data: BaseModel, *, leave_out: set[str] | None = None) -> dict[str, Any]:
    """What the caller sent (the fields set, as JSON; `leave_out`: bulky fields such as an article's body):
    the admin audit trail's record of a change."""
    return data.model_dump(mode="json", exclude_unset=True, exclude=leave_out)


def write(db: DataApi, statement: str, params: dict[str, Any], what: str) -> dict[str, Any] | None:
    try:
        row = db.query_one(statement, params)
    except errors.UniqueViolation as exc:
        raise errors.Conflict(f"{what} already exists ({exc.extra.get('constraint') or 'unique'})") from exc
    except errors.ForeignKeyViolation as exc:
        raise errors.ValidationFailed(f"{what}: unknown reference ({exc.detail})") from exc
    except errors.CheckViolation as exc:
        raise errors.ValidationFailed(f"{what}: {exc.detail}") from exc
    return row["doc"] if row else None

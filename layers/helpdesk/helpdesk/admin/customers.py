"""Customers as agents look them up (by address or its prefix)."""
from __future__ import annotations

import uuid
from typing import Any

from helpdesk import errors
from helpdesk.db import admin as sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import display_email, normalize_email


class Customers:
    def __init__(self, db: DataApi) -> None:
        self.db = db

    def find(self, *, email: str | None = None, prefix: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        if email is None and not prefix:
            raise errors.ValidationFailed("give email (exact) or q (the beginning of an email address)")
        if email is not None:
            try:
                email = normalize_email(email)
            except ValueError as exc:
                raise errors.ValidationFailed(f"email: {exc}") from None
        if prefix is not None:
            prefix = prefix.strip().lower().replace("%", "").replace("_", r"\_")
            if len(prefix) < 2:
                raise errors.ValidationFailed("q needs at least 2 characters")
        rows = self.db.query(sql.FIND_CUSTOMERS, {"email": email, "prefix": prefix, "limit": max(1, min(limit, 100))})
        return [_with_display_email(r["doc"]) for r in rows]

    def get(self, customer_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_CUSTOMER, {"id": customer_id})
        if row is None:
            raise errors.NotFound(f"customer {customer_id} not found")
        return _with_display_email(row["doc"])


def _with_display_email(doc: dict[str, Any]) -> dict[str, Any]:
    """email is stored with an ASCII (IDNA) domain for matching; email_display is what people read."""
    if isinstance(doc.get("email"), str):
        doc["email_display"] = display_email(doc["email"])
    return doc

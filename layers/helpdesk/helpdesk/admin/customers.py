"""Customers as agents look them up (by address or its prefix), and their own terms: a tier and an
SLA contract (null: inherit the organization's), and the organization they belong to."""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import patch_params, sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import admin as sql
from helpdesk.db import organizations as terms_sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import Tier, _Input, display_email, normalize_email


class CustomerPatch(_Input):
    name: str | None = Field(default=None, max_length=200)
    tier: Tier | None = Field(default=None, description="the customer's own tier; null: inherit the organization's")
    sla_policy_id: uuid.UUID | None = Field(default=None, description="the customer's own SLA contract; null: inherit")
    organization_id: uuid.UUID | None = Field(default=None, description="null: no organization")


class Customers:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db, self.clock = db, clock or SystemClock()

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
        row = self.db.query_one(terms_sql.GET_CUSTOMER_TERMS, {"id": customer_id})
        if row is None:
            raise errors.NotFound(f"customer {customer_id} not found")
        return _with_display_email(row["doc"])

    def update(self, customer_id: uuid.UUID, data: CustomerPatch | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The customer's new terms, recorded in the admin audit trail as `by`'s change in the same statement."""
        patch = data if isinstance(data, CustomerPatch) else CustomerPatch.parse(data)
        params = patch_params(patch, ("name", "tier", "sla_policy_id", "organization_id"))
        try:
            row = self.db.query_one(terms_sql.UPDATE_CUSTOMER, {**params, "id": customer_id, "now": self.clock.now(),
                                                                "audit": audit.entry(by, "update", "customer", sent(patch))})
        except errors.ForeignKeyViolation as exc:
            field = "organization_id" if "organization" in str(exc.extra.get("constraint") or exc.detail) else "sla_policy_id"
            msg = f"{field}: {params[field]} does not exist"
            raise errors.ValidationFailed(msg, errors=[{"loc": [field], "msg": msg}]) from exc
        if row is None:
            raise errors.NotFound(f"customer {customer_id} not found")
        return _with_display_email(row["doc"])


def _with_display_email(doc: dict[str, Any]) -> dict[str, Any]:
    """email is stored with an ASCII (IDNA) domain for matching; email_display is what people read."""
    if isinstance(doc.get("email"), str):
        doc["email_display"] = display_email(doc["email"])
    return doc

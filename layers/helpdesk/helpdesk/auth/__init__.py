"""Who is calling: claims (Cognito authorizer in AWS, locally signed tokens) -> a Principal with a role.

Roles are ordered agent < lead < admin; a route names the least role it needs. The token only says
the user belongs to the help desk (one of its groups); the ROLE comes from the agent record, read at
request time, so a demoted lead loses lead routes within RECORD_TTL_SECONDS. The agent record is found
by the token's immutable `sub` (bound on the first sign-in with a verified email equal to the agent's
address), never by the email claim alone. The lookup is cached a few seconds per warm process."""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk import errors
from helpdesk.db import admin as admin_sql
from helpdesk.db.client import DataApi

ROLES: tuple[str, ...] = ("agent", "lead", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}


class Unauthenticated(errors.HelpdeskError):
    """No or unusable credentials (HTTP 401)."""

    code = "unauthenticated"


@dataclass(frozen=True)
class Claims:
    sub: str
    email: str
    groups: tuple[str, ...]
    email_verified: bool = False


@dataclass(frozen=True)
class Principal:
    email: str
    role: str
    agent_id: uuid.UUID | None
    name: str | None = None
    sub: str | None = None

    def has_role(self, least: str) -> bool:
        return _RANK[self.role] >= _RANK[least]

    def require(self, least: str) -> "Principal":
        if least not in _RANK:
            raise ValueError(f"unknown role {least!r}")
        if not self.has_role(least):
            raise errors.Forbidden(f"this needs role {least} or higher; you are {self.role}")
        return self

    def require_agent(self) -> uuid.UUID:
        if self.agent_id is None:
            raise errors.Forbidden(f"{self.email} has no active agent record: an admin must add them (POST /api/v1/agents)")
        return self.agent_id


def parse_claims(claims: Mapping[str, Any] | None) -> Claims:
    """The authorizer's claims -> Claims. Groups come as a list, a comma-separated string, or
    Cognito's "[a b]" rendering of a list through API Gateway."""
    if not claims:
        raise Unauthenticated("sign in: no credentials were presented")
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        raise Unauthenticated("the credentials carry no email claim")
    sub = str(claims.get("sub") or "").strip()
    if not sub:
        raise Unauthenticated("the credentials carry no sub claim")
    raw = claims.get("cognito:groups") or ""
    if isinstance(raw, str):
        parts = raw.strip().strip("[]").replace(",", " ").split()
    else:
        parts = [str(g) for g in raw]
    groups = tuple(g.strip().lower() for g in parts if g.strip())
    # API Gateway passes Cognito's claims as strings ("true"); other issuers may send a boolean.
    verified = str(claims.get("email_verified") or "").strip().lower() == "true"
    return Claims(sub=sub, email=email, groups=groups, email_verified=verified)


def role_of(groups: tuple[str, ...]) -> str | None:
    known = [g for g in groups if g in _RANK]
    return max(known, key=_RANK.__getitem__) if known else None


MAX_CACHED = 10_000
RECORD_TTL_SECONDS = 5.0  # how long a role change (demotion, deactivation) may take to apply


class PrincipalResolver:
    """Claims -> Principal, with a short per-process cache of the agent lookup."""

    def __init__(self, ttl_seconds: float = RECORD_TTL_SECONDS, monotonic=time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str, bool], tuple[float, dict[str, Any] | None]] = {}

    def clear(self) -> None:
        self._cache.clear()

    def resolve(self, db: DataApi, claims: Mapping[str, Any] | None) -> Principal:
        parsed = parse_claims(claims)
        token_role = role_of(parsed.groups)
        if token_role is None:
            raise errors.Forbidden(f"{parsed.email} is in no helpdesk group; one of {', '.join(ROLES)} is needed")
        now = self._monotonic()
        key = (parsed.sub, parsed.email, parsed.email_verified)
        hit = self._cache.get(key)
        if hit is None or now - hit[0] > self.ttl:
            row = db.query_one(admin_sql.AGENT_BY_SUB, {"sub": parsed.sub})
            if row is None and parsed.email_verified:  # a first sign-in: one more call, once per user
                row = db.query_one(admin_sql.BIND_AGENT_IDENTITY, {"sub": parsed.sub, "email": parsed.email})
            hit = (now, row)
            if len(self._cache) >= MAX_CACHED:  # bounded: unknown identities are cached too
                self._cache.clear()
            self._cache[key] = hit
        row = hit[1]
        if row is None or not row["is_active"]:
            # An admin of the user pool may sign in before having an agent record (to create the first ones).
            if token_role != "admin" or row is not None:
                raise errors.Forbidden(f"{parsed.email} is not an active agent of this help desk")
            return Principal(parsed.email, token_role, None, None, parsed.sub)
        return Principal(parsed.email, row["role"], uuid.UUID(row["id"]), row["name"], parsed.sub)


DEFAULT_RESOLVER = PrincipalResolver()

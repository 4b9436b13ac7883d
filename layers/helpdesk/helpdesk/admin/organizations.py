"""Organizations: customers grouped by their email domain, with a tier and an SLA contract (a policy
that overrides the ordered match) that their members inherit unless they have their own.

A new customer joins the organization of its domain (or of a parent domain: eu.acme.com joins the
organization of acme.com unless eu.acme.com is listed itself) whichever channel creates it: the
insert trigger of migration 1200. Adding a domain also brings in the customers of that domain who
belong to no organization yet. Public mail domains never form organizations: thousands of unrelated
people share gmail.com."""
from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import Field, field_validator

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import patch_params, sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import organizations as sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import Tier, _Input

MAX_DOMAINS = 100
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

# Mailbox providers whose addresses belong to individuals, not to one company (the big international
# ones and the large national ones); a domain listed here, or a subdomain of one, is refused.
PUBLIC_MAIL_DOMAINS = frozenset("""
gmail.com googlemail.com google.com outlook.com outlook.fr outlook.de outlook.es outlook.it hotmail.com hotmail.co.uk
hotmail.fr hotmail.de hotmail.es hotmail.it live.com live.co.uk live.fr live.de live.it live.nl msn.com passport.com
yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it yahoo.co.jp yahoo.com.br yahoo.co.in yahoo.com.au ymail.com
rocketmail.com aol.com aim.com icloud.com me.com mac.com proton.me protonmail.com protonmail.ch pm.me tutanota.com
tutanota.de tuta.io tutamail.com fastmail.com fastmail.fm hey.com zoho.com zohomail.com mail.com email.com gmx.com
gmx.net gmx.de gmx.at gmx.ch web.de t-online.de freenet.de posteo.de mailbox.org orange.fr wanadoo.fr free.fr sfr.fr
laposte.net libero.it virgilio.it tiscali.it alice.it bluewin.ch seznam.cz wp.pl o2.pl onet.pl interia.pl yandex.ru
yandex.com ya.ru mail.ru bk.ru list.ru inbox.ru rambler.ru ukr.net qq.com foxmail.com 163.com 126.com yeah.net sina.com
sohu.com aliyun.com naver.com daum.net hanmail.net kakao.com rediffmail.com comcast.net verizon.net att.net sbcglobal.net
bellsouth.net cox.net charter.net earthlink.net optonline.net btinternet.com sky.com virginmedia.com ntlworld.com
talktalk.net shaw.ca rogers.com sympatico.ca telus.net bigpond.com optusnet.com.au xtra.co.nz uol.com.br bol.com.br
terra.com.br hushmail.com inbox.com lycos.com
""".split())


def check_domain(value: str) -> str:
    """A domain as stored: lower case, ASCII (IDNA), not a public mail domain."""
    domain = value.strip().lower().rstrip(".")
    domain = domain[1:] if domain.startswith("@") else domain
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{value!r} is not a valid international domain name") from None
    if not _DOMAIN.match(domain):
        raise ValueError(f"{value!r} is not a domain (expected e.g. acme.com, without the user part)")
    labels = domain.split(".")
    if any(".".join(labels[i:]) in PUBLIC_MAIL_DOMAINS for i in range(len(labels) - 1)):
        raise ValueError(f"{domain} is a public mail domain: its addresses belong to unrelated people, "
                         "so it cannot group customers into an organization")
    return domain


def _domains(v: list[str] | None) -> list[str] | None:
    return None if v is None else list(dict.fromkeys(check_domain(d) for d in v))


class OrganizationIn(_Input):
    name: str = Field(min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list, max_length=MAX_DOMAINS)
    tier: Tier | None = Field(default=None, description="members' tier unless they have their own; null: standard")
    sla_policy_id: uuid.UUID | None = Field(default=None, description="the SLA contract members inherit")

    _d = field_validator("domains")(classmethod(lambda cls, v: _domains(v)))
    _n = field_validator("name")(classmethod(lambda cls, v: _name(v)))


class OrganizationPatch(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    domains: list[str] | None = Field(default=None, max_length=MAX_DOMAINS)
    tier: Tier | None = None
    sla_policy_id: uuid.UUID | None = None

    _d = field_validator("domains")(classmethod(lambda cls, v: _domains(v)))
    _n = field_validator("name")(classmethod(lambda cls, v: None if v is None else _name(v)))


def _name(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be blank")
    return v.strip()


class Organizations:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: OrganizationIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new organization, recorded in the admin audit trail as `by`'s change in the same statement."""
        org = data if isinstance(data, OrganizationIn) else OrganizationIn.parse(data)
        return self._write(sql.CREATE_ORGANIZATION, {**org.model_dump(), "now": self.clock.now(),
                                                     "audit": audit.entry(by, "create", "organization", sent(org))},
                           org.domains)

    def list(self, *, q: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = q.strip().lower().replace("%", "").replace("_", r"\_") if q else None
        return [r["doc"] for r in self.db.query(sql.LIST_ORGANIZATIONS, {"q": q or None, "limit": max(1, min(limit, 500))})]

    def get(self, org_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_ORGANIZATION, {"id": org_id})
        if row is None:
            raise errors.NotFound(f"organization {org_id} not found")
        return row["doc"]

    def update(self, org_id: uuid.UUID, data: OrganizationPatch | dict[str, Any], by: Principal) -> dict[str, Any]:
        patch = data if isinstance(data, OrganizationPatch) else OrganizationPatch.parse(data)
        params = patch_params(patch, ("name", "domains", "tier", "sla_policy_id"))
        if params["domains"] is None:
            if params["set_domains"]:
                raise errors.ValidationFailed("domains cannot be null; send [] for none",
                                              errors=[{"loc": ["domains"], "msg": "send [] for none"}])
            params["domains"] = []
        doc = self._write(sql.UPDATE_ORGANIZATION, {**params, "id": org_id, "now": self.clock.now(),
                                                    "audit": audit.entry(by, "update", "organization", sent(patch))},
                          params["domains"])
        if doc is None:
            raise errors.NotFound(f"organization {org_id} not found")
        return doc

    def delete(self, org_id: uuid.UUID, by: Principal) -> dict[str, Any]:
        row = self.db.query_one(sql.DELETE_ORGANIZATION, {"id": org_id, "now": self.clock.now(),
                                                          "audit": audit.entry(by, "delete", "organization")})
        if row is None:
            raise errors.NotFound(f"organization {org_id} not found")
        return {"id": row["id"], "members_released": row["members"]}

    def members(self, org_id: uuid.UUID, *, after: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        self.get(org_id)  # 404 for an unknown organization rather than an empty list
        return [r["doc"] for r in self.db.query(sql.LIST_MEMBERS, {"id": org_id, "after": after, "limit": limit})]

    def suggestions(self, *, min_customers: int = 2, limit: int = 50) -> list[dict[str, Any]]:
        """Domains of customers in no organization, with how many: candidates an admin may turn into
        organizations (public mail domains never are)."""
        rows = self.db.query(sql.SUGGEST_ORGANIZATIONS, {"public": sorted(PUBLIC_MAIL_DOMAINS), "min_customers": min_customers,
                                                         "limit": limit * 2})
        out = []
        for row in rows:
            try:
                check_domain(row["domain"])
            except ValueError:
                continue  # a public provider's subdomain, or not a domain we could list
            out.append({"domain": row["domain"], "customers": row["customers"]})
        return out[:limit]

    def _write(self, statement: str, params: dict[str, Any], domains: list[str]) -> dict[str, Any] | None:
        """Rule violations name the field they concern, so the console shows them next to it."""
        try:
            row = self.db.query_one(statement, params)
        except errors.UniqueViolation as exc:
            constraint = str(exc.extra.get("constraint") or exc.detail)
            if "domain" in constraint:
                taken = self._taken(domains, params.get("id"))
                msg = f"{', '.join(taken) or 'a domain'} already belongs to another organization"
                raise errors.Conflict(msg, errors=[{"loc": ["domains"], "msg": msg}]) from exc
            msg = f"an organization named {params.get('name')!r} already exists"
            raise errors.Conflict(msg, errors=[{"loc": ["name"], "msg": msg}]) from exc
        except errors.ForeignKeyViolation as exc:
            msg = f"SLA policy {params.get('sla_policy_id')} does not exist"
            raise errors.ValidationFailed(msg, errors=[{"loc": ["sla_policy_id"], "msg": msg}]) from exc
        return row["doc"] if row else None

    def _taken(self, domains: list[str], org_id: Any) -> list[str]:
        rows = self.db.query(sql.DOMAINS_TAKEN, {"domains": domains, "id": org_id})
        return [f"{r['domain']} ({r['name']})" for r in rows]

"""Mail templates per team and agents' signatures (issue 19 item 8): admins write a team's
acknowledgement, reply footer, solved and satisfaction-survey mails; a team without one gets the
default (helpdesk.outbound.templates, which also checks them). An agent sets their own signature;
an admin anyone's. 1 Data API call per operation."""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import sent, write
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import templates as sql
from helpdesk.db.client import DataApi
from helpdesk.outbound import templates
from helpdesk.tickets.models import _Input


class TemplateIn(_Input):
    subject: str | None = Field(default=None, min_length=1, max_length=templates.MAX_SUBJECT)
    body_text: str = Field(min_length=1, max_length=templates.MAX_TEXT)
    body_html: str | None = Field(default=None, min_length=1, max_length=templates.MAX_HTML)


class SignatureIn(_Input):
    body_text: str = Field(min_length=1, max_length=templates.MAX_SIGNATURE)


def _shown(kind: str, stored: dict[str, Any] | None) -> dict[str, Any]:
    default = templates.DEFAULTS[kind]
    base = {"kind": kind, "placeholders": list(templates.PLACEHOLDERS[kind]),
            "has_subject": kind in ("acknowledgement", "solved")}
    if stored:
        return {**base, **stored, "is_default": False}
    return {**base, "subject": default.subject, "body_text": default.body_text, "body_html": default.body_html,
            "updated_at": None, "updated_by": None, "is_default": True}


class MailTemplates:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def list(self, team_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every kind, the team's own or the default (`is_default`), with the placeholders it may use."""
        row = self.db.query_one(sql.TEAM_TEMPLATES, {"team_id": team_id})
        if not row or not row["team_exists"]:
            raise errors.NotFound(f"team {team_id} not found")
        return [_shown(kind, row["templates"].get(kind)) for kind in templates.KINDS]

    def put(self, team_id: uuid.UUID, kind: str, data: TemplateIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The team's own template of this kind (updated by `by`), recorded in the admin audit trail in the
        same statement."""
        body = data if isinstance(data, TemplateIn) else TemplateIn.parse(data)
        templates.check_template(kind, body.subject, body.body_text, body.body_html)
        try:
            doc = write(self.db, sql.PUT_TEMPLATE, {
                **body.model_dump(), "team_id": team_id, "kind": kind, "now": self.clock.now(), "agent_id": by.agent_id,
                "audit": audit.entry(by, "update", "mail_template", sent(body))}, "mail template")
        except errors.ValidationFailed as exc:
            if "unknown reference" in exc.detail:
                raise errors.NotFound(f"team {team_id} not found") from None
            raise
        assert doc is not None
        return _shown(kind, doc)

    def reset(self, team_id: uuid.UUID, kind: str, by: Principal) -> None:
        """Back to the default; NotFound when the team had no template of this kind."""
        templates.check_template(kind, None, "x", None)
        if self.db.query_one(sql.DELETE_TEMPLATE, {"team_id": team_id, "kind": kind, "now": self.clock.now(),
                                                   "audit": audit.entry(by, "delete", "mail_template")}) is None:
            raise errors.NotFound(f"team {team_id} has no {kind} template of its own (it uses the default)")

    def signature(self, agent_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(sql.GET_SIGNATURE, {"agent_id": agent_id})
        if row is None:
            raise errors.NotFound(f"agent {agent_id} not found")
        return row

    def put_signature(self, agent_id: uuid.UUID, data: SignatureIn | dict[str, Any]) -> dict[str, Any]:
        body = data if isinstance(data, SignatureIn) else SignatureIn.parse(data)
        text = templates.check_signature(body.body_text)
        try:
            return self.db.query_one(sql.PUT_SIGNATURE, {"agent_id": agent_id, "body_text": text, "now": self.clock.now()})
        except errors.ForeignKeyViolation:
            raise errors.NotFound(f"agent {agent_id} not found") from None

    def delete_signature(self, agent_id: uuid.UUID) -> None:
        if self.db.query_one(sql.DELETE_SIGNATURE, {"agent_id": agent_id}) is None:
            raise errors.NotFound(f"agent {agent_id} has no signature")

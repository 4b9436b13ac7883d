"""The admin audit trail: every change of a setting (teams, agents, schedules, SLA policies, routing
rules, knowledge base, Slack channels, quarantine, customers, organizations, triggers, mail templates) with who made it and
what they sent. Ticket changes have their own trail (ticket_audit, written by the ticket commands).

A change is recorded by the statement that makes it: the service takes the admin (`by`), passes
`entry(...)` to its statement, which calls the SQL function write_admin_audit (migration 1257) from a CTE
its final SELECT reads: one call, and a change is never left unrecorded (teams, agents, out-of-office,
schedules, SLA policies, routing rules, KB articles, organizations, customers' terms, triggers, mail
templates, Slack channels, deleting quarantined mail). What is still recorded by a call of its own after
the change (`AdminAudit.record`, the same function): an agent's invitation (its only database write is
the audit row; the change is in Cognito) and releasing quarantined mail (the email intake's statements)."""
from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic_core import to_jsonable_python

from helpdesk import errors
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import admin_audit as sql
from helpdesk.db.client import DataApi

Action = Literal["create", "update", "delete", "release", "invite"]
Resource = Literal["team", "agent", "out_of_office", "schedule", "sla_policy", "routing_rule", "kb_article",
                   "slack_channel", "quarantine", "customer", "organization", "trigger", "mail_template"]
RESOURCES: tuple[str, ...] = get_args(Resource)
MAX_PAGE = 200


def entry(who: Principal, action: Action, resource: str, data: Any = None) -> dict[str, Any]:
    """An admin change's audit entry, the `:audit` parameter of a statement that records it itself
    (write_admin_audit adds when and the id of the row written): who made it and what they sent."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown audited resource {resource!r}")
    return {"actor_id": None if who.agent_id is None else str(who.agent_id), "actor_email": who.email,
            "actor_role": who.role, "action": action, "resource": resource,
            "data": to_jsonable_python(data if data is not None else {})}


class AdminAudit:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def record(self, who: Principal, action: Action, resource: str, resource_id: Any, data: Any = None) -> None:
        """Record a change already made (one more call; see the module's doc)."""
        self.db.execute(sql.RECORD_CHANGE, {
            "entry": entry(who, action, resource, data), "now": self.clock.now(),
            "resource_id": None if resource_id is None else str(resource_id)})

    def list(self, *, resource: str | None = None, resource_id: str | None = None, actor_id: Any = None,
             before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if resource is not None and resource not in RESOURCES:
            raise errors.ValidationFailed(f"resource {resource!r} is not audited; one of {', '.join(RESOURCES)}",
                                          errors=[{"loc": ["resource"], "msg": f"one of {', '.join(RESOURCES)}"}])
        if not 1 <= limit <= MAX_PAGE:
            raise errors.ValidationFailed(f"limit must be 1..{MAX_PAGE}")
        return self.db.query(sql.LIST_CHANGES, {"resource": resource, "resource_id": resource_id, "actor_id": actor_id,
                                                "before": before, "limit": limit})

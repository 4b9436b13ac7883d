"""Routing rules -> team (and tags to add: `add_tags`). Ordered by position (then creation), first match wins; conditions on channel,
recipient address, keywords in subject or body, customer tier, tags and priority (models.RuleConditions).

Default team (the design): a rule with no conditions matches everything, so a catch-all rule placed
last is the usual default; when no rule matches at all, the team flagged `is_default` takes the
ticket; with neither, the ticket has no team (it shows in the unrouted view).
"""
from __future__ import annotations

import uuid
from typing import Any

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import routing as sql
from helpdesk.db.client import DataApi
from helpdesk.routing import config as routing_config
from helpdesk.routing.config import RoutingConfig
from helpdesk.routing.matching import tags_after
from helpdesk.routing.models import Intake, Rule, RuleIn, RuleUpdate


def _rule_id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed(f"{value!r} is not a routing rule id (expected a UUID)") from None


class RoutingRules:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def list(self) -> list[Rule]:
        """Every rule (active or not) in evaluation order."""
        return [Rule.model_validate(r) for r in self.db.query(sql.LIST_RULES)]

    def get(self, rule_id: uuid.UUID | str) -> Rule:
        row = self.db.query_one(sql.GET_RULE, {"id": _rule_id(rule_id)})
        if row is None:
            raise errors.NotFound(f"routing rule {rule_id} not found")
        return Rule.model_validate(row)

    def create(self, data: RuleIn | dict[str, Any], by: Principal) -> Rule:
        """The new rule, recorded in the admin audit trail as `by`'s change in the same statement."""
        rule = data if isinstance(data, RuleIn) else RuleIn.parse(data)
        row = self._write(sql.INSERT_RULE, {
            "name": rule.name, "position": rule.position, "is_active": rule.is_active,
            "conditions": rule.conditions.model_dump(), "team_id": rule.team_id, "add_tags": rule.add_tags,
            "now": self.clock.now(), "audit": audit.entry(by, "create", "routing_rule", sent(rule)),
        }, name=rule.name, team_id=rule.team_id)
        return Rule.model_validate(row)

    def update(self, rule_id: uuid.UUID | str, data: RuleUpdate | dict[str, Any], by: Principal) -> Rule:
        """The changed rule, recorded in the admin audit trail as `by`'s change in the same statement."""
        change = data if isinstance(data, RuleUpdate) else RuleUpdate.parse(data)
        row = self._write(sql.UPDATE_RULE, {
            "id": _rule_id(rule_id), "name": change.name, "position": change.position, "is_active": change.is_active,
            "conditions": change.conditions.model_dump() if change.conditions is not None else None,
            "team_id": change.team_id, "add_tags": change.add_tags, "now": self.clock.now(),
            "audit": audit.entry(by, "update", "routing_rule", sent(change)),
        }, name=change.name, team_id=change.team_id)
        if row is None:
            raise errors.NotFound(f"routing rule {rule_id} not found")
        return Rule.model_validate(row)

    def delete(self, rule_id: uuid.UUID | str, by: Principal) -> None:
        row = self.db.query_one(sql.DELETE_RULE, {"id": _rule_id(rule_id), "now": self.clock.now(),
                                                  "audit": audit.entry(by, "delete", "routing_rule")})
        routing_config.invalidate(self.db)
        if row is None:
            raise errors.NotFound(f"routing rule {rule_id} not found")

    def dry_run(self, intake: Intake | dict[str, Any]) -> dict[str, Any]:
        """Which rule (and team) an intake would get, from the current rules (not the cache).
        {"rule": Rule|None, "team_id": UUID|None, "matched_by": "rule"|"default_team"|None, "tier": str,
         "tags": the intake's tags with the rule's add_tags}.
        Calls: 1, +1 when the tier must be looked up from requester_email."""
        intake = intake if isinstance(intake, Intake) else Intake.parse(intake)
        if intake.tier is None:
            tier = "standard"
            if intake.requester_email:
                row = self.db.query_one(sql.CUSTOMER_TIER, {"email": intake.requester_email})
                tier = row["tier"] if row else "standard"
            intake = intake.model_copy(update={"tier": tier})
        config = RoutingConfig.load(self.db)
        rule, team_id = config.route(intake)
        return {"rule": rule, "team_id": team_id,
                "matched_by": "rule" if rule else ("default_team" if team_id else None), "tier": intake.tier,
                "tags": tags_after(intake.tags, rule)}

    def _write(self, statement: str, params: dict[str, Any], *, name: str | None, team_id: uuid.UUID | None) -> Any:
        try:
            row = self.db.query_one(statement, params)
        except errors.UniqueViolation as exc:
            raise errors.Conflict(f"a routing rule named {name!r} already exists; rule names are unique") from exc
        except errors.ForeignKeyViolation as exc:
            raise errors.ValidationFailed(f"team_id: team {team_id} does not exist") from exc
        routing_config.invalidate(self.db)
        return row

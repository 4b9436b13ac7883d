"""The admin's triggers (create, list, change, delete), the active set the engine evaluates (kept per
process for TTL_SECONDS, like routing's configuration), and the dry run.

Staleness is bounded by TTL_SECONDS: a trigger changed through another process is seen by the engine
within that time; a change made through Triggers in this process is seen at once (it invalidates).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import sent
from helpdesk.auth import Principal
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import triggers as sql
from helpdesk.db.client import DataApi
from helpdesk.db.per_database import PerDatabase
from helpdesk.tickets.models import parse_ticket_ref
from helpdesk.triggers import evaluate
from helpdesk.triggers.context import load_context
from helpdesk.triggers.models import (TRIGGER_EVENTS, Trigger, TriggerDefinition, TriggerIn, TriggerUpdate,
                                      dump_definition)

TTL_SECONDS = 30.0
# One page of the active set stays well under the Data API's 1 MiB response.
PAGE_BYTES = 800_000


def trigger_id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed(f"{value!r} is not a trigger id (expected a UUID)") from None


# -- the active set -------------------------------------------------------------------------------
@dataclass
class ActiveTriggers:
    triggers: tuple[Trigger, ...]
    loaded_at: float = field(default_factory=time.monotonic)
    calls: int = 0  # Data API calls the load took

    @classmethod
    def load(cls, db: DataApi) -> "ActiveTriggers":
        """Every active trigger in order: one call per ~800 KB of definitions (one for any realistic set)."""
        found: list[Trigger] = []
        after: tuple[int, str] | None = None
        calls = 0
        while True:
            rows = db.query(sql.ACTIVE_TRIGGERS_PAGE, {
                "after_position": after[0] if after else None, "after_name": after[1] if after else None,
                "max_bytes": PAGE_BYTES})
            calls += 1
            found.extend(Trigger.model_validate(r) for r in rows)
            if not rows or len(rows) >= int(rows[0]["remaining"]):
                return cls(tuple(found), calls=calls)
            after = (int(rows[-1]["position"]), str(rows[-1]["name"]))

    def on(self, event: str) -> list[Trigger]:
        return [t for t in self.triggers if event in t.events]


_cache: PerDatabase[ActiveTriggers] = PerDatabase(ActiveTriggers.load)


def active_triggers(db: DataApi, *, max_age: float = TTL_SECONDS) -> ActiveTriggers:
    """The cached active set for this DataApi (one per process in Lambda), reloaded when older than max_age."""
    return _cache.get(db, max_age=max_age)


def invalidate(db: DataApi | None = None) -> None:
    _cache.invalidate(db)


# -- the admin's triggers -------------------------------------------------------------------------
class Triggers:
    def __init__(self, db: DataApi, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def list(self) -> list[Trigger]:
        """Every trigger (active or not) in evaluation order."""
        return [Trigger.model_validate(r) for r in self.db.query(sql.LIST_TRIGGERS)]

    def get(self, id_: uuid.UUID | str) -> Trigger:
        row = self.db.query_one(sql.GET_TRIGGER, {"id": trigger_id(id_)})
        if row is None:
            raise errors.NotFound(f"trigger {id_} not found")
        return Trigger.model_validate(row)

    def create(self, data: TriggerIn | dict[str, Any], by: Principal) -> Trigger:
        """The new trigger (created by `by`), recorded in the admin audit trail in the same statement."""
        new = data if isinstance(data, TriggerIn) else TriggerIn.parse(data)
        definition = dump_definition(new)
        row = self._write(sql.INSERT_TRIGGER, {
            "name": new.name, "description": new.description, "position": new.position, "is_active": new.is_active,
            **definition, "actor_id": by.agent_id, "now": self.clock.now(),
            "audit": audit.entry(by, "create", "trigger", sent(new))}, name=new.name)
        return Trigger.model_validate(row)

    def update(self, id_: uuid.UUID | str, data: TriggerUpdate | dict[str, Any], by: Principal) -> Trigger:
        """The changed trigger (updated by `by`), recorded in the admin audit trail in the same statement."""
        change = data if isinstance(data, TriggerUpdate) else TriggerUpdate.parse(data)
        given = change.model_dump(mode="json", exclude_unset=True)
        for key in ("name", "position", "is_active", "events", "conditions", "actions"):
            if key in given and given[key] is None:
                raise errors.ValidationFailed(f"{key}: may not be null (leave it out to keep it)")
        row = self._write(sql.UPDATE_TRIGGER, {
            "id": trigger_id(id_), "name": given.get("name"), "description": given.get("description"),
            "clear_description": "description" in given and given["description"] is None,
            "position": given.get("position"), "is_active": given.get("is_active"), "events": given.get("events"),
            "conditions": given.get("conditions"), "actions": given.get("actions"), "actor_id": by.agent_id,
            "now": self.clock.now(), "audit": audit.entry(by, "update", "trigger", given)}, name=change.name)
        if row is None:
            raise errors.NotFound(f"trigger {id_} not found")
        return Trigger.model_validate(row)

    def delete(self, id_: uuid.UUID | str, by: Principal) -> None:
        row = self.db.query_one(sql.DELETE_TRIGGER, {"id": trigger_id(id_), "now": self.clock.now(),
                                                     "audit": audit.entry(by, "delete", "trigger")})
        invalidate(self.db)
        if row is None:
            raise errors.NotFound(f"trigger {id_} not found")

    def firings(self, id_: uuid.UUID | str, *, limit: int = 50) -> list[dict[str, Any]]:
        """The trigger's latest firings (what each did), newest first."""
        if not 1 <= limit <= 200:
            raise errors.ValidationFailed(f"limit must be between 1 and 200, got {limit}")
        self.get(id_)
        return self.db.query(sql.RECENT_FIRINGS, {"trigger_id": trigger_id(id_), "limit": limit})

    def dry_run(self, ticket_ref: str | uuid.UUID, event: str, *,
                draft: TriggerDefinition | dict[str, Any] | None = None) -> dict[str, Any]:
        """What would fire on `event` for this ticket now, and what each would do; changes nothing.
        From the stored active triggers (read fresh, not the engine's copy), or only `draft` when given
        (a trigger being written). Calls: 2 (the ticket, the triggers), 1 with a draft."""
        if event not in TRIGGER_EVENTS:
            raise errors.ValidationFailed(f"event {event!r} is unknown; allowed: {', '.join(TRIGGER_EVENTS)}")
        kind, value = ("id", ticket_ref) if isinstance(ticket_ref, uuid.UUID) else parse_ticket_ref(str(ticket_ref))
        if draft is not None:
            draft = draft if isinstance(draft, TriggerDefinition) else TriggerIn.parse(draft)
            candidates: list[TriggerDefinition] = [draft.model_copy(update={"is_active": True})]
        else:
            candidates = list(ActiveTriggers.load(self.db).triggers)
        context = load_context(self.db, ticket_id=value if kind == "id" else None,
                               number=value if kind == "number" else None)
        if context is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        now = self.clock.now()
        result = evaluate.plan(candidates, context.facts, event, now, explain=True)
        return {
            "ticket_id": context.facts.id, "ticket_ref": f"TKT-{context.facts.number}", "event": event, "evaluated_at": now.isoformat(),
            "triggers": [{
                "id": str(getattr(d.trigger, "id", None) or "") or None, "name": d.trigger.name, "fires": d.fires,
                "unmet_conditions": d.unmet,
                "actions": [{"action": a.action.model_dump(mode="json"), "effect": a.effect, "refused": a.refused}
                            for a in d.actions],
            } for d in result.decisions],
            "ticket_after": {"status": result.facts.status, "priority": result.facts.priority,
                             "tags": list(result.facts.tags), "team_id": result.facts.team_id,
                             "assignee_id": result.facts.assignee_id},
        }

    def _write(self, statement: str, params: dict[str, Any], *, name: str | None) -> Any:
        try:
            row = self.db.query_one(statement, params)
        except errors.UniqueViolation as exc:
            raise errors.Conflict(f"a trigger named {name!r} already exists; trigger names are unique") from exc
        invalidate(self.db)
        return row

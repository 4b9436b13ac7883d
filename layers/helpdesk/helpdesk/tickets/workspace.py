"""What the agent workspace's ticket page does beyond the core commands: apply a macro,
reply without crossing an unseen message, presence, the activity log and the customer panel.

Calls: apply_macro is ONE statement (+ the usual follow-up that publishes the
events and fills SLA deadlines, helpdesk.tickets.commands); presence, activity and the customer
panel are one read each. A reply refused because of newer messages costs one more read (those messages).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.db import macros as macro_sql
from helpdesk.db import presence as presence_sql
from helpdesk.db import ticket_context as context_sql
from helpdesk.db.tickets import reads as ticket_reads
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import MAX_TAG, MAX_TAGS, PRIORITIES, Actor, Message, Ticket, parse_ticket_ref

# How long an HTTP heartbeat counts (the fallback while push is disconnected): the page beats every
# 15 s (web/js/presence.js HEARTBEAT_MS), so 30 s rides out one miss.
PRESENCE_SECONDS = 30
ACTIVITIES = ("viewing", "replying")
ACTIVITY_LIMIT = 200
PANEL_LIMIT = 10
# The placeholders macro_render (migration 1180) fills; a test checks the two agree.
PLACEHOLDERS = {
    "requester.name": "the requester's name (else the part of their address before @)",
    "requester.first_name": "the first word of the requester's name",
    "ticket.ref": "the ticket's reference, e.g. TKT-42",
    "agent.name": "the name of the agent applying the macro",
}
MACRO_STATUSES = ("in_progress", "waiting_on_customer", "resolved")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def normalize_tags(tags: list[str], what: str) -> list[str]:
    """Tags as the tickets store them (lower case, each once, in order; the rule of
    TicketCommands.change_tags); a clear error names a bad one."""
    out: list[str] = []
    for tag in tags:
        value = tag.strip().lower() if isinstance(tag, str) else ""
        if not 1 <= len(value) <= MAX_TAG:
            raise errors.ValidationFailed(f"{what}: {tag!r} is not a tag; a tag is 1 to {MAX_TAG} characters")
        if value not in out:
            out.append(value)
    return out


def check_tag_change(add: list[str], remove: list[str]) -> tuple[list[str], list[str]]:
    """A tag edit from the ticket page: something to do, and no tag both added and removed."""
    add, remove = normalize_tags(add, "add"), normalize_tags(remove, "remove")
    if not add and not remove:
        raise errors.ValidationFailed("name tags to add or to remove")
    both = sorted(set(add) & set(remove))
    if both:
        raise errors.ValidationFailed(f"a tag cannot be both added and removed: {', '.join(both)}")
    return add, remove


def check_placeholders(body: str) -> None:
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(body) if m.group(1) not in PLACEHOLDERS}
                     | {m.group(0) for m in _PLACEHOLDER.finditer(body) if m.group(0) != "{{" + m.group(1) + "}}"})
    if unknown:
        allowed = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
        raise errors.ValidationFailed(f"unknown placeholder(s) {', '.join(unknown)} in the macro body; allowed: {allowed}",
                                      allowed=list(PLACEHOLDERS))


def _ticket_key(ticket_ref: str | uuid.UUID) -> dict[str, Any]:
    kind, value = ("id", ticket_ref) if isinstance(ticket_ref, uuid.UUID) else parse_ticket_ref(str(ticket_ref))
    return {"id": value if kind == "id" else None, "number": value if kind == "number" else None}


def _found(row: dict[str, Any] | None, ticket_ref: Any) -> dict[str, Any]:
    """The row of a read keyed by ticket: 404 when there is none, 410 (with where it went) when merged."""
    if row is None:
        raise errors.NotFound(f"ticket {ticket_ref} not found")
    if row["status"] == "merged":
        raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=str(row["merged_into_id"]))
    return row


@dataclass
class Presence:
    ticket_id: str
    others: list[dict[str, Any]]


class WorkspaceCommands(TicketCommands):
    # -- replying without crossing a newer message ---------------------------------------------
    def reply(self, ticket_ref: str | uuid.UUID, data: dict[str, Any], actor: Actor, *,
              seen_position: int | None, confirmed: bool) -> CommandResult:
        """add_message, refused with 409 (reason newer_messages, carrying those messages) when the ticket
        has a message newer than seen_position, unless the agent confirmed sending anyway."""
        try:
            return self.add_message(ticket_ref, data, actor, seen_position=None if confirmed else seen_position)
        except errors.Conflict as exc:
            if exc.extra.get("reason") != "newer_messages":
                raise
            ticket_id = exc.extra["ticket_id"]
        raise self._newer_messages(ticket_ref, uuid.UUID(ticket_id), int(seen_position or 0))

    def _newer_messages(self, ticket_ref: Any, ticket_id: uuid.UUID, seen_position: int) -> errors.Conflict:
        rows = self.db.query(ticket_reads.LIST_MESSAGES, {"ticket_id": ticket_id, "include_internal": True,
                                                            "before": None, "limit": 20,
                                                            "preview_chars": ticket_reads.MESSAGE_PREVIEW_CHARS})
        newer = sorted((r["doc"] for r in rows if int(r["doc"]["position"]) > seen_position), key=lambda m: m["position"])
        return errors.Conflict(
            f"ticket {ticket_ref} has {len(newer) or 'a'} new message(s) since your draft began; read them, then send "
            "again with confirm_newer: true to send anyway", reason="newer_messages", newer_messages=newer)

    # -- macros ------------------------------------------------------------------------------
    def apply_macro(self, ticket_ref: str | uuid.UUID, macro_id: uuid.UUID, actor: Actor, *,
                    seen_position: int | None = None, confirmed: bool = False) -> CommandResult:
        agent_id = actor.id
        if actor.type != "agent" or agent_id is None:
            raise errors.ValidationFailed("a macro is applied by an agent")
        ticket_id = self._resolve_id(ticket_ref)
        row = self.db.execute(macro_sql.APPLY_MACRO, {
            "ticket_id": ticket_id, "macro_id": macro_id, "agent_id": agent_id, "max_tags": MAX_TAGS,
            "seen_position": seen_position, "confirmed": confirmed, "now": self.clock.now(),
            "actor_type": actor.type, "actor_id": actor.id}).first()
        if row is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        if row["current_status"] == "merged":
            raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=str(row["merged_into_id"]))
        if not row["macro_found"]:
            raise errors.NotFound(f"macro {macro_id} not found (or it is another agent's personal macro)")
        refused = row["refused"]
        if refused == "newer_messages":
            raise self._newer_messages(ticket_ref, ticket_id, int(seen_position or 0))
        if refused == "status":
            frm, to = row["assigned_status"], row["wanted_status"]
            from helpdesk.tickets import states

            allowed = states.allowed_next(frm)
            raise errors.InvalidTransition(
                f"the macro sets {to}, which a ticket cannot reach from {row['current_status']} in one step"
                + (f" (after assigning it is {frm})" if frm != row["current_status"] else "")
                + f"; allowed from {frm}: {', '.join(allowed) or 'none'}",
                **{"from": row["current_status"], "to": to, "allowed": allowed})
        if refused:
            raise errors.ValidationFailed(f"the macro cannot be applied to ticket {ticket_ref}: {refused}")
        result = self._finish(row)
        if row["message"]:
            result.message = Message.model_validate({**row["message"], "body": ""})
        return result


class Macros:
    """Saved replies: an agent's own and the shared ones (leads and admins manage the shared)."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db, self.clock = db, clock

    def list(self, agent_id: uuid.UUID, limit: int = 500) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.db.query(macro_sql.LIST_MACROS, {"agent_id": agent_id, "limit": limit})]

    def get(self, macro_id: uuid.UUID, agent_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(macro_sql.GET_MACRO, {"macro_id": macro_id})
        doc = row["doc"] if row else None
        if doc is None or (doc["owner_agent_id"] is not None and doc["owner_agent_id"] != str(agent_id)):
            raise errors.NotFound(f"macro {macro_id} not found (or it is another agent's personal macro)")
        return doc

    def _check(self, doc: dict[str, Any]) -> dict[str, Any]:
        body = doc.get("body")
        if body is not None:
            if not body.strip():
                raise errors.ValidationFailed("body: write the reply text, or leave body out (null) for a macro that only sets fields")
            check_placeholders(body)
        if doc.get("set_status") is not None and doc["set_status"] not in MACRO_STATUSES:
            raise errors.ValidationFailed(f"set_status {doc['set_status']!r}: a macro may set {', '.join(MACRO_STATUSES)}")
        if doc.get("set_priority") is not None and doc["set_priority"] not in PRIORITIES:
            raise errors.ValidationFailed(f"set_priority {doc['set_priority']!r}: allowed {', '.join(PRIORITIES)}")
        add, remove = normalize_tags(doc.get("add_tags") or [], "add_tags"), normalize_tags(doc.get("remove_tags") or [], "remove_tags")
        if len(add) > MAX_TAGS or len(remove) > MAX_TAGS:
            raise errors.ValidationFailed(f"a macro adds or removes at most {MAX_TAGS} tags")
        if set(add) & set(remove):
            raise errors.ValidationFailed(f"a tag cannot be both added and removed: {', '.join(sorted(set(add) & set(remove)))}")
        if doc.get("assign_to_me") and doc.get("assign_agent_id"):
            raise errors.ValidationFailed("choose assign_to_me or assign_agent_id, not both")
        if not (body or doc.get("set_status") or doc.get("set_priority") or add or remove or doc.get("assign_to_me")
                or doc.get("assign_agent_id")):
            raise errors.ValidationFailed("a macro must do something: a body, a status, a priority, tags or an assignee")
        return {**doc, "add_tags": add, "remove_tags": remove, "assign_to_me": bool(doc.get("assign_to_me"))}

    @staticmethod
    def _may_manage(doc: dict[str, Any], who: Any) -> None:
        if doc.get("owner_agent_id") is None and who.role not in ("lead", "admin"):
            raise errors.Forbidden("shared macros are managed by leads and admins; make a personal macro instead")

    def create(self, doc: dict[str, Any], who: Any) -> dict[str, Any]:
        agent_id = who.require_agent()
        shared = bool(doc.pop("shared", False))
        doc = self._check({**doc, "owner_agent_id": None if shared else str(agent_id)})
        self._may_manage(doc, who)
        try:
            row = self.db.execute(macro_sql.CREATE_MACRO, {**self._params(doc), "owner_agent_id": doc["owner_agent_id"],
                                                            "created_by": agent_id, "now": self.clock.now()}).one()
        except errors.UniqueViolation:
            raise errors.Conflict(f"a {'shared' if shared else 'personal'} macro named {doc['name']!r} already exists") from None
        except errors.ForeignKeyViolation:
            raise errors.ValidationFailed(f"assign_agent_id {doc.get('assign_agent_id')}: no such agent") from None
        return row["doc"]

    def update(self, macro_id: uuid.UUID, changes: dict[str, Any], who: Any) -> dict[str, Any]:
        stored = self.get(macro_id, who.require_agent())
        self._may_manage(stored, who)
        doc = self._check({**stored, **changes})
        try:
            row = self.db.execute(macro_sql.UPDATE_MACRO, {**self._params(doc), "macro_id": macro_id,
                                                            "expected_updated_at": stored["updated_at"],
                                                            "now": self.clock.now()}).first()
        except errors.UniqueViolation:
            raise errors.Conflict(f"a macro named {doc['name']!r} already exists") from None
        except errors.ForeignKeyViolation:
            raise errors.ValidationFailed(f"assign_agent_id {doc.get('assign_agent_id')}: no such agent") from None
        if row is None:
            raise errors.Conflict("the macro changed meanwhile; reload it and try again")
        return row["doc"]

    def delete(self, macro_id: uuid.UUID, who: Any) -> None:
        stored = self.get(macro_id, who.require_agent())
        self._may_manage(stored, who)
        self.db.execute(macro_sql.DELETE_MACRO, {"macro_id": macro_id})

    def preview(self, ticket_ref: str | uuid.UUID, macro_id: uuid.UUID, agent_id: uuid.UUID) -> dict[str, Any]:
        macro = self.get(macro_id, agent_id)
        ticket_id = TicketCommands(self.db, self.clock)._resolve_id(ticket_ref)
        row = self.db.query_one(macro_sql.PREVIEW_MACRO, {"macro_id": macro_id, "ticket_id": ticket_id, "agent_id": agent_id})
        if row is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        return {**macro, "rendered_body": row["body"]}

    @staticmethod
    def _params(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: doc.get(k) for k in ("name", "body", "visibility", "set_status", "set_priority", "add_tags",
                                        "remove_tags", "assign_to_me", "assign_agent_id")}


# -- reads for the ticket page -----------------------------------------------------------------
def heartbeat(db: Any, clock: Any, ticket_ref: str | uuid.UUID, agent_id: uuid.UUID, activity: str) -> Presence:
    if activity not in ACTIVITIES:
        raise errors.ValidationFailed(f"activity {activity!r}: allowed {', '.join(ACTIVITIES)}")
    now = clock.now()
    row = db.execute(presence_sql.HEARTBEAT, {**_ticket_key(ticket_ref), "agent_id": agent_id, "activity": activity,
                                               "now": now, "since": now - timedelta(seconds=PRESENCE_SECONDS)}).first()
    row = _found(row, ticket_ref)
    return Presence(str(row["ticket_id"]), row["others"] or [])


def leave(db: Any, ticket_ref: str | uuid.UUID, agent_id: uuid.UUID) -> None:
    db.execute(presence_sql.LEAVE, {**_ticket_key(ticket_ref), "agent_id": agent_id}, idempotent=True)


def activity(db: Any, ticket_ref: str | uuid.UUID, limit: int = ACTIVITY_LIMIT) -> list[dict[str, Any]]:
    row = _found(db.query_one(context_sql.ACTIVITY, {**_ticket_key(ticket_ref), "limit": limit}), ticket_ref)
    return row["items"] or []


def customer_panel(db: Any, ticket_ref: str | uuid.UUID, limit: int = PANEL_LIMIT) -> dict[str, Any]:
    row = _found(db.query_one(context_sql.CUSTOMER_PANEL, {**_ticket_key(ticket_ref), "limit": limit}), ticket_ref)
    return {"requester": row["requester"], "open_tickets": row["open_tickets"] or [],
            "recent_tickets": row["recent_tickets"] or [], "related": row["related"] or []}

"""The ticket commands. Each runs one atomic statement (helpdesk.db.tickets), then a follow-up that
publishes the events it wrote and fills SLA deadlines computed in business time.

Data API calls per command: 1 for the change itself, +1 for the follow-up when it has events to
acknowledge or deadlines to fill. Reads are 1 call.

Exactly: the follow-up runs only when the publisher accepted at least one event (the default
DeferredPublisher accepts none: the relay publishes) or the statement started/resumed/restarted an
SLA clock whose deadline it could not write itself. create_ticket computes the new clocks' deadlines
before its statement from the process's copy of the SLA policies (helpdesk.sla.cache), so a create
under a policy is 1 call once that copy exists (the first create under a policy in a process, a
contract-policy customer, or a policy/schedule changed since the copy was read: 2, as before). A
customer message that starts the next-reply clock is predicted the same way (add_message). Resumed,
reopened and re-timed clocks (a reply to a waiting or resolved ticket, a reopen, a priority change)
still take the follow-up: their remaining time or target comes from the stored clock. A "TKT-n" reference on a write costs one
more call to resolve it (pass the UUID to avoid it); get_ticket resolves TKT-n inside its single read.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db.tickets import changes, conversation, create, followup, reads, tags
from helpdesk.db.client import DataApi, Row
from helpdesk.events.publisher import DeferredPublisher, Publisher
from helpdesk.sla import cache as sla_cache
from helpdesk.sla.deadlines import deadline_for
from helpdesk.tickets import states
from helpdesk.tickets.models import MAX_TAG, MAX_TAGS, TIERS, Actor, Message, NewMessage, NewTicket, Ticket, parse_ticket_ref

log = logging.getLogger(__name__)
MAX_PAGE = 100
# assignments.reason values (the CHECK in 0001_core.sql).
ASSIGNMENT_REASONS = ("manual", "pushed", "pulled", "round_robin", "vacation_handover", "reopened", "unassigned",
                      "backfill", "escalation", "routed")
# Statuses from which a ticket may be (re)assigned to an agent, or moved to another team's queue.
ASSIGNABLE = ("new", "assigned", "in_progress", "waiting_on_customer", "reopened")
TEAM_MOVABLE = ("new", "assigned", "reopened")


@dataclass
class CommandResult:
    ticket: Ticket | None
    events: list[dict[str, Any]] = field(default_factory=list)
    message: Message | None = None
    replayed: bool = False
    # Set by receive_customer_message when the message opened a follow-up ticket of this (closed) one.
    followup_of: uuid.UUID | None = None


@dataclass
class TicketView:
    ticket: dict[str, Any]
    messages: list[dict[str, Any]]


def read_message_text(db: DataApi, message_id: uuid.UUID | str, text: str, chars: int) -> str:
    """A message text too long for one Data API row (body, body_full or body_html), read in slices:
    1 call per 15,000 characters."""
    pieces = []
    for start in range(1, chars + 1, reads.MESSAGE_TEXT_SLICE_CHARS):
        row = db.query_one(reads.MESSAGE_TEXT_SLICE, {"message_id": message_id, "text": text, "start": start,
                                                    "length": reads.MESSAGE_TEXT_SLICE_CHARS})
        pieces.append((row or {}).get("piece") or "")
    return "".join(pieces)


def quoted_part(body: str, full: str | None) -> str | None:
    """What the whole mail holds below its new text (quoted history, forwarded mails), or None."""
    if not full:
        return None
    new = (body or "").strip()
    at = full.find(new) if new else -1
    rest = full[at + len(new):] if at >= 0 else full
    return rest.strip("\n") or None


class TicketCommands:
    def __init__(self, db: DataApi, clock: Clock | None = None, publisher: Publisher | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.publisher = publisher or DeferredPublisher()

    # -- create ------------------------------------------------------------------------------
    def create_ticket(self, data: NewTicket | dict[str, Any], actor: Actor | None = None,
                      idempotency_key: str | None = None, idempotency_scope: str = "api", *,
                      routing: dict[str, Any] | None = None) -> CommandResult:
        """`routing` (from helpdesk.routing.intake.open_ticket; channels call that, not this) maps each
        customer tier to {"team_id", "on_shift"}: the statement picks the team by the requester's tier
        and push-assigns inside the same statement (0 extra calls)."""
        new = data if isinstance(data, NewTicket) else NewTicket.parse(data)
        actor = actor or Actor(type="customer")
        request_hash = hashlib.sha256(new.model_dump_json().encode()).hexdigest()
        now = self.clock.now()
        params = {
            "ticket_id": uuid.uuid4(),
            "now": now,
            "requester_email": new.requester_email,
            "requester_name": new.requester_name,
            "subject": new.subject,
            "priority": new.priority,
            "channel": new.channel,
            "team_id": new.team_id,
            "route": routing,
            "sla_plan": self._sla_plan(new, routing, now),
            "tags": list(new.tags),
            "parent_ticket_id": new.parent_ticket_id,
            "possible_followup_of": new.possible_followup_of,
            "channel_thread_id": new.channel_thread_id,
            "body": new.body,
            "body_full": new.body_full,
            "body_html": new.body_html,
            "inbound_message_id": new.inbound_message_id,
            "attachments": list(new.attachments),
            "metadata": dict(new.metadata),
            "participants": list(new.participants),
            "idem_scope": idempotency_scope,
            "idem_key": idempotency_key,
            "idem_hash": request_hash,
            "actor_type": actor.type,
            "actor_id": actor.id,
        }
        try:
            row = self.db.execute(create.CREATE_TICKET, params).one()
        except errors.UniqueViolation as exc:
            constraint = exc.extra.get("constraint") or ""
            if idempotency_key and constraint.startswith("idempotency_keys"):
                return self._replay(idempotency_scope, idempotency_key, request_hash)
            if new.inbound_message_id and "inbound_message_id" in constraint or constraint == "email_message_ids_pkey":
                return self._already_received(new.inbound_message_id)
            if constraint == "tickets_channel_thread":
                raise errors.Conflict(f"a ticket for {new.channel} thread {new.channel_thread_id!r} already exists") from exc
            raise
        except errors.ForeignKeyViolation as exc:
            raise errors.ValidationFailed(f"unknown reference: {exc.detail}") from exc
        stale = bool(row.get("sla_stale"))
        if stale and not row.get("pending_sla"):
            # Out of date (it predicted a policy that no longer matches) and no follow-up to refresh it:
            # drop the copy until a create's follow-up refills it.
            sla_cache.invalidate(self.db)
        return self._finish(row, load_sla_config=stale or sla_cache.needs_refresh(self.db))

    def _sla_plan(self, new: NewTicket, routing: dict[str, Any] | None, now: Any) -> dict[str, Any] | None:
        """Per tier, the predicted SLA policy and its deadlines at `now` (helpdesk.sla.cache), or None."""
        config = sla_cache.cached(self.db)
        if config is None or not config.policies:
            return None
        given = str(new.team_id) if new.team_id else None
        # The statement's team per tier: the routing plan's choice, else the given team_id.
        teams = {tier: (routing[tier].get("team_id") if routing and tier in routing else given)
                 for tier in TIERS}
        try:
            return config.plan(priority=new.priority, channel=new.channel, teams=teams, now=now) or None
        except Exception:  # noqa: BLE001 - a prediction is an optimisation: the follow-up computes them
            log.exception("SLA deadline prediction failed; the follow-up will compute them")
            return None

    def _next_reply_plan(self, now: Any) -> dict[str, Any] | None:
        """The next-reply deadlines a customer message may start, per policy and schedule copy (helpdesk.sla.cache)."""
        config = sla_cache.cached(self.db)
        if config is None:
            return None
        try:
            return config.next_reply_plan(now)
        except Exception:  # noqa: BLE001 - a prediction is an optimisation: the follow-up computes it
            log.exception("next-reply deadline prediction failed; the follow-up will compute it")
            return None

    def _replay(self, scope: str, key: str, request_hash: str) -> CommandResult:
        row = self.db.query_one(create.IDEMPOTENT_REPLAY, {"idem_scope": scope, "idem_key": key})
        if row is None:  # the winner rolled back after we collided: let the client retry
            raise errors.Conflict(f"a request with Idempotency-Key {key!r} is in flight; retry")
        if row["request_hash"] != request_hash:
            raise errors.Conflict(f"Idempotency-Key {key!r} was already used with a different request body")
        return CommandResult(Ticket.model_validate(row["ticket"]), replayed=True)

    def _already_received(self, inbound_message_id: str | None) -> CommandResult:
        row = self.db.query_one(create.TICKET_BY_INBOUND_MESSAGE_ID, {"inbound_message_id": inbound_message_id})
        return CommandResult(Ticket.model_validate(row["ticket"]) if row else None, replayed=True)

    # -- messages ----------------------------------------------------------------------------
    def add_message(self, ticket_ref: str | uuid.UUID, data: NewMessage | dict[str, Any], actor: Actor,
                    *, follow_merged: bool = False, seen_position: int | None = None) -> CommandResult:
        """seen_position: the last message the author saw; with it, the message is refused (Conflict,
        reason newer_messages) when the ticket has a newer one, so a reply cannot cross one unseen."""
        new = data if isinstance(data, NewMessage) else NewMessage.parse(data)
        if new.author_type == "agent" and new.author_agent_id is None:
            raise errors.ValidationFailed("an agent message needs author_agent_id")
        ticket_id = self._resolve_id(ticket_ref)
        now = self.clock.now()
        next_reply_plan = self._next_reply_plan(now) if new.author_type == "customer" else None
        for _ in range(3):  # at most a couple of merge hops
            params = {
                "ticket_id": ticket_id,
                "now": now,
                "reopen_after": now - timedelta(days=states.REOPEN_WINDOW_DAYS),
                "author_type": new.author_type,
                "author_email": new.author_email,
                "author_agent_id": new.author_agent_id,
                "visibility": new.visibility,
                "channel": new.channel,
                "body": new.body,
                "body_full": new.body_full,
                "body_html": new.body_html,
                "inbound_message_id": new.inbound_message_id,
                "attachments": list(new.attachments),
                "metadata": dict(new.metadata),
                "actor_type": actor.type,
                "actor_id": actor.id,
                "next_reply_plan": next_reply_plan,
                "seen_position": seen_position,
            }
            try:
                row = self.db.execute(conversation.ADD_MESSAGE, params).first()
            except errors.UniqueViolation as exc:
                if new.inbound_message_id:
                    return self._already_received(new.inbound_message_id)
                raise exc
            if row is None:
                raise errors.NotFound(f"ticket {ticket_ref} not found")
            if row["ticket"] is not None:
                result = self._finish(row)
                # The statement returns the message without its texts (row limit): they are what we sent.
                result.message = Message.model_validate(
                    {**row["message"], "body": new.body, "body_full": new.body_full, "body_html": new.body_html})
                return result
            if row["current_status"] == "merged":
                if not follow_merged:
                    raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=str(row["merged_into_id"]))
                ticket_id = row["merged_into_id"]
                continue
            if row["current_status"] == "closed":
                raise errors.Conflict(
                    f"ticket {ticket_ref} closed more than {states.REOPEN_WINDOW_DAYS} days ago; a new follow-up ticket is needed",
                    closed_at=str(row["closed_at"]), reason="reopen_window_passed", ticket_id=str(ticket_id),
                    followup={"parent_ticket_id": str(ticket_id), "subject": row.get("subject"),
                              "priority": row.get("priority"), "channel": row.get("ticket_channel"),
                              "team_id": row.get("team_id"), "requester_email": row.get("requester_email")},
                )
            if seen_position is not None:
                raise errors.Conflict(f"ticket {ticket_ref} has messages newer than the one you last saw; read them first",
                                      reason="newer_messages", ticket_id=str(ticket_id), seen_position=seen_position)
            raise errors.Conflict(f"ticket {ticket_ref} did not accept the message (status {row['current_status']})")
        raise errors.Conflict(f"ticket {ticket_ref}: merge chain too long")

    def receive_customer_message(self, ticket_ref: str | uuid.UUID, data: NewMessage | dict[str, Any],
                                 actor: Actor | None = None) -> CommandResult:
        """A customer wrote about an existing ticket (a threaded email, a portal reply).

        Applies DESIGN's customer-message rules: added to the ticket (resuming waiting_on_customer or
        resolved, reopening a ticket closed within 7 days; merged tickets are followed to their
        target); when the ticket was closed longer ago, a NEW ticket is created with
        `parent_ticket_id` pointing at the old one (`CommandResult.followup_of` says so). Calls: 1 (+1
        follow-up publish/SLA statement), or 2 (+1) when a follow-up ticket is created.
        """
        new = data if isinstance(data, NewMessage) else NewMessage.parse(data)
        if new.author_type != "customer":
            raise errors.ValidationFailed(f"receive_customer_message takes customer messages, not author_type {new.author_type!r}")
        actor = actor or Actor(type="customer")
        try:
            return self.add_message(ticket_ref, new, actor, follow_merged=True)
        except errors.Conflict as exc:
            if exc.extra.get("reason") != "reopen_window_passed":
                raise
            old = exc.extra["followup"]
        channel = new.channel if new.channel in ("email", "web", "chat", "slack", "api") else old["channel"]
        result = self.create_ticket(NewTicket.parse({
            "channel": channel,
            "subject": old["subject"],
            "body": new.body,
            "requester_email": new.author_email or old["requester_email"],
            "priority": old["priority"],
            "team_id": old["team_id"],
            "inbound_message_id": new.inbound_message_id,
            "body_full": new.body_full,
            "body_html": new.body_html,
            "attachments": list(new.attachments),
            "metadata": dict(new.metadata),
            "parent_ticket_id": old["parent_ticket_id"],
        }), actor)
        result.followup_of = uuid.UUID(old["parent_ticket_id"])
        return result

    # -- status ------------------------------------------------------------------------------
    def transition(self, ticket_ref: str | uuid.UUID, to_status: str, actor: Actor, *, reason: str | None = None,
                   expected_status: str | None = None, duplicate_of: str | uuid.UUID | None = None) -> CommandResult:
        """A bare status change (compare-and-set on the current status). `duplicate_of` names the ticket a
        duplicate duplicates (required for, and only for, status duplicate)."""
        target = states.parse_status(to_status)
        if target in states.ENTERED_BY_COMMAND:
            raise errors.ValidationFailed(f"status {target.value} is reached only by {states.ENTERED_BY_COMMAND[target]}")
        if (target is states.Status.DUPLICATE) != (duplicate_of is not None):
            raise errors.ValidationFailed(
                "duplicate_of is required when the status is duplicate (the ticket this one duplicates, id or TKT-n)"
                if duplicate_of is None else "duplicate_of is allowed only with status duplicate")
        if expected_status is not None:
            states.parse_status(expected_status)
            states.check_transition(expected_status, target)
        if reason is not None and len(reason) > 1000:
            raise errors.ValidationFailed("reason is too long: at most 1000 characters")
        ticket_id = self._resolve_id(ticket_ref)
        original_id = None
        if duplicate_of is not None:
            try:
                original_id = self._resolve_id(duplicate_of)
            except errors.NotFound:
                raise errors.ValidationFailed(f"duplicate_of {duplicate_of}: no such ticket") from None
        row = self.db.execute(changes.TRANSITION, {
            "ticket_id": ticket_id,
            "to_status": target.value,
            "allowed_from": states.sources_of(target),
            "expected_status": expected_status,
            "duplicate_of": original_id,
            "reason": reason,
            "now": self.clock.now(),
            "actor_type": actor.type,
            "actor_id": actor.id,
        }).first()
        _refuse_missing_or_merged(row, ticket_ref)
        if row["ticket"] is None:
            current = row["current_status"]
            if expected_status is not None and current != expected_status:
                raise errors.Conflict(
                    f"ticket {ticket_ref} is {current}, not {expected_status}: another change won; reload and retry",
                    current_status=current,
                )
            states.check_transition(current, target)  # raises InvalidTransition with from/to/allowed
            if original_id is not None and not row["original_exists"]:
                raise errors.ValidationFailed(
                    f"duplicate_of {duplicate_of} is not a ticket this one can duplicate: it must exist, "
                    "be another ticket and not be merged")
            raise errors.Conflict(f"ticket {ticket_ref} changed concurrently; retry")
        return self._finish(row)

    # -- priority ----------------------------------------------------------------------------
    def change_priority(self, ticket_ref: str | uuid.UUID, priority: str, actor: Actor, *,
                        reason: str | None = None) -> CommandResult:
        """Set the priority; the SLA policy is matched again and open clocks are re-timed (1 call + follow-up).
        Setting the priority it already has changes nothing and returns the ticket (one more read)."""
        from helpdesk.tickets.models import PRIORITIES

        if priority not in PRIORITIES:
            raise errors.ValidationFailed(f"unknown priority {priority!r}; allowed: {', '.join(PRIORITIES)}")
        if reason is not None and len(reason) > 1000:
            raise errors.ValidationFailed("reason is too long: at most 1000 characters")
        ticket_id = self._resolve_id(ticket_ref)
        row = self.db.execute(changes.CHANGE_PRIORITY, {
            "ticket_id": ticket_id, "priority": priority, "reason": reason, "now": self.clock.now(),
            "actor_type": actor.type, "actor_id": actor.id,
        }).first()
        _refuse_missing_or_merged(row, ticket_ref)
        if row["ticket"] is None:
            if row["current_priority"] == priority:
                return CommandResult(Ticket.model_validate(self.get_ticket(ticket_id).ticket))
            raise errors.InvalidTransition(
                f"the priority of a {row['current_status']} ticket cannot change; allowed in open or resolved tickets",
                **{"from": row["current_status"], "to": row["current_status"], "allowed": []})
        return self._finish(row)

    # -- tags --------------------------------------------------------------------------------
    def change_tags(self, ticket_ref: str | uuid.UUID, actor: Actor, *, add: list[str] | tuple[str, ...] = (),
                    remove: list[str] | tuple[str, ...] = ()) -> CommandResult:
        """Add and remove tags (lower-cased; at most MAX_TAGS on a ticket). 1 call, +1 follow-up when an
        event is published. A change that changes nothing returns the ticket (one more read) and writes nothing."""
        add = [t.strip().lower() for t in add]
        remove = [t.strip().lower() for t in remove]
        for tag in add + remove:
            if not 1 <= len(tag) <= MAX_TAG:
                raise errors.ValidationFailed(f"each tag must be 1 to {MAX_TAG} characters, got {tag!r}")
        ticket_id = self._resolve_id(ticket_ref)
        row = self.db.execute(tags.CHANGE_TAGS, {
            "ticket_id": ticket_id, "add": add, "remove": remove, "max_tags": MAX_TAGS, "now": self.clock.now(),
            "actor_type": actor.type, "actor_id": actor.id,
        }).first()
        _refuse_missing_or_merged(row, ticket_ref)
        if row["ticket"] is None:
            if len(row["wanted_tags"] or []) > MAX_TAGS:
                raise errors.ValidationFailed(f"a ticket has at most {MAX_TAGS} tags; this change would leave "
                                              f"{len(row['wanted_tags'])}")
            return CommandResult(Ticket.model_validate(self.get_ticket(ticket_id).ticket))
        return self._finish(row)

    # -- assignment --------------------------------------------------------------------------
    def assign(self, ticket_ref: str | uuid.UUID, actor: Actor, *, agent_id: uuid.UUID | None = None,
               team_id: uuid.UUID | None = None, reason: str = "manual") -> CommandResult:
        if agent_id is None and team_id is None:
            raise errors.ValidationFailed("assign needs agent_id or team_id")
        if reason not in ASSIGNMENT_REASONS:
            raise errors.ValidationFailed(f"unknown assignment reason {reason!r}; allowed: {', '.join(ASSIGNMENT_REASONS)}")
        allowed = ASSIGNABLE if agent_id is not None else TEAM_MOVABLE
        ticket_id = self._resolve_id(ticket_ref)
        row = self.db.execute(changes.ASSIGN, {
            "ticket_id": ticket_id,
            "agent_id": agent_id,
            "team_id": team_id,
            "allowed_statuses": list(allowed),
            "assigned_by": actor.id if actor.type == "agent" else None,
            "reason": reason,
            "now": self.clock.now(),
            "actor_type": actor.type,
            "actor_id": actor.id,
        }).first()
        _refuse_missing_or_merged(row, ticket_ref)
        if row["ticket"] is None:
            if agent_id is not None and not row["agent_exists"]:
                raise errors.ValidationFailed(f"agent {agent_id} does not exist or is inactive")
            if team_id is not None and not row["team_exists"]:
                raise errors.ValidationFailed(f"team {team_id} does not exist")
            what = "assigned to an agent" if agent_id is not None else "moved to a team queue"
            raise errors.InvalidTransition(
                f"a ticket in status {row['current_status']} cannot be {what}; allowed statuses: {', '.join(allowed)}",
                **{"from": row["current_status"], "to": "assigned" if agent_id else "new", "allowed": list(allowed)},
            )
        return self._finish(row)

    # -- merge -------------------------------------------------------------------------------
    def merge(self, source_ref: str | uuid.UUID, into_ref: str | uuid.UUID, actor: Actor, *,
              allow_other_requester: bool = False) -> CommandResult:
        """Moves the source's conversation into the target. Tickets of different requesters merge only
        with allow_other_requester (the agent confirmed it): their customers' portals each keep
        showing only their own conversation (ticket_messages.conversation_customer_id)."""
        source_id, target_id = self._resolve_id(source_ref), self._resolve_id(into_ref)
        if source_id == target_id:
            raise errors.ValidationFailed("a ticket cannot be merged into itself")
        row = self.db.execute(changes.MERGE, {
            "source_id": source_id,
            "target_id": target_id,
            "allowed_from": states.sources_of(states.Status.MERGED),
            "now": self.clock.now(),
            "actor_type": actor.type,
            "actor_id": actor.id,
            "allow_other_requester": allow_other_requester,
        }).one()
        if row["ticket"] is None:
            if row["source_status"] is None:
                raise errors.NotFound(f"ticket {source_ref} not found")
            if row["target_status"] is None:
                raise errors.ValidationFailed(f"merge target {into_ref} not found")
            if row["requesters_differ"] and not allow_other_requester and row["source_status"] != "merged":
                raise errors.Conflict(
                    f"tickets {source_ref} and {into_ref} have different requesters: merging joins two customers' "
                    "conversations; to merge anyway, confirm with confirm_different_requesters: true",
                    reason="requesters_differ")
            if row["source_status"] == "merged":
                raise errors.Gone(f"ticket {source_ref} was already merged", merged_into=str(row["source_merged_into"]))
            if row["target_status"] in ("merged", "duplicate", "spam"):
                raise errors.ValidationFailed(
                    f"cannot merge into {into_ref}: it is {row['target_status']}"
                    + (f" (merged into {row['target_merged_into']})" if row["target_merged_into"] else "")
                )
            states.check_transition(row["source_status"], states.Status.MERGED)
            raise errors.Conflict("merge lost a race; retry")
        return self._finish(row)

    # -- reads -------------------------------------------------------------------------------
    def get_ticket(self, ticket_ref: str | uuid.UUID, *, include_internal: bool = True, message_limit: int = 50) -> TicketView:
        """The ticket with its SLA clocks and latest messages (newest first), in one call."""
        kind, value = ("id", ticket_ref) if isinstance(ticket_ref, uuid.UUID) else parse_ticket_ref(str(ticket_ref))
        rows = self.db.query(reads.GET_TICKET, {
            "id": value if kind == "id" else None,
            "number": value if kind == "number" else None,
            "include_internal": include_internal,
            "message_limit": max(0, min(message_limit, MAX_PAGE)),
            "preview_chars": reads.MESSAGE_PREVIEW_CHARS,
        })
        ticket = next((r["doc"] for r in rows if r["kind"] == "ticket"), None)
        if ticket is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        if ticket["status"] == "merged":
            raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=ticket["merged_into_id"])
        return TicketView(ticket, [r["doc"] for r in rows if r["kind"] == "message"])

    def list_messages(self, ticket_id: uuid.UUID, *, include_internal: bool, before: int | None = None,
                      limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.query(reads.LIST_MESSAGES, {
            "ticket_id": ticket_id, "include_internal": include_internal, "before": before,
            "limit": max(1, min(limit, MAX_PAGE)), "preview_chars": reads.MESSAGE_PREVIEW_CHARS,
        })
        return [r["doc"] for r in rows]

    def get_message(self, ticket_ref: str | uuid.UUID, message_id: uuid.UUID, *,
                    include_internal: bool = True) -> dict[str, Any]:
        """One message of the ticket in full: the whole new text (`body`), the whole mail as received
        (`body_full`: quoted history and forwarded mails included), the part of it below the new
        text (`quoted`) and the sanitized HTML. 1 call, plus 1 per further 15,000 characters of a
        text longer than 4,000."""
        kind, value = ("id", ticket_ref) if isinstance(ticket_ref, uuid.UUID) else parse_ticket_ref(str(ticket_ref))
        row = self.db.query_one(reads.GET_MESSAGE, {
            "id": value if kind == "id" else None, "number": value if kind == "number" else None,
            "message_id": message_id, "include_internal": include_internal,
            "first_slice_chars": reads.MESSAGE_FIRST_SLICE_CHARS})
        if row is None:
            raise errors.NotFound(f"ticket {ticket_ref} not found")
        if row["status"] == "merged":
            raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=row["merged_into_id"])
        message = row.get("message")
        if message is None:
            raise errors.NotFound(f"no message {message_id} on ticket {ticket_ref}")
        for text in ("body", "body_full", "body_html"):
            chars = int(message.pop(f"{text}_chars") or 0)
            if chars > reads.MESSAGE_FIRST_SLICE_CHARS:
                message[text] = read_message_text(self.db, message_id, text, chars)
        message["quoted"] = quoted_part(message["body"], message.get("body_full"))
        return message

    # -- plumbing ----------------------------------------------------------------------------
    def _resolve_id(self, ref: str | uuid.UUID) -> uuid.UUID:
        if isinstance(ref, uuid.UUID):
            return ref
        kind, value = parse_ticket_ref(str(ref))
        if kind == "id":
            assert isinstance(value, uuid.UUID)
            return value
        row = self.db.query_one("SELECT id FROM tickets WHERE number = :number", {"number": value})
        if row is None:
            raise errors.NotFound(f"ticket {ref} not found")
        return uuid.UUID(row["id"])

    def _finish(self, row: Row, *, load_sla_config: bool = False) -> CommandResult:
        """Publish what the command wrote and fill pending SLA deadlines: one follow-up statement.
        With load_sla_config (a create that had to leave deadlines pending), that statement also
        refreshes the process's SLA configuration copy (helpdesk.sla.cache)."""
        events: list[dict[str, Any]] = row.get("events") or []
        self._publish_and_settle(events, row.get("pending_sla") or [], load_sla_config=load_sla_config)
        return CommandResult(Ticket.model_validate(row["ticket"]), events=events)

    def _publish_and_settle(self, events: list[dict[str, Any]], pending: list[dict[str, Any]], *,
                            load_sla_config: bool = False) -> None:
        """Publish committed events and fill pending SLA deadlines (one follow-up statement, none
        when there is nothing to acknowledge). Also used by batch writers (the queue back-fill)."""
        published: list[str] = []
        if events:
            try:
                published = self.publisher.publish(events)
            except Exception:  # noqa: BLE001 - downstream outage: the relay publishes later
                published = []
        # The command has committed: a failure from here on must not reach the caller as if it had not
        # (a retry would duplicate it). What is left undone stays marked (outbox published_at NULL,
        # sla_targets.recompute_from) and the sweep's relay finishes it.
        deadlines: list[dict[str, Any]] = []
        for clock in pending:
            try:
                deadlines.append(deadline_for(clock))
            except Exception:  # noqa: BLE001
                log.exception("SLA deadline for ticket %s (%s) left to the sweep", clock.get("ticket_id"), clock.get("kind"))
        load_sla_config = load_sla_config and bool(pending)
        if published or deadlines or load_sla_config:
            params = {"now": self.clock.now(), "published": published, "deadlines": deadlines,
                      "load_sla_config": load_sla_config}
            try:
                rows = self.db.execute(followup.FINISH, params).rows
                if load_sla_config:
                    sla_cache.store(self.db, sla_cache.SlaConfig.from_rows(r for r in rows if r["kind"] != "counts"))
            except errors.HelpdeskError:
                log.exception("follow-up statement failed; the relay/sweep will finish it")


def _refuse_missing_or_merged(row: Row | None, ticket_ref: Any) -> None:
    """A command's statement found no ticket (404), or refused the change because the ticket was merged (410)."""
    if row is None:
        raise errors.NotFound(f"ticket {ticket_ref} not found")
    if row["ticket"] is None and row["current_status"] == "merged":
        raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=str(row["merged_into_id"]))

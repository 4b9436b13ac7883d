"""open_ticket: the one way every channel (API, web form, email, chat, Slack) opens a ticket.

Routing rules pick the team (unless the intake names one), the ticket is created, and, when the
team pushes (push or round_robin), assigned to an agent, all in the create statement itself:

    calls = 1 (create + route + push + SLA deadlines)
            + 1 follow-up when the publisher accepted events, or when the SLA deadlines could not be
              predicted (the process's first create under a policy, a contract-policy customer, a
              policy or schedule changed since the SLA copy was read: helpdesk.sla.cache)
            + 1 on a cold or expired routing cache, once per TTL

How it stays at one statement: rules are evaluated here, in Python, against the cached rule list
(helpdesk.routing.config), once per customer tier, and the statement picks the tier's team by the
requester's stored tier (new customers are standard), so a tier condition costs no lookup. Whether a
team is on shift is also decided here from its cached schedule. SLA works the same way one step later:
create_ticket predicts each tier's policy (with the tier's team from this plan) and its business-time
deadlines from a cached copy, and the statement uses them only when its own choice is identical. The agent is picked inside the
statement under the team-row lock (routing_pick_agent), so concurrent creates never overfill an agent.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.routing.assignment import Assignment
from helpdesk.routing.config import RoutingConfig, routing_config
from helpdesk.routing.matching import needs_tier, tags_after
from helpdesk.routing.models import TIERS, Intake
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import Actor, NewMessage, NewTicket


def route_plan(config: RoutingConfig, new: NewTicket, now: Any) -> dict[str, dict[str, Any]]:
    """{tier: {"team_id", "on_shift", "rule_id", "tags"}} for every tier (identical when no rule looks at
    tiers). "tags" is the ticket's tags with the rule's add_tags, written by the create statement and
    read by its push (skill routing), whichever channel the ticket came from."""
    def decide(tier: str) -> dict[str, Any]:
        rule = None
        if new.team_id is not None:
            team_id = new.team_id
        else:
            rule, team_id = config.route(Intake.from_new_ticket(new, tier))
        return {"team_id": str(team_id) if team_id else None, "on_shift": config.on_shift(team_id, now),
                "rule_id": str(rule.id) if rule else None, "tags": tags_after(new.tags, rule)}

    if new.team_id is not None or not needs_tier(config.rules):
        same = decide("standard")
        return {tier: same for tier in TIERS}
    return {tier: decide(tier) for tier in TIERS}


def open_ticket(db: DataApi, clock: Clock, publisher: Publisher, new_ticket: NewTicket | dict[str, Any], *,
                actor: Actor | None = None, idempotency_key: str | None = None,
                idempotency_scope: str = "api") -> CommandResult:
    new = new_ticket if isinstance(new_ticket, NewTicket) else NewTicket.parse(new_ticket)
    config = routing_config(db)
    if new.team_id is not None and new.team_id not in config.teams:
        config = routing_config(db, refresh=True)  # a team created since the cache was filled
        if new.team_id not in config.teams:
            raise errors.ValidationFailed(f"team_id: team {new.team_id} does not exist")
    plan = route_plan(config, new, clock.now())
    commands = TicketCommands(db, clock, publisher)
    try:
        return commands.create_ticket(new, actor, idempotency_key, idempotency_scope, routing=plan)
    except errors.ValidationFailed:
        # A routed team deleted since the cache was filled: read the rules again and retry once.
        if new.team_id is not None:
            raise
        fresh = routing_config(db, refresh=True)
        return commands.create_ticket(new, actor, idempotency_key, idempotency_scope,
                                      routing=route_plan(fresh, new, clock.now()))


def receive_customer_message(db: DataApi, clock: Clock, publisher: Publisher, ticket_ref: Any,
                             data: NewMessage | dict[str, Any], actor: Actor | None = None) -> CommandResult:
    """The one way every channel (email, portal, chat, Slack) adds a customer's message to a ticket:
    TicketCommands.receive_customer_message, then routing's hand-back.

    When the message reopened a closed ticket, Assignment.after_customer_message gives it back to its
    previous owner if they are available, else to another eligible agent or the team queue (+1 call).
    When it opened a follow-up ticket (the old one closed too long ago), the follow-up is pushed like
    any new ticket of a push team (+1 call). The returned result carries the message, followup_of and
    the events of both steps, with the ticket as it is after the hand-back."""
    result = TicketCommands(db, clock, publisher).receive_customer_message(ticket_ref, data, actor)
    if result.ticket is None or result.replayed:
        return result
    assignment = Assignment(db, clock, publisher)
    if result.followup_of is not None:
        handed = assignment.push_assign(result.ticket.id) if result.ticket.assignee_id is None else None
    else:
        handed = assignment.after_customer_message(result)
    if handed is None:
        return result
    return replace(result, ticket=handed.ticket or result.ticket, events=[*result.events, *handed.events])


def receive_portal_reply(db: DataApi, clock: Clock, publisher: Publisher, ticket_id: Any, body: str,
                         attachments: list[dict[str, Any]] | None = None) -> CommandResult:
    """A reply through the customer's portal link (the link is the credential): written as the
    ticket's requester, through receive_customer_message like every other channel (`attachments`: the
    checked uploads, helpdesk.auth.uploads.reply_attachments)."""
    from helpdesk.db import admin as admin_sql

    requester = db.query_one(admin_sql.TICKET_REQUESTER, {"id": ticket_id})
    if requester is None:
        raise errors.NotFound("this ticket link is not valid")
    return receive_customer_message(
        db, clock, publisher, ticket_id,
        {"body": body, "visibility": "public", "author_type": "customer", "author_email": requester["email"],
         "channel": "web", "attachments": attachments or []},
        Actor(type="customer", id=requester["customer_id"]))

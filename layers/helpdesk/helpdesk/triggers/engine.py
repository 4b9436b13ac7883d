"""The trigger engine: runs the admin's triggers on one outbox event, after the outbox (the notifier's
queue consumer calls it; never a request).

For one event:
1. The active triggers come from the process's copy (helpdesk.triggers.store, reloaded every
   TTL_SECONDS: one call per reload); events no trigger runs on cost nothing more.
2. One read (EVALUATION_CONTEXT) gives the ticket, the event's chain and what already fired.
3. The evaluator (pure) plans which triggers fire, in order, and what each does.
4. One statement claims a firing row per trigger (trigger, event): a redelivered event finds its rows
   done and fires nothing again; a concurrent duplicate cannot claim a row another worker holds.
5. The actions run through the ticket commands (state machine, SLA clocks and audit apply) with the
   trigger as the actor, and through helpdesk.delivery for mail and Slack.
6. One statement settles the firings (outcomes, an audit row each) and records the events the
   actions wrote as links of the chain; only then are those events published (one more call marks
   them), so a trigger that runs on them always finds its chain.

Once per change: the events one command writes together (an assignment's ticket.assigned and
ticket.status_changed, a customer reply's ticket.replied and the status it resumed) share their instant;
a trigger fires for the first of them that reaches it, not for each.

Loops: an action's own events run the triggers again, one hop deeper in the chain that the first,
outside event started. A trigger never fires twice on the same ticket within one chain, and a chain
stops at MAX_CHAIN_DEPTH hops with an audit row (`trigger.chain_stopped`) naming the triggers that
did not fire.

Failures: an action the ticket refuses (not a transition, an inactive agent, a merged ticket) or a
recipient the provider rejects is recorded in the firing's outcomes and the rest go on. A retryable
failure (SES or Slack down, a concurrent change) stops that firing where it is: its progress is
kept and RetryLater fails the queue message, whose redelivery resumes after the actions already
done. As with the notifier, a worker that dies between a send and the settle sends that one message
again on redelivery (at-least-once, never lost).

Data API calls per event: 0 when no active trigger runs on the event type; 1 (the context) when none
fires; 3 + the commands' own calls when some fire (claim, settle, publish), +1 per team or agent-set
mail (its recipients), +1 when the chain depth stops it instead.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Sequence

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import triggers as sql
from helpdesk.db.client import DataApi
from helpdesk.delivery import DeliveryError
from helpdesk.events.publisher import DeferredPublisher, Publisher
from helpdesk.events.schemas import Event
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import Actor
from helpdesk.triggers import evaluate, models as m
from helpdesk.triggers.context import Context, load_context
from helpdesk.triggers.deliver import TriggerDelivery
from helpdesk.triggers.store import active_triggers

log = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 5
# Longer than one event's actions take; a worker that died holding firings releases them after this.
LEASE = timedelta(seconds=60)
# Ticket refusals: recorded as the action's outcome, never retried (the same command would be refused again).
REFUSALS = (errors.ValidationFailed, errors.InvalidTransition, errors.NotFound, errors.Gone)


class RetryLater(Exception):
    """A firing stopped on a retryable failure, or another worker holds one: the event is redelivered."""


@dataclass
class Outcome:
    evaluated: int = 0  # triggers whose conditions were checked
    fired: int = 0
    actions: int = 0
    refused: int = 0
    skipped: int = 0  # fired before for this event or in this chain
    stopped: int = 0  # would have fired, but the chain reached MAX_CHAIN_DEPTH
    retry: list[str] = field(default_factory=list)


class _Buffer:
    """A publisher that keeps the actions' events (publishing none) until their chain links are stored."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        self.events.extend(events)
        return []


class TriggerEngine:
    def __init__(self, db: DataApi, clock: Clock, delivery: TriggerDelivery, *, publisher: Publisher | None = None,
                 max_depth: int = MAX_CHAIN_DEPTH, lease: timedelta = LEASE, web_base_url: str = "") -> None:
        self.db = db
        self.clock = clock
        self.delivery = delivery
        self.publisher = publisher or DeferredPublisher()
        self.max_depth = max_depth
        self.lease = lease
        self.web_base_url = web_base_url.rstrip("/")

    def handle(self, event: Event) -> Outcome:
        outcome = Outcome()
        if event.ticket_id is None or event.type not in m.WATCHED_EVENT_TYPES:
            return outcome
        payload = event.payload.model_dump(mode="json", by_alias=True)
        name = m.trigger_event(event.type, payload)
        if name is None:
            return outcome
        candidates = active_triggers(self.db).on(name)
        if not candidates:
            return outcome
        message_id = payload.get("message_id") if event.type in ("ticket.created", "ticket.replied") else None
        context = load_context(self.db, ticket_id=event.ticket_id, event_id=event.id, event_at=event.occurred_at,
                               message_id=message_id)
        if context is None:
            return outcome
        chain_id = context.chain_id or event.id
        # Fired in this chain: for this event itself only when done (a begun firing is resumed instead).
        skip = {t: "fired in this chain on this ticket already" for t in context.fired_in_chain - context.acting_for_event}
        skip |= {t: "fired for another event of the same change" for t in context.fired_for_change - context.acting_for_event}
        skip |= {t: "fired for this event already" for t in context.done_for_event}
        now = self.clock.now()
        plan = evaluate.plan(candidates, context.facts, name, now, skip=skip,
                             decided=frozenset(context.acting_for_event))
        outcome.evaluated = len(plan.decisions)
        outcome.skipped = sum(1 for d in plan.decisions if d.skipped)
        firing = plan.firing
        if not firing:
            return outcome
        if context.depth >= self.max_depth:
            outcome.stopped = len(firing)
            self.db.execute(sql.CHAIN_STOPPED, {
                "event_id": str(event.id), "ticket_id": event.ticket_id, "event_name": name, "chain_id": str(chain_id),
                "depth": context.depth, "limit": self.max_depth, "now": now,
                "triggers": [{"id": str(d.trigger.id), "name": d.trigger.name} for d in firing]})
            log.warning("trigger chain %s stopped at depth %d on ticket %s", chain_id, context.depth, event.ticket_id)
            return outcome
        claimed = {str(r["trigger_id"]): r for r in self.db.execute(sql.CLAIM_FIRINGS, {
            "trigger_ids": [str(d.trigger.id) for d in firing], "event_id": event.id, "ticket_id": event.ticket_id,
            "event_at": event.occurred_at,
            "chain_id": chain_id, "depth": context.depth, "now": now, "lease_until": now + self.lease}).rows}
        buffer = _Buffer()
        commands = TicketCommands(self.db, self.clock, buffer)
        facts = context.facts
        settled: list[dict[str, Any]] = []
        caused: list[dict[str, str]] = []
        for decision in firing:
            trigger = decision.trigger
            row = claimed.get(str(trigger.id))
            if row is None:
                outcome.retry.append(f"trigger {trigger.name}: held by another worker")
                continue
            progress = int(row.get("progress") or 0)
            results: list[dict[str, Any]] = list(row.get("outcomes") or [])[:progress]
            state = "done"
            for index, action in enumerate(trigger.actions):
                if index < progress:
                    continue
                seen = len(buffer.events)
                try:
                    result, facts = self._act(action, trigger, facts, context, commands, event.id, index)
                except RetryLater as exc:
                    outcome.retry.append(f"trigger {trigger.name}, action {index} ({action.type}): {exc}")
                    state = "acting"
                    break
                caused += [{"event_id": str(e["id"]), "trigger_id": str(trigger.id)} for e in buffer.events[seen:]]
                results.append({"action": index, "type": action.type, **result})
                outcome.actions += 1
                outcome.refused += result["result"] in ("refused", "rejected")
            outcome.fired += state == "done"
            settled.append({"trigger_id": str(trigger.id), "name": trigger.name, "state": state,
                            "progress": len(results), "outcomes": results})
        if settled or caused:
            self.db.execute(sql.SETTLE_FIRINGS, {
                "firings": settled, "caused": caused, "event_id": str(event.id), "ticket_id": event.ticket_id,
                "event_name": name, "chain_id": chain_id, "depth": context.depth, "now": self.clock.now()})
        if buffer.events:
            # Linked to the chain now: publish (the relay would otherwise, within a minute).
            TicketCommands(self.db, self.clock, self.publisher)._publish_and_settle(buffer.events, [])
        if outcome.retry:
            raise RetryLater(f"event {event.id}: " + "; ".join(outcome.retry))
        return outcome

    # -- one action ---------------------------------------------------------------------------------
    def _act(self, action: m.Action, trigger: m.Trigger, facts: evaluate.TicketFacts, context: Context,
             commands: TicketCommands, event_id: uuid.UUID, index: int) -> tuple[dict[str, Any], evaluate.TicketFacts]:
        """Carry out one action; returns its outcome ({"result", "detail"}) and the facts after it."""
        actor = Actor(type="trigger", id=trigger.id)
        ticket_id = uuid.UUID(facts.id)
        reason = f"trigger: {trigger.name}"
        try:
            if isinstance(action, m.SetPriority):
                return self._changed(commands.change_priority(ticket_id, action.value, actor, reason=reason), facts)
            if isinstance(action, m.SetStatus):
                return self._changed(commands.transition(ticket_id, action.value, actor, reason=reason), facts)
            if isinstance(action, m.AddTags):
                remove = isinstance(action, m.RemoveTags)
                return self._changed(commands.change_tags(ticket_id, actor, add=() if remove else action.value,
                                                          remove=action.value if remove else ()), facts)
            if isinstance(action, m.SetTeam):
                return self._changed(commands.assign(ticket_id, actor, team_id=action.team_id), facts)
            if isinstance(action, m.SetAssignee):
                return self._changed(commands.assign(ticket_id, actor, agent_id=action.agent_id), facts)
        except REFUSALS as exc:
            return {"result": "refused", "detail": exc.detail[:500]}, facts
        except errors.HelpdeskError as exc:  # a concurrent change, the database: try again later
            raise RetryLater(exc.detail) from exc
        try:
            return self._send(action, trigger, facts, context, event_id, index), facts
        except DeliveryError as exc:
            if exc.retryable:
                raise RetryLater(str(exc)) from exc
            return {"result": "rejected", "detail": str(exc)[:500]}, facts

    @staticmethod
    def _changed(result: CommandResult, facts: evaluate.TicketFacts) -> tuple[dict[str, Any], evaluate.TicketFacts]:
        ticket = result.ticket
        if ticket is not None:
            facts = replace(facts, status=ticket.status, priority=ticket.priority, tags=tuple(ticket.tags),
                                     team_id=str(ticket.team_id) if ticket.team_id else None,
                                     assignee_id=str(ticket.assignee_id) if ticket.assignee_id else None)
        return {"result": "done" if result.events else "unchanged"}, facts

    def _send(self, action: m.Action, trigger: m.Trigger, facts: evaluate.TicketFacts, context: Context,
              event_id: uuid.UUID, index: int) -> dict[str, Any]:
        def text(template: str) -> str:
            return evaluate.render(template, facts, trigger_name=trigger.name,
                                   ticket_url=f"{self.web_base_url}/#/ticket/{facts.id}")

        if isinstance(action, m.PostSlack):
            ts = self.delivery.post_slack(action.channel, text(action.text))
            return {"result": "sent", "detail": f"Slack {action.channel} ts {ts}"}
        assert isinstance(action, m.SendMail)
        subject, body = text(action.subject), text(action.body)
        if action.to == "requester":
            message_id = f"trigger-{trigger.id}-{event_id}-{index}@{self.delivery.domain}"
            sent = self.delivery.mail_requester(facts, team_address=context.team_address, subject=subject, body=body,
                                                message_id=message_id)
            return {"result": "sent", "detail": f"to the requester, SES {sent}"}
        recipients = self.db.query(sql.MAIL_RECIPIENTS, {
            "agent_ids": [str(a) for a in action.agent_ids], "team_id": action.team_id})
        if not recipients:
            return {"result": "rejected", "detail": "no active agent to send to"}
        rejected = []
        for agent in recipients:
            try:
                self.delivery.mail_agent(to=agent["email"], name=agent.get("name"), subject=subject, body=body)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                rejected.append(f"{agent['email']}: {exc}")
        sent = len(recipients) - len(rejected)
        detail = f"to {sent} agent(s)" + (f"; rejected {'; '.join(rejected)}" if rejected else "")
        return {"result": "sent" if sent else "rejected", "detail": detail[:500]}


def prune_firings(db: DataApi, clock: Clock, *, keep: timedelta = timedelta(days=30)) -> int:
    """Forget firings and chain links older than any redelivery can be (SQS keeps messages 14 days)."""
    return int(db.execute(sql.PRUNE, {"before": clock.now() - keep}).one()["deleted"])

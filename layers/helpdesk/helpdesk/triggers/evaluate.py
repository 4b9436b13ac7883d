"""The trigger evaluator: pure Python, no database, no clock of its own.

`plan(triggers, facts, event, now)` walks the triggers in order (position, then name). A trigger runs
on the events it names; it fires when its conditions hold on the ticket as the triggers before it
left it (their actions are applied to a working copy of the facts, so a later trigger sees an earlier
one's priority or tags). The engine carries out exactly this plan; the dry run shows it.

Words in a subject or body match whole words, case-insensitively (Unicode case folding, NFKC), a
phrase as consecutive words; in scripts written without spaces (Chinese, Japanese, Thai...) a word
matches where its characters appear.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, Iterable

from helpdesk.tickets import states
from helpdesk.tickets.models import PRIORITIES
from helpdesk.triggers import models as m

_WORD = re.compile(r"\w+")
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "HALFWIDTH KATAKANA")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _unspaced(word: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS) for ch in word if not ch.isspace())


@dataclass(frozen=True)
class Text:
    """A text prepared once for every word condition of every trigger."""

    raw: str

    @cached_property
    def folded(self) -> str:
        return _fold(self.raw)

    @cached_property
    def words(self) -> list[str]:
        return _WORD.findall(self.folded)

    @cached_property
    def word_set(self) -> frozenset[str]:
        return frozenset(self.words)

    @cached_property
    def spaced(self) -> str:
        return " " + " ".join(self.words) + " "

    def has(self, phrase: str) -> bool:
        needle, single, unspaced = _needle(phrase)
        if not needle:
            return False
        if unspaced:
            return needle.strip() in self.spaced or _fold(phrase) in self.folded
        if single:  # one word: a set lookup instead of a scan of the text
            return needle.strip() in self.word_set
        return needle in self.spaced


@lru_cache(maxsize=4096)
def _needle(phrase: str) -> tuple[str, bool, bool]:
    """A phrase as it is searched for in Text.spaced (folded words between spaces), whether it is one
    word, and whether it is in a script written without spaces; worked out once per phrase."""
    words = _WORD.findall(_fold(phrase))
    return (" " + " ".join(words) + " " if words else ""), len(words) == 1, _unspaced(phrase)


@dataclass(frozen=True)
class TicketFacts:
    """What conditions look at: the ticket as the engine (or the dry run) read it."""

    id: str
    number: int
    subject: str
    status: str
    priority: str
    channel: str
    tags: tuple[str, ...] = ()
    team_id: str | None = None
    team_name: str | None = None
    assignee_id: str | None = None
    tier: str = "standard"
    requester_email: str | None = None
    requester_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    body: str = ""

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "TicketFacts":
        def when(key: str) -> datetime | None:
            value = doc.get(key)
            if value is None or isinstance(value, datetime):
                return value
            return datetime.fromisoformat(str(value))

        return cls(id=str(doc["id"]), number=int(doc["number"]), subject=doc.get("subject") or "",
                   status=doc["status"], priority=doc["priority"], channel=doc["channel"],
                   tags=tuple(doc.get("tags") or ()), team_id=_str(doc.get("team_id")), team_name=doc.get("team_name"),
                   assignee_id=_str(doc.get("assignee_id")), tier=doc.get("tier") or "standard",
                   requester_email=doc.get("requester_email"), requester_name=doc.get("requester_name"),
                   created_at=when("created_at"), updated_at=when("updated_at"),
                   last_customer_message_at=when("last_customer_message_at"), body=doc.get("body") or "")

    @cached_property
    def subject_text(self) -> Text:
        return Text(self.subject)

    @cached_property
    def body_text(self) -> Text:
        return Text(self.body)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# -- conditions -----------------------------------------------------------------------------------
def holds(condition: m.Condition, facts: TicketFacts, now: datetime) -> bool:
    field_, op, value = condition.field, condition.op, condition.value
    spec = m.FIELDS[field_]
    if spec.kind in ("enum", "ref"):
        actual = {"channel": facts.channel, "status": facts.status, "priority": facts.priority, "tier": facts.tier,
                  "team_id": facts.team_id, "assignee_id": facts.assignee_id}[field_]
        if op == "is":
            return actual == value
        if op == "is_not":
            return actual != value
        if op == "in":
            return actual in value
        if op == "not_in":
            return actual not in value
        rank = PRIORITIES.index
        return rank(actual) >= rank(value) if op == "at_least" else rank(actual) <= rank(value)
    if spec.kind == "tags":
        tags = set(facts.tags)
        if op == "includes_any":
            return any(t in tags for t in value)
        if op == "includes_all":
            return all(t in tags for t in value)
        return not any(t in tags for t in value)
    if spec.kind == "words":
        texts = {"subject": (facts.subject_text,), "body": (facts.body_text,),
                 "subject_or_body": (facts.subject_text, facts.body_text)}[field_]
        found = (any(t.has(word) for t in texts) for word in value)  # lazily: any/all stop early
        if op == "contains_any":
            return any(found)
        if op == "contains_all":
            return all(found)
        return not any(found)
    since = {"hours_since_created": facts.created_at, "hours_since_updated": facts.updated_at,
             "hours_since_customer_message": facts.last_customer_message_at}[field_]
    if since is None:
        return False
    hours = (now - since).total_seconds() / 3600
    return hours > value if op == "greater_than" else hours < value


def describe(condition: m.Condition) -> str:
    value = condition.value
    shown = ", ".join("none" if v is None else str(v) for v in value) if isinstance(value, tuple) else (
        "none" if value is None else str(value))
    return f"{condition.field} {condition.op} {shown}"


def unmet(conditions: m.Conditions, facts: TicketFacts, now: datetime, *, explain: bool = True) -> list[str]:
    """The conditions that keep the trigger from firing (empty: it fires). Without `explain`, only the
    first one, undescribed (the engine only needs to know whether it fires)."""
    failed: list[str] = []
    for condition in conditions.all:
        if not holds(condition, facts, now):
            if not explain:
                return ["unmet"]
            failed.append(describe(condition))
    if conditions.any and not any(holds(c, facts, now) for c in conditions.any):
        failed.append("none of: " + "; ".join(describe(c) for c in conditions.any) if explain else "unmet")
    return failed


# -- actions on the working copy ------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedAction:
    action: m.Action
    effect: str  # what it would do, in words
    refused: str | None = None  # why the ticket would refuse it (the engine records it and goes on)


def apply(action: m.Action, facts: TicketFacts) -> tuple[TicketFacts, PlannedAction]:
    """The facts after `action` (fields it names; the ticket commands decide the rest) and what it does."""
    if isinstance(action, m.SetPriority):
        if facts.status in ("merged", "spam", "duplicate", "closed"):
            return facts, PlannedAction(action, f"priority {action.value}", f"a {facts.status} ticket keeps its priority")
        return replace(facts, priority=action.value), PlannedAction(action, f"priority {facts.priority} -> {action.value}")
    if isinstance(action, m.SetStatus):
        if facts.status == action.value:
            return facts, PlannedAction(action, f"status {action.value}", f"the ticket is already {action.value}")
        if not states.can_transition(facts.status, action.value):
            return facts, PlannedAction(action, f"status {facts.status} -> {action.value}",
                                        f"not a transition; allowed from {facts.status}: "
                                        f"{', '.join(states.allowed_next(facts.status)) or 'none'}")
        assignee = None if action.value == "new" else facts.assignee_id
        return (replace(facts, status=action.value, assignee_id=assignee),
                PlannedAction(action, f"status {facts.status} -> {action.value}"))
    if isinstance(action, (m.AddTags, m.RemoveTags)):
        if isinstance(action, m.RemoveTags):
            tags = tuple(t for t in facts.tags if t not in action.value)
        else:
            tags = facts.tags + tuple(t for t in action.value if t not in facts.tags)
        verb = "remove" if isinstance(action, m.RemoveTags) else "add"
        return replace(facts, tags=tags), PlannedAction(action, f"{verb} tags {', '.join(action.value)}")
    if isinstance(action, m.SetTeam):
        return (replace(facts, team_id=str(action.team_id)),
                PlannedAction(action, f"team -> {action.team_id}"))
    if isinstance(action, m.SetAssignee):
        return (replace(facts, assignee_id=str(action.agent_id)),
                PlannedAction(action, f"assignee -> {action.agent_id}"))
    if isinstance(action, m.SendMail):
        to = {"requester": f"the requester ({facts.requester_email})", "team": f"the members of team {action.team_id}",
              "agents": f"agents {', '.join(str(a) for a in action.agent_ids)}"}[action.to]
        return facts, PlannedAction(action, f"mail to {to}")
    assert isinstance(action, m.PostSlack)
    return facts, PlannedAction(action, f"post to Slack channel {action.channel}")


# -- the plan -------------------------------------------------------------------------------------
@dataclass
class Decision:
    trigger: m.TriggerDefinition
    fires: bool
    unmet: list[str] = field(default_factory=list)
    skipped: str | None = None  # fired before for this event, or in this chain
    actions: list[PlannedAction] = field(default_factory=list)


@dataclass
class Plan:
    decisions: list[Decision]
    facts: TicketFacts  # the ticket as the firing triggers would leave it

    @property
    def firing(self) -> list[Decision]:
        return [d for d in self.decisions if d.fires]


def ordered(triggers: Iterable[m.TriggerDefinition]) -> list[m.TriggerDefinition]:
    return sorted(triggers, key=lambda t: (t.position, t.name))


def plan(triggers: Iterable[m.TriggerDefinition], facts: TicketFacts, event: str, now: datetime, *,
         skip: dict[str, str] | None = None, decided: frozenset[str] = frozenset(), explain: bool = False) -> Plan:
    """Which triggers fire on `event` (a TRIGGER_EVENTS name) and what they do, in order.
    `skip` maps trigger ids to why they may not fire (already fired for this event or in this chain);
    `decided` names triggers that already began firing for this event (a retry resumes them, whatever
    their own first actions did to the conditions); `explain` lists every unmet condition of a trigger
    in words (the dry run), not just that one failed."""
    skip = skip or {}
    decisions: list[Decision] = []
    for trigger in ordered(t for t in triggers if t.is_active and event in t.events):
        trigger_id = getattr(trigger, "id", None)  # a draft (dry run) has none
        resumed = trigger_id is not None and str(trigger_id) in decided
        failed = [] if resumed else unmet(trigger.conditions, facts, now, explain=explain)
        reason = skip.get(str(trigger_id)) if skip and trigger_id is not None else None
        decision = Decision(trigger, fires=not failed and reason is None, unmet=failed, skipped=None if failed else reason)
        if decision.fires:
            for action in trigger.actions:
                facts, planned = apply(action, facts)
                decision.actions.append(planned)
        decisions.append(decision)
    return Plan(decisions, facts)


# -- templates ------------------------------------------------------------------------------------
def render(template: str, facts: TicketFacts, *, trigger_name: str, ticket_url: str = "") -> str:
    """A mail or Slack text with its {{placeholders}} (models.PLACEHOLDERS) filled in."""
    values = {
        "ticket.ref": f"TKT-{facts.number}", "ticket.number": str(facts.number), "ticket.subject": facts.subject,
        "ticket.status": facts.status, "ticket.priority": facts.priority, "ticket.channel": facts.channel,
        "ticket.tags": ", ".join(facts.tags), "ticket.url": ticket_url,
        "requester.email": facts.requester_email or "", "requester.name": facts.requester_name or "",
        "team.name": facts.team_name or "", "trigger.name": trigger_name,
    }
    return m.PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)

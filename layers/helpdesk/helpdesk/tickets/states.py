"""The ticket state machine: every status change goes through TRANSITIONS, anything else is rejected."""
from __future__ import annotations

from enum import Enum

from helpdesk.errors import InvalidTransition


class Status(str, Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    MERGED = "merged"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ASSIGNED, S.SPAM, S.DUPLICATE, S.MERGED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.NEW, S.SPAM, S.DUPLICATE, S.MERGED}),
    S.IN_PROGRESS: frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED, S.ASSIGNED, S.SPAM, S.DUPLICATE, S.MERGED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED, S.SPAM, S.DUPLICATE}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.ASSIGNED, S.SPAM, S.DUPLICATE}),
    S.SPAM: frozenset({S.NEW}),
    S.DUPLICATE: frozenset(),
    S.MERGED: frozenset(),
}
# Moves one statement makes in a single row update while writing both steps to the audit trail:
# a customer reply within the reopen window takes a closed ticket to reopened, then in_progress.
COMPOSITE_MOVES: dict[tuple[Status, Status], Status] = {(S.CLOSED, S.IN_PROGRESS): S.REOPENED}
# Reached only by the command that records what they need: assigned by assigning (an assignee),
# merged by merging (the target). A bare status change to them is refused.
ENTERED_BY_COMMAND: dict[Status, str] = {
    S.ASSIGNED: "assigning: use assign (POST /tickets/{id}/assign) so the ticket has an assignee",
    S.MERGED: "merging: use merge(ticket, into=...) (POST /tickets/{id}/merge) so the target is recorded",
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Statuses in which an agent is working the ticket: they count against the agent's capacity.
ACTIVE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REOPENED})
# Statuses shown in "my open tickets".
OPEN = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.REOPENED})
# A customer message moves these statuses back to in_progress (the SLA clock resumes).
RESUMED_BY_CUSTOMER = frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED})
REOPEN_WINDOW_DAYS = 7
AUTO_CLOSE_HOURS = 72


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise InvalidTransition(f"unknown status {value!r}; allowed: {allowed}", to=value, allowed=[s.value for s in Status]) from None


def allowed_next(current: Status | str) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[Status(current)])


def can_transition(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: Status | str, target: Status | str) -> None:
    """Raise InvalidTransition naming from, to and the allowed next states."""
    if not can_transition(current, target):
        cur, tgt = Status(current).value, Status(target).value
        allowed = allowed_next(current)
        raise InvalidTransition(
            f"cannot move a ticket from {cur} to {tgt}; allowed from {cur}: {', '.join(allowed) or 'none (terminal)'}",
            **{"from": cur, "to": tgt, "allowed": allowed},
        )


def sources_of(target: Status | str) -> list[str]:
    """Statuses from which `target` may be reached (what the SQL compare-and-set accepts)."""
    tgt = Status(target)
    return sorted(s.value for s, nxt in TRANSITIONS.items() if tgt in nxt)

"""The pure state machine: every (from, to) pair, in and out of the designed table (docs/architecture.md)."""
from __future__ import annotations

import itertools

import pytest

from helpdesk.errors import InvalidTransition
from helpdesk.tickets import states
from helpdesk.tickets.states import Status

# The designed table (docs/architecture.md), written out independently of the code under test.
TABLE = {
    "new": {"assigned", "spam", "duplicate", "merged"},
    "assigned": {"in_progress", "new", "spam", "duplicate", "merged"},
    "in_progress": {"waiting_on_customer", "resolved", "assigned", "spam", "duplicate", "merged"},
    "waiting_on_customer": {"in_progress", "resolved", "spam", "duplicate"},
    "resolved": {"closed", "in_progress"},
    "closed": {"reopened"},
    "reopened": {"in_progress", "assigned", "spam", "duplicate"},
    "spam": {"new"},
    "duplicate": set(),
    "merged": set(),
}
ALL = sorted(TABLE)
PAIRS = list(itertools.product(ALL, ALL))


def test_statuses_are_exactly_the_designed_ones():
    assert {s.value for s in Status} == set(TABLE)


def test_table_matches_design():
    assert {k.value: {v.value for v in nxt} for k, nxt in states.TRANSITIONS.items()} == TABLE


@pytest.mark.parametrize(("src", "dst"), [p for p in PAIRS if p[1] in TABLE[p[0]]])
def test_allowed_pairs(src, dst):
    assert states.can_transition(src, dst)
    assert states.can_transition(Status(src), Status(dst))
    states.check_transition(src, dst)  # does not raise
    assert src in states.sources_of(dst)


@pytest.mark.parametrize(("src", "dst"), [p for p in PAIRS if p[1] not in TABLE[p[0]]])
def test_rejected_pairs_name_from_to_allowed(src, dst):
    assert not states.can_transition(src, dst)
    assert src not in states.sources_of(dst)
    with pytest.raises(InvalidTransition) as info:
        states.check_transition(src, dst)
    err = info.value
    assert err.extra["from"] == src
    assert err.extra["to"] == dst
    assert err.extra["allowed"] == sorted(TABLE[src])
    assert src in err.detail and dst in err.detail
    for allowed in TABLE[src]:
        assert allowed in err.detail
    if not TABLE[src]:
        assert "terminal" in err.detail


def test_terminal_and_groups():
    assert states.TERMINAL == {Status.DUPLICATE, Status.MERGED}
    assert states.ACTIVE == {Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}
    assert states.RESUMED_BY_CUSTOMER == {Status.WAITING_ON_CUSTOMER, Status.RESOLVED}
    assert states.REOPEN_WINDOW_DAYS == 7 and states.AUTO_CLOSE_HOURS == 72


@pytest.mark.parametrize("src", ALL)
def test_allowed_next_sorted(src):
    assert states.allowed_next(src) == sorted(TABLE[src])


@pytest.mark.parametrize("bad", ["open", "", "NEW", "closed ", "pending"])
def test_unknown_status_names_allowed_values(bad):
    with pytest.raises(InvalidTransition) as info:
        states.parse_status(bad)
    assert repr(bad) in info.value.detail
    assert info.value.extra["allowed"] == [s.value for s in Status]
    for s in ALL:
        assert s in info.value.detail


def test_sources_of_covers_every_reachable_status():
    reachable = {dst for nxt in TABLE.values() for dst in nxt}
    for status in ALL:
        assert set(states.sources_of(status)) == {s for s in ALL if status in TABLE[s]}
        assert bool(states.sources_of(status)) == (status in reachable)


def test_the_web_workspace_mirrors_the_table():
    """web/js/states.js copies the table so the ticket page offers only allowed moves: it must not drift."""
    import json
    import re
    from pathlib import Path

    source = (Path(__file__).resolve().parents[3] / "web" / "js" / "states.js").read_text()
    body = re.search(r"export const TRANSITIONS = (\{.*?\});", source, re.S).group(1)
    as_json = re.sub(r"(\w+):", r'"\1":', body).replace(",\n}", "\n}")
    mirrored = {k: set(v) for k, v in json.loads(as_json).items()}
    assert mirrored == {k.value: {v.value for v in nxt} for k, nxt in states.TRANSITIONS.items()}


def test_composite_moves_pass_through_allowed_steps():
    for (src, dst), via in states.COMPOSITE_MOVES.items():
        assert states.can_transition(src, via) and states.can_transition(via, dst)


def test_statuses_entered_only_by_their_command_are_reachable_by_the_table():
    for status in states.ENTERED_BY_COMMAND:
        assert states.sources_of(status), status

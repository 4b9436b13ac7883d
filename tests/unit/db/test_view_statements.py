"""The views' SQL carries only the predicates of the filters given: a prepared statement may get a
generic plan, which cannot fold away "(:x IS NULL OR ...)" the way a custom plan does."""
from __future__ import annotations

import itertools

import pytest

from helpdesk.db import views
from helpdesk.db.sqltext import parameter_names

BUILDERS = {
    "all": lambda f, c: views.all_tickets(f, c),
    "mine": lambda f, c: views.mine(f, c),
    "queue (one team)": lambda f, c: views.queue(f, c, True),
    "queue (my teams)": lambda f, c: views.queue(f, c, False),
    "at_risk": lambda f, c: views.at_risk(f, c),
    "all (newest first)": lambda f, c: views.all_tickets(f, c, "created"),
    "all (priority)": lambda f, c: views.all_tickets(f, c, "priority"),
    "mine (priority)": lambda f, c: views.mine(f, c, "priority"),
}


def parameters(statement: str) -> set[str]:
    return set(parameter_names(statement))


@pytest.mark.parametrize("view", BUILDERS)
def test_a_first_page_without_filters_has_no_optional_predicate(view):
    statement = BUILDERS[view](frozenset(), False)
    assert "IS NULL OR" not in statement
    assert not parameters(statement) & {"statuses", "team_id", "assignee_id", "priority", "requester_id",
                                         "c_ts", "c_id", "c_rank", "has_cursor"}


@pytest.mark.parametrize("view", BUILDERS)
def test_each_filter_and_the_cursor_add_exactly_their_own_parameters(view):
    for size in range(len(views.FILTERS) + 1):
        for chosen in itertools.combinations(views.FILTERS, size):
            for has_cursor in (False, True):
                statement = BUILDERS[view](frozenset(chosen), has_cursor)
                expected = {p for name in chosen for p in parameters(views.FILTERS[name])}
                if has_cursor:
                    expected |= {"c_ts", "c_id"} | ({"c_rank"} if view.startswith("queue") or "priority" in view else set())
                base = parameters(BUILDERS[view](frozenset(), False))
                assert parameters(statement) - base == expected, (view, chosen, has_cursor)


def test_an_unknown_filter_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown view filters"):
        views.mine(frozenset({"colour"}), False)

"""Data API calls per admin console page load (the requests of bench/console_pages.PAGES): at most 3
for a signed-in admin whose agent record is cached, whatever the number of rows."""
from __future__ import annotations

import pytest

from bench.console_pages import PAGES


@pytest.mark.parametrize("section", sorted(PAGES))
def test_a_console_page_load_costs_at_most_three_calls(admin, db, section):
    root, _ = admin
    root.get("/api/v1/agents/me")  # signed in: the agent record is cached
    db.stats.calls = 0
    for path, query in PAGES[section]:
        answer = root.get(f"/api/v1{path}", query=query or None)
        assert answer.status == 200, (path, answer.body)
    assert db.stats.calls <= 3, section
    assert db.stats.calls == len(PAGES[section])  # one call per request

"""The engine's copy of the active triggers: every one in order whatever their size (pages under the
Data API's response limit), reloaded after the TTL, at once after a change through Triggers."""
from __future__ import annotations

from helpdesk.triggers import store
from helpdesk.triggers.store import ActiveTriggers, Triggers, active_triggers
from tests.factories import FACTORY


def make(rules: Triggers, n: int, **over) -> None:
    for i in range(n):
        rules.create({"name": f"rule {i:02d}", "position": n - i, "events": ["ticket_created"],
                      "conditions": {"all": [{"field": "body", "op": "contains_any", "value": [f"word{i}-" + "x" * 90]}]},
                      "actions": [{"type": "add_tags", "value": [f"t{i}"]}], **over}, by=FACTORY)


def test_every_active_trigger_in_order_a_page_at_a_time(db, clock, monkeypatch):
    rules = Triggers(db, clock)
    make(rules, 7)
    rules.update(rules.list()[0].id, {"is_active": False}, by=FACTORY)
    one = ActiveTriggers.load(db)
    assert one.calls == 1 and [t.name for t in one.triggers] == [f"rule {i:02d}" for i in range(5, -1, -1)]
    monkeypatch.setattr(store, "PAGE_BYTES", 900)  # about two definitions a page
    paged = ActiveTriggers.load(db)
    assert [t.name for t in paged.triggers] == [t.name for t in one.triggers] and 3 <= paged.calls <= 6
    monkeypatch.setattr(store, "PAGE_BYTES", 10)  # smaller than any one: still one each, never stuck
    tiny = ActiveTriggers.load(db)
    assert [t.name for t in tiny.triggers] == [t.name for t in one.triggers] and tiny.calls == 6


def test_the_copy_is_kept_for_the_ttl_and_dropped_on_a_change(db, clock, monkeypatch):
    store.invalidate()
    rules = Triggers(db, clock)
    make(rules, 2)
    first = active_triggers(db)
    db.stats.calls = 0
    assert active_triggers(db) is first and db.stats.calls == 0
    db.execute("UPDATE triggers SET is_active = false")  # another process's change: seen after the TTL
    assert len(active_triggers(db).triggers) == 2
    assert len(active_triggers(db, max_age=0).triggers) == 0
    rules.create({"name": "new", "events": ["sla_warning"], "actions": [{"type": "set_priority", "value": "high"}]}, by=FACTORY)
    assert [t.name for t in active_triggers(db).triggers] == ["new"]  # this process's change: at once
    store.invalidate()

"""Deadlines predicted before the create statement (helpdesk.sla.cache) are exactly the follow-up's.

Every case creates the same ticket twice at the same instant: first with no cached SLA copy (today's
path: the statement leaves the clocks pending and the follow-up computes them; that follow-up also
fills the copy), then with the copy (the statement writes the predicted deadlines itself). The rows
must be identical, and the call counts say which path each took.
"""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.events.publisher import DeferredPublisher
from helpdesk.routing.intake import open_ticket as routed_open
from helpdesk.routing.rules import RoutingRules
from helpdesk.sla import cache as sla_cache
from helpdesk.tickets.models import Actor
from tests.factories import FACTORY

from .conftest import FRIDAY_17, H

COLUMNS = ("kind", "policy_id", "target_seconds", "business", "schedule", "state", "started_at", "due_at", "warn_at",
           "paused_at", "recompute_from", "adjust_seconds", "met_at")
LONDON = {"timezone": "Europe/London", "hours": {d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-03-09"]}


def sla_rows(db, ticket_id) -> list[dict]:
    rows = db.query("SELECT to_jsonb(s) AS doc FROM sla_targets s WHERE ticket_id = :t::uuid ORDER BY kind",
                    {"t": ticket_id})
    return [{k: r["doc"].get(k) for k in COLUMNS} for r in rows]


@pytest.fixture
def both_paths(db, cmds):
    """create() twice: without the cached copy (reference), then with it; returns (reference, predicted, calls)."""
    def run(create=None, **fields):
        create = create or (lambda: cmds.create_ticket(fields_with_defaults(fields)).ticket)
        sla_cache.invalidate(db)
        db.stats.calls = 0
        reference = create()
        reference_calls = db.stats.calls
        db.stats.calls = 0
        predicted = create()
        predicted_calls = db.stats.calls
        return sla_rows(db, reference.id), sla_rows(db, predicted.id), (reference_calls, predicted_calls)
    return run


def fields_with_defaults(fields: dict) -> dict:
    return {"channel": "email", "subject": "printer on fire", "body": "help", "requester_email": "kim@example.com",
            "priority": "normal", **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()}}


def test_business_hours_policy_is_predicted_and_identical(both_paths, standard_policy, team):
    reference, predicted, calls = both_paths(team_id=team)
    assert calls == (2, 1)  # pending + follow-up, then the create alone
    assert reference == predicted
    assert [r["kind"] for r in predicted] == ["first_response", "resolution"]
    assert all(r["due_at"] and r["warn_at"] and r["recompute_from"] is None for r in predicted)


@pytest.mark.parametrize("at", [
    FRIDAY_17,                                              # Friday 17:00 EST, across the DST change
    datetime(2026, 3, 9, 13, 0, tzinfo=timezone.utc),       # Monday 09:00 EDT, opening time
    datetime(2026, 3, 7, 15, 30, 12, 345678, tzinfo=timezone.utc),  # Saturday, microseconds
    datetime(2026, 11, 1, 5, 59, tzinfo=timezone.utc),      # the night DST ends
    datetime(2026, 12, 31, 21, 45, tzinfo=timezone.utc),    # 16:45, short of the 30-minute lead
])
def test_identical_at_any_instant(both_paths, standard_policy, team, now, at):
    now.set(at)
    reference, predicted, calls = both_paths(team_id=team)
    assert calls == (2, 1) and reference == predicted


def test_tiers_calendar_targets_and_policy_schedule(db, both_paths, policies, team, now):
    london = db.query_one("INSERT INTO schedules (name, document) VALUES ('london', :d::jsonb) RETURNING id",
                          {"d": LONDON})["id"]
    policies.create({"name": "enterprise", "position": 10, "tier": "enterprise", "schedule_id": london, "targets": {
        "first_response": {"seconds": 1800}, "resolution": {"seconds": 4 * H, "business": False}}}, by=FACTORY)
    policies.create({"name": "premium", "position": 20, "tier": "premium", "targets": {
        "first_response": {"seconds": 2 * H, "business": False}}}, by=FACTORY)
    policies.create({"name": "everyone", "position": 30, "targets": {"resolution": {"seconds": 9 * H}}}, by=FACTORY)
    db.execute("INSERT INTO customers (email, tier) VALUES ('big@example.com', 'enterprise'), "
               "('mid@example.com', 'premium')")
    for email, kinds in (("big@example.com", ["first_response", "resolution"]), ("mid@example.com", ["first_response"]),
                         ("small@example.com", ["resolution"])):
        reference, predicted, calls = both_paths(team_id=team, requester_email=email)
        assert calls == (2, 1), email
        assert reference == predicted and [r["kind"] for r in predicted] == kinds


def test_contract_policy_keeps_the_follow_up_and_is_identical(db, cmds, both_paths, policies, standard_policy, team):
    contract = policies.create({"name": "contract", "position": 500, "targets": {"first_response": {"seconds": 900}}}, by=FACTORY)
    customer = db.query_one("INSERT INTO customers (email) VALUES ('vip@example.com') RETURNING id")["id"]
    policies.set_customer_contract(customer, contract["id"])
    reference, predicted, calls = both_paths(team_id=team, requester_email="vip@example.com")
    assert calls == (2, 2)  # the copy cannot see contracts: pending path both times
    assert reference == predicted and predicted[0]["policy_id"] == contract["id"]
    # the contract miss did not mark the copy stale: another customer is still predicted
    db.stats.calls = 0
    cmds.create_ticket(fields_with_defaults({"team_id": team, "requester_email": "other@example.com"}))
    assert db.stats.calls == 1


@pytest.mark.parametrize("change", ["policy_targets", "schedule_document", "team_schedule", "new_policy_first"])
def test_a_change_made_elsewhere_after_the_copy_is_seen_and_refreshed(db, cmds, standard_policy, team, change):
    new = fields_with_defaults({"team_id": team})
    cmds.create_ticket(new)  # fills the copy
    if change == "policy_targets":  # another process edits the policy (no invalidation here)
        db.execute("UPDATE sla_policies SET targets = '{\"first_response\": {\"seconds\": 7200}}' WHERE id = :p::uuid",
                   {"p": standard_policy["id"]})
    elif change == "schedule_document":
        db.execute("UPDATE schedules SET document = :d::jsonb", {"d": LONDON})
    elif change == "team_schedule":
        sid = db.query_one("INSERT INTO schedules (name, document) VALUES ('london', :d::jsonb) RETURNING id", {"d": LONDON})["id"]
        db.execute("UPDATE teams SET schedule_id = :s::uuid WHERE id = :t::uuid", {"s": sid, "t": team})
    else:
        db.execute("INSERT INTO sla_policies (name, position, targets) VALUES ('first', 1, "
                   "'{\"resolution\": {\"seconds\": 3600, \"business\": false}}')")
    db.stats.calls = 0
    stale = cmds.create_ticket(new).ticket
    assert db.stats.calls == 2  # the mismatch took the pending path; its follow-up refreshed the copy
    db.stats.calls = 0
    fresh = cmds.create_ticket(new).ticket
    assert db.stats.calls == 1
    assert sla_rows(db, stale.id) == sla_rows(db, fresh.id)
    sla_cache.invalidate(db)
    reference = cmds.create_ticket(new).ticket
    assert sla_rows(db, reference.id) == sla_rows(db, fresh.id)


def test_a_policy_deactivated_elsewhere_starts_no_clock_and_drops_the_copy(db, cmds, standard_policy, team):
    new = fields_with_defaults({"team_id": team})
    cmds.create_ticket(new)
    db.execute("UPDATE sla_policies SET is_active = false")
    db.stats.calls = 0
    t = cmds.create_ticket(new).ticket
    assert db.stats.calls == 1 and sla_rows(db, t.id) == []
    assert sla_cache.cached(db) is None


def test_no_policy_is_one_call_and_fills_nothing(db, cmds, team):
    sla_cache.invalidate(db)
    db.stats.calls = 0
    cmds.create_ticket(fields_with_defaults({"team_id": team}))
    cmds.create_ticket(fields_with_defaults({"team_id": team}))
    assert db.stats.calls == 2 and sla_cache.cached(db) is None


def test_a_copy_left_from_another_database_state_costs_what_a_cold_one_does(db, cmds, policies, team, now):
    """The copy is per database, not per DataApi: one left over (tests reset tables) only mismatches."""
    policies.create({"name": "old", "targets": {"resolution": {"seconds": 3600}}}, by=FACTORY)
    cmds.create_ticket(fields_with_defaults({"team_id": team}))
    assert sla_cache.cached(db) is not None
    db.execute("UPDATE sla_policies SET is_active = false")
    fresh = policies.create({"name": "new", "targets": {"resolution": {"seconds": 7200}}}, by=FACTORY)
    db.stats.calls = 0
    t = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    assert db.stats.calls == 2  # stale: pending path, its follow-up refreshed the copy
    assert sla_rows(db, t.id)[0]["policy_id"] == fresh["id"]
    db.stats.calls = 0
    cmds.create_ticket(fields_with_defaults({"team_id": team}))
    assert db.stats.calls == 1


def test_an_odd_stored_target_is_left_to_the_follow_up(db, both_paths, team):
    db.execute("""INSERT INTO sla_policies (name, targets) VALUES ('odd',
        '{"first_response": {"seconds": 3600, "business": null}, "resolution": {"seconds": 7200}}')""")
    reference, predicted, calls = both_paths(team_id=team)
    assert calls == (2, 2) and reference == predicted  # first_response pending both times, resolution predicted
    assert predicted[1]["kind"] == "resolution" and predicted[1]["due_at"]


def test_routed_per_tier_teams(db, both_paths, policies, team, now, clock):
    """Through open_ticket: the tier picks the team (routing rule), the team picks the schedule."""
    from helpdesk.routing import config as routing_config

    routing_config.invalidate()
    london = db.query_one("INSERT INTO schedules (name, document) VALUES ('london', :d::jsonb) RETURNING id",
                          {"d": LONDON})["id"]
    vip = db.query_one("INSERT INTO teams (name, schedule_id, assignment_mode) VALUES ('vip', :s::uuid, 'pull') RETURNING id",
                       {"s": london})["id"]
    db.execute("UPDATE teams SET is_default = true, assignment_mode = 'pull' WHERE id = :t::uuid", {"t": team})
    RoutingRules(db, now).create({"name": "vip", "team_id": vip, "conditions": {"tiers": ["enterprise"]}}, by=FACTORY)
    policies.create({"name": "all", "targets": {"first_response": {"seconds": H}, "resolution": {"seconds": 8 * H}}}, by=FACTORY)
    db.execute("INSERT INTO customers (email, tier) VALUES ('big@example.com', 'enterprise')")
    for email, team_id in (("big@example.com", vip), ("small@example.com", str(team))):
        def create():
            return routed_open(db, now, DeferredPublisher(), fields_with_defaults({"requester_email": email})).ticket
        create()  # warm the routing cache
        reference, predicted, calls = both_paths(create)
        assert calls == (2, 1), email
        assert reference == predicted
        assert predicted[0]["schedule"]["timezone"] == ("Europe/London" if team_id == vip else "America/New_York")
    routing_config.invalidate()


def test_lifecycle_after_a_predicted_create_matches_the_reference(db, cmds, standard_policy, team, now, agent_actor, agent):
    """Pause (waiting on customer), resume on the customer's reply, resolve, reopen: same rows either way."""
    sla_cache.invalidate(db)
    ref = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    pred = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    steps = [
        (timedelta(minutes=5), lambda t: cmds.assign(t, agent_actor, agent_id=agent)),
        (timedelta(hours=1), lambda t: cmds.add_message(t, {"author_type": "agent", "author_agent_id": str(agent),
                                                            "body": "on it", "channel": "email"}, agent_actor)),
        (timedelta(minutes=1), lambda t: cmds.transition(t, "in_progress", agent_actor)),
        (timedelta(hours=64), lambda t: cmds.transition(t, "waiting_on_customer", agent_actor)),
        (timedelta(hours=3), lambda t: cmds.receive_customer_message(t, {"author_type": "customer", "body": "here",
                                                                          "author_email": "kim@example.com",
                                                                          "channel": "email"})),
        (timedelta(hours=1), lambda t: cmds.transition(t, "resolved", agent_actor)),
        (timedelta(hours=2), lambda t: cmds.transition(t, "closed", agent_actor)),
        (timedelta(hours=5), lambda t: cmds.receive_customer_message(t, {"author_type": "customer", "body": "again",
                                                                          "author_email": "kim@example.com",
                                                                          "channel": "email"})),
    ]
    assert sla_rows(db, ref.id) == sla_rows(db, pred.id)
    for step, act in steps:
        now.set(now.now() + step)
        act(ref.id)
        act(pred.id)
        assert sla_rows(db, ref.id) == sla_rows(db, pred.id), step
    states = {r["kind"]: r["state"] for r in sla_rows(db, pred.id)}
    assert states == {"first_response": "met", "resolution": "running"}  # reopened: resolution restarted


def test_followup_ticket_of_a_long_closed_one_is_predicted(db, cmds, standard_policy, team, now, agent_actor, agent):
    old = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    cmds.assign(old.id, agent_actor, agent_id=agent)
    cmds.transition(old.id, "in_progress", agent_actor)
    cmds.transition(old.id, "resolved", agent_actor)
    cmds.transition(old.id, "closed", agent_actor)
    now.set(now.now() + timedelta(days=10))
    db.stats.calls = 0
    result = cmds.receive_customer_message(old.id, {"author_type": "customer", "body": "back", "channel": "email",
                                                   "author_email": "kim@example.com"})
    assert result.followup_of == old.id and db.stats.calls == 2  # the reopen attempt + the create, no follow-up
    sla_cache.invalidate(db)
    reference = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    assert sla_rows(db, reference.id) == sla_rows(db, result.ticket.id)


def test_random_policies_and_instants(db, cmds, policies, team, now):
    """Random targets (business or calendar, 1 minute to 2 weeks) and instants over a year."""
    rng = random.Random(20261123)
    london = db.query_one("INSERT INTO schedules (name, document) VALUES ('london', :d::jsonb) RETURNING id",
                          {"d": LONDON})["id"]
    for i in range(40):
        db.execute("UPDATE sla_policies SET is_active = false")
        targets = {kind: {"seconds": rng.choice([60, 900, 3600, 4 * H + 17, 9 * H, 86400, 14 * 86400]),
                          "business": rng.choice([True, False])}
                   for kind in rng.sample(["first_response", "resolution"], rng.randint(1, 2))}
        policies.create({"name": f"p{i}", "position": i, "targets": targets,
                         "schedule_id": london if rng.random() < 0.3 else None}, by=FACTORY)
        now.set(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(365 * 86400)))
        new = fields_with_defaults({"team_id": team, "priority": rng.choice(["low", "normal", "high", "urgent"])})
        sla_cache.invalidate(db)
        reference = cmds.create_ticket(new).ticket
        db.stats.calls = 0
        predicted = cmds.create_ticket(new).ticket
        assert db.stats.calls == 1, (i, targets)
        assert sla_rows(db, reference.id) == sla_rows(db, predicted.id), (i, targets, now.now())


def test_actor_is_irrelevant_to_prediction(both_paths, standard_policy, team, cmds):
    reference, predicted, calls = both_paths(
        lambda: cmds.create_ticket(fields_with_defaults({"team_id": team}), Actor(type="system")).ticket)
    assert calls == (2, 1) and reference == predicted


def test_next_reply_start_and_restart_are_predicted_and_identical(db, cmds, policies, team, now, agent, agent_actor):
    london = db.query_one("INSERT INTO schedules (name, document) VALUES ('london', :d::jsonb) RETURNING id",
                          {"d": LONDON})["id"]  # a second known schedule: the plan covers both
    policies.create({"name": "nr", "targets": {"first_response": {"seconds": H}, "next_reply": {"seconds": 2 * H + 7}}}, by=FACTORY)
    policies.create({"name": "nr calendar", "tier": "premium", "schedule_id": london,
                     "targets": {"next_reply": {"seconds": 5400, "business": False}}}, by=FACTORY)
    ref = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    pred = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket
    for t in (ref, pred):
        cmds.add_message(t.id, {"body": "x", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)

    def customer_says(t, text):
        cmds.receive_customer_message(t.id, {"body": text, "author_type": "customer", "author_email": "kim@example.com"})

    for at, who in ((datetime(2026, 3, 9, 20, 0, tzinfo=timezone.utc), "customer"),   # 16:00 EDT: into Tuesday
                    (datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc), "agent"),     # meets it
                    (datetime(2026, 3, 13, 21, 59, 59, 999, tzinfo=timezone.utc), "customer")):  # restart (ON CONFLICT)
        now.set(at)
        if who == "agent":
            for t in (ref, pred):
                cmds.add_message(t.id, {"body": "y", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
            continue
        sla_cache.invalidate(db)
        db.stats.calls = 0
        customer_says(ref, "reference")
        assert db.stats.calls == 2  # no copy: the follow-up computes it (and leaves no copy: not a create)
        sla_cache.load(db)
        db.stats.calls = 0
        customer_says(pred, "predicted")
        assert db.stats.calls == 1
        assert sla_rows(db, ref.id) == sla_rows(db, pred.id), at
        nr = {r["kind"]: r for r in sla_rows(db, pred.id)}["next_reply"]
        assert nr["state"] == "running" and nr["due_at"] and nr["recompute_from"] is None


def test_next_reply_with_a_schedule_copy_the_cache_does_not_know_takes_the_follow_up(db, cmds, policies, team, now,
                                                                                      agent, agent_actor):
    policies.create({"name": "nr", "targets": {"first_response": {"seconds": H}, "next_reply": {"seconds": 2 * H}}}, by=FACTORY)
    t = cmds.create_ticket(fields_with_defaults({"team_id": team})).ticket  # clocks copy the New York schedule
    cmds.add_message(t.id, {"body": "x", "author_type": "agent", "author_agent_id": str(agent)}, agent_actor)
    db.execute("UPDATE schedules SET document = :d::jsonb", {"d": LONDON})  # edited since: the copy is old hours
    sla_cache.load(db)
    now.set(datetime(2026, 3, 9, 20, 0, tzinfo=timezone.utc))
    db.stats.calls = 0
    cmds.receive_customer_message(t.id, {"body": "z", "author_type": "customer", "author_email": "kim@example.com"})
    assert db.stats.calls == 2
    nr = {r["kind"]: r for r in sla_rows(db, t.id)}["next_reply"]
    # the clock keeps the schedule it started with (New York): Monday 16:00 EDT + 2h = Tuesday 10:00 EDT
    assert nr["due_at"] and datetime.fromisoformat(nr["due_at"]) == datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


def test_next_reply_plan_is_skipped_beyond_its_size_limit(db, policies, team, now):
    for i in range(3):
        policies.create({"name": f"nr{i}", "position": i, "targets": {"next_reply": {"seconds": H}}}, by=FACTORY)
    config = sla_cache.load(db)
    assert config.next_reply_plan(now.now(), max_walks=100) is not None
    assert config.next_reply_plan(now.now(), max_walks=2) is None

"""The SLA policy match has one home (the SQL function sla_policy_match, migration 1161); the
create-time prediction's Python copy (helpdesk.sla.cache.SlaConfig.match) must pick the same policy
for every ticket, whatever the policies, their order, names and conditions."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.cache import SlaConfig
from helpdesk.sla.policies import SlaPolicies
from tests.factories import FACTORY

PRIORITIES = ("low", "normal", "high", "urgent")
TIERS = ("standard", "premium", "enterprise")
CHANNELS = ("email", "web", "chat", "api")

policy_docs = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from(["a", "B", "b", "ab", "Zed", "zed", "é"]),
    "position": st.integers(0, 3),
    "priority": st.none() | st.sampled_from(PRIORITIES),
    "tier": st.none() | st.sampled_from(TIERS),
    "channel": st.none() | st.sampled_from(CHANNELS),
    "on_team": st.booleans(),
    "is_active": st.booleans(),
}), min_size=0, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=policy_docs)
def test_the_prediction_picks_what_the_sql_rule_picks(db, factories, docs):
    db.execute("DELETE FROM sla_targets")
    db.execute("DELETE FROM sla_policies")
    team = factories.team("support")
    policies = SlaPolicies(db)
    for i, doc in enumerate(docs):
        policies.create({"name": f"{doc['name']}{'-' * i}" if any(d["name"] == doc["name"] for d in docs[:i]) else doc["name"],
                         "position": doc["position"], "priority": doc["priority"], "tier": doc["tier"],
                         "channel": doc["channel"], "team_id": team if doc["on_team"] else None,
                         "is_active": doc["is_active"], "targets": {"first_response": {"seconds": 3600}}}, by=FACTORY)
    config = SlaConfig.load(db)
    for priority, tier, channel, team_id in itertools.product(PRIORITIES, TIERS, CHANNELS, (None, team)):
        in_sql = db.query_one("SELECT id FROM sla_policy_match(NULL, :tier, :priority, :team_id::uuid, :channel)",
                              {"tier": tier, "priority": priority, "team_id": team_id, "channel": channel})
        predicted = config.match(priority=priority, tier=tier, team_id=str(team_id) if team_id else None, channel=channel)
        assert (predicted.id if predicted else None) == (in_sql["id"] if in_sql else None), (priority, tier, channel, team_id)

"""Rule matching: ordered, first match wins, AND across conditions, OR within one, word-boundary keywords."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk import errors
from helpdesk.routing.matching import conditions_match, first_match
from helpdesk.routing.models import Intake, Rule, RuleConditions, RuleIn, RuleUpdate
from helpdesk.tickets.models import NewTicket

CHANNELS = ["email", "web", "chat", "slack", "api"]
PRIORITIES = ["low", "normal", "high", "urgent"]
TIERS = ["standard", "premium", "enterprise"]
WORDS = ["refund", "invoice", "login", "crash", "billing", "vpn"]
TAGS = ["vip", "bug", "sales", "legal"]
RECIPIENTS = ["support@example.com", "billing@example.com", "orders@example.com"]


def rule(position: int, conditions: dict | RuleConditions | None = None, *, active: bool = True) -> Rule:
    conds = conditions if isinstance(conditions, RuleConditions) else RuleConditions.parse(conditions or {})
    return Rule(id=uuid.uuid4(), name=f"r{position}-{uuid.uuid4().hex[:4]}", position=position, is_active=active,
                conditions=conds, team_id=uuid.uuid4())


def intake(**kw) -> Intake:
    return Intake.parse({"channel": "email", **kw})


# -- examples ------------------------------------------------------------------------------------
def test_keyword_is_case_insensitive_whole_word():
    c = RuleConditions.parse({"keywords": ["Refund"]})
    assert conditions_match(c, intake(subject="REFUND please"))
    assert conditions_match(c, intake(body="I want a refund."))
    assert not conditions_match(c, intake(body="refunded already"))
    assert not conditions_match(c, intake(body="nonrefund"))


def test_keyword_phrases_and_punctuation():
    c = RuleConditions.parse({"keywords": ["credit  card", "c++"]})
    assert conditions_match(c, intake(body="my Credit\ncard was charged"))
    assert conditions_match(c, intake(subject="c++ compiler crash"))
    assert not conditions_match(c, intake(subject="abc++ weird"))
    assert not conditions_match(c, intake(subject="creditcard"))


def test_all_conditions_must_hold_any_value_within_one():
    c = RuleConditions.parse({"channels": ["email", "web"], "priorities": ["urgent"], "tiers": ["enterprise"],
                              "recipients": ["Billing@Example.com"], "tags": ["VIP"]})
    ok = dict(channel="web", priority="urgent", tier="enterprise", recipients=["billing@example.com"], tags=["vip", "x"])
    assert conditions_match(c, intake(**ok))
    for key, bad in [("channel", "chat"), ("priority", "high"), ("tier", "premium"),
                     ("recipients", ["support@example.com"]), ("tags", ["x"])]:
        assert not conditions_match(c, intake(**{**ok, key: bad})), key


def test_missing_tier_counts_as_standard():
    assert conditions_match(RuleConditions.parse({"tiers": ["standard"]}), intake())
    assert not conditions_match(RuleConditions.parse({"tiers": ["premium"]}), intake())


def test_inactive_rules_are_skipped():
    first = rule(1, {"channels": ["email"]}, active=False)
    second = rule(2, {"channels": ["email"]})
    assert first_match([first, second], intake()) is second


def test_recipients_from_new_ticket_metadata():
    new = NewTicket.parse({"channel": "email", "subject": "s", "body": "b", "requester_email": "c@example.com",
                           "metadata": {"recipient": "Billing@example.com", "recipients": ["orders@example.com", "junk", 5]}})
    assert Intake.from_new_ticket(new).recipients == ["billing@example.com", "orders@example.com"]


@pytest.mark.parametrize("data, needle", [
    ({"name": "x", "team_id": str(uuid.uuid4()), "conditions": {"channels": ["fax"]}}, "conditions.channels.0"),
    ({"name": "x", "team_id": str(uuid.uuid4()), "conditions": {"keywords": ["  "]}}, "keyword must be 1 to 100"),
    ({"name": "x", "team_id": str(uuid.uuid4()), "conditions": {"recipients": ["nope"]}}, "not an email address"),
    ({"name": "x", "team_id": str(uuid.uuid4()), "conditions": {"colour": ["red"]}}, "conditions.colour"),
    ({"name": " ", "team_id": str(uuid.uuid4())}, "name must not be blank"),
    ({"name": "x", "team_id": "nope"}, "team_id"),
    ({"name": "x", "team_id": str(uuid.uuid4()), "position": -1}, "position"),
])
def test_rule_validation_names_the_field(data, needle):
    with pytest.raises(errors.ValidationFailed) as exc:
        RuleIn.parse(data)
    assert needle in exc.value.detail


def test_update_rejects_nulls_and_empty():
    with pytest.raises(errors.ValidationFailed, match="null is not allowed"):
        RuleUpdate.parse({"team_id": None})
    with pytest.raises(errors.ValidationFailed, match="at least one"):
        RuleUpdate.parse({})


# -- properties ----------------------------------------------------------------------------------
conditions_st = st.builds(
    lambda ch, pr, ti, kw, tg, rc: RuleConditions.parse(
        {"channels": ch, "priorities": pr, "tiers": ti, "keywords": kw, "tags": tg, "recipients": rc}),
    st.lists(st.sampled_from(CHANNELS), max_size=2), st.lists(st.sampled_from(PRIORITIES), max_size=2),
    st.lists(st.sampled_from(TIERS), max_size=2), st.lists(st.sampled_from(WORDS), max_size=2),
    st.lists(st.sampled_from(TAGS), max_size=2), st.lists(st.sampled_from(RECIPIENTS), max_size=1),
)
intake_st = st.builds(
    lambda ch, pr, ti, subj, body, tg, rc: Intake.parse({
        "channel": ch, "priority": pr, "tier": ti, "subject": " ".join(subj) or "hello", "body": " ".join(body),
        "tags": tg, "recipients": rc}),
    st.sampled_from(CHANNELS), st.sampled_from(PRIORITIES), st.sampled_from(TIERS),
    st.lists(st.sampled_from(WORDS + ["the", "help"]), max_size=3), st.lists(st.sampled_from(WORDS + ["x"]), max_size=4),
    st.lists(st.sampled_from(TAGS), max_size=2, unique=True), st.lists(st.sampled_from(RECIPIENTS), max_size=2, unique=True),
)
rules_st = st.lists(st.tuples(conditions_st, st.booleans()), max_size=8).map(
    lambda items: [rule(i * 10, c, active=a) for i, (c, a) in enumerate(items)])


def reference_match(c: RuleConditions, i: Intake) -> bool:
    """An independent statement of the semantics, on words instead of regular expressions."""
    words = set(i.subject.lower().split()) | set(i.body.lower().split())
    return ((not c.channels or i.channel in c.channels) and (not c.priorities or i.priority in c.priorities)
            and (not c.tiers or i.tier in c.tiers) and (not c.keywords or bool(words & set(c.keywords)))
            and (not c.tags or bool(set(i.tags) & set(c.tags)))
            and (not c.recipients or bool(set(i.recipients) & set(c.recipients))))


@settings(max_examples=300, deadline=None)
@given(rules_st, intake_st)
def test_first_match_is_the_earliest_active_matching_rule(rules, i):
    got = first_match(rules, i)
    expected = next((r for r in rules if r.is_active and reference_match(r.conditions, i)), None)
    assert got is expected
    if got is not None:  # nothing before it matched
        assert not any(r.is_active and conditions_match(r.conditions, i) for r in rules[:rules.index(got)])


@settings(max_examples=200, deadline=None)
@given(rules_st, intake_st)
def test_empty_conditions_match_everything_and_end_the_search(rules, i):
    catch_all = rule(10_000, {})
    assert conditions_match(catch_all.conditions, i)
    got = first_match(rules + [catch_all], i)
    assert got is not None
    assert got is catch_all or rules.index(got) >= 0
    assert first_match([catch_all] + rules, i) is catch_all


@settings(max_examples=200, deadline=None)
@given(rules_st, intake_st)
def test_rules_after_a_match_do_not_matter(rules, i):
    got = first_match(rules, i)
    if got is None:
        return
    cut = rules.index(got) + 1
    assert first_match(rules[:cut], i) is got
    assert first_match(rules[:cut] + [rule(99_999, {})], i) is got


@settings(max_examples=200, deadline=None)
@given(conditions_st, intake_st)
def test_adding_a_condition_never_widens_the_match(c, i):
    narrower = RuleConditions.parse({**c.model_dump(), "channels": ["chat"]})
    if conditions_match(narrower, i):
        assert conditions_match(c.model_copy(update={"channels": []}), i)

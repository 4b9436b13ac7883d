"""Pure rule matching: ordered rules, first match wins. No database here, so it is property-tested."""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from helpdesk.routing.models import Intake, Rule, RuleConditions


@lru_cache(maxsize=4096)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword or phrase as a whole word, case-insensitive. Lookarounds instead of \\b, so keywords
    that start or end with punctuation ("c++", ".net") still need a non-word character (or the text's
    edge) on each side; whitespace inside a phrase matches any run of whitespace."""
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def conditions_match(conditions: RuleConditions, intake: Intake) -> bool:
    if conditions.channels and intake.channel not in conditions.channels:
        return False
    if conditions.priorities and intake.priority not in conditions.priorities:
        return False
    if conditions.tiers and (intake.tier or "standard") not in conditions.tiers:
        return False
    if conditions.recipients and not set(conditions.recipients).intersection(intake.recipients):
        return False
    if conditions.tags and not set(conditions.tags).intersection(intake.tags):
        return False
    if conditions.keywords:
        text = (intake.subject, intake.body)
        if not any(keyword_pattern(k).search(part) for k in conditions.keywords for part in text):
            return False
    return True


def first_match(rules: Sequence[Rule], intake: Intake) -> Rule | None:
    """The first active rule, in position order, whose conditions hold. `rules` must already be in
    evaluation order (position, created_at, id), as RoutingRules.list() returns them."""
    for rule in rules:
        if rule.is_active and conditions_match(rule.conditions, intake):
            return rule
    return None


def needs_tier(rules: Sequence[Rule]) -> bool:
    return any(r.is_active and r.conditions.tiers for r in rules)


def tags_after(tags: Sequence[str], rule: Rule | None) -> list[str]:
    """A ticket's tags once its rule has added its own (order kept, no duplicates)."""
    return list(dict.fromkeys([*tags, *(rule.add_tags if rule else ())]))

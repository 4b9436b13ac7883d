"""cdk-nag suppressions: every one names the rule, the finding it covers and why it is accepted.

Kept in one helper so the reasons read like a ledger; tests assert no AwsSolutions error is left
unsuppressed (tests/infra/test_nag.py).
"""
from __future__ import annotations

from typing import Sequence

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def suppress(construct: IConstruct, rule: str, reason: str, *, applies_to: Sequence[str] | None = None,
             children: bool = True) -> None:
    if len(reason) < 20:
        raise ValueError(f"suppression of {rule} needs a real reason (>= 20 characters), got {reason!r}")
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) if applies_to else None)],
        apply_to_children=children,
    )

"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized templates."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

# CDK writes explicit DependsOn next to Ref/GetAtt on resources it generates (roles before
# functions, rule set before its activation); harmless, and not ours to change.
ACCEPTED_LINT_RULES = {"W3005"}


def test_cdk_nag_has_no_unsuppressed_errors(synth):
    errors = [f"{m['path']}: {m['text'][:200]}" for m in synth.nag("error")]
    assert errors == []


def test_cdk_nag_has_no_unsuppressed_warnings(synth):
    warnings = [f"{m['path']}: {m['text'][:200]}" for m in synth.nag("warning")]
    assert warnings == []


def test_every_suppression_has_a_reason():
    """Suppressions go through infra.nag.suppress, which refuses a reason shorter than 20 characters."""
    from infra.nag import suppress

    with pytest.raises(ValueError, match="real reason"):
        suppress(None, "AwsSolutions-IAM5", "because")  # type: ignore[arg-type]
    infra = Path(__file__).resolve().parents[2] / "infra"
    direct = [p.name for p in infra.glob("*.py") if p.name != "nag.py" and "NagSuppressions" in p.read_text()]
    assert direct == [], "suppress through infra.nag.suppress so every suppression carries a reason"


def test_cfn_lint_clean(synth):
    matches = synth.lint_findings()
    findings = [f"{m['rule']} {m['message']} ({m['path']})" for m in matches if m["rule"] not in ACCEPTED_LINT_RULES]
    assert findings == []
    assert not [m for m in matches if re.match(r"E", m["rule"])]

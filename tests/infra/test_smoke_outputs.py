"""scripts/smoke.py reads a deployed stage through its stack outputs: every one it needs exists, and
the database ones name the cluster and secret the functions use."""
from __future__ import annotations

import importlib.util
import sys

from tests.infra.conftest import ROOT
from tests.infra.test_stack_resources import our_functions


def _required_outputs() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("smoke_script", ROOT / "scripts" / "smoke.py")
    module = sys.modules.setdefault("smoke_script", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module.REQUIRED_OUTPUTS


def test_the_stack_has_every_output_the_smoke_script_reads(synth):
    outputs = synth.template["Outputs"]
    missing = [name for name in _required_outputs() if name not in outputs]
    assert not missing, f"scripts/smoke.py needs stack outputs {missing}"
    env = our_functions(synth)["api"]["Environment"]["Variables"]
    assert outputs["DbClusterArn"]["Value"] == env["DB_CLUSTER_ARN"]
    assert outputs["DbSecretArn"]["Value"] == env["DB_SECRET_ARN"]
    assert outputs["DbName"]["Value"] == env["DB_NAME"]

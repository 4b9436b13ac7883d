"""`make smoke` against the local stack (the same session stack as the other e2e tests): every step
passes, each on its own PASS line, and the exit status says so."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import ROOT


def test_smoke_passes_every_step_against_the_local_stack(local_stack, health):
    env = {k: v for k, v in os.environ.items() if k not in ("STAGE", "HELPDESK_TOKEN", "SMOKE_FROM")}
    result = subprocess.run([sys.executable, "scripts/smoke.py", "--local-dir", str(local_stack.data_dir)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{local_stack.log_tail()}"
    steps = [line for line in lines if line[:6] in ("PASS  ", "FAIL  ", "SKIP  ")]
    assert len(steps) == 8 and all(line.startswith("PASS  ") for line in steps), result.stdout
    assert lines[-1] == "PASSED: 0 of 8 steps failed"
    assert any("threaded into TKT-" in line for line in steps)  # a signed reply address with its key id came back

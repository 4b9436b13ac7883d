"""Synthesizes the stack once per test session per stage and shares the result.

dev (cdk.json defaults) is synthesized in-process; prod (`-c stage=prod`) in a subprocess
started at the beginning of the session so both synths overlap. Both run the cdk-nag
AwsSolutions pack; findings are read back from the cloud assembly manifest.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FUNCTION_NAMES = ("api", "inbound_email", "outbound", "notifier", "sweep", "migrate", "audit_export", "push", "push_authorizer")
# prod skips copying assets into its cloud assembly (dev already checks staging): saves time only.
PROD_CONTEXT = ["-c", "stage=prod", "-c", "supportDomain=help.example.org", "-c", "alarmEmail=ops@example.org",
                "-c", "chatAllowedOrigins=https://shop.example.org,https://www.example.org",
                "-c", "aws:cdk:disable-asset-staging=true"]
# A second stage in dev's account with every opt-in on: it adds its SES rule to dev's active rule
# set, leaves the account's API Gateway logging role to dev, reserves concurrency and serves the
# web app on a custom domain.
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2f7e-6a0e-4d8e-9a43-2a1b3c4d5e6f"
STAGING_CONTEXT = ["-c", "stage=staging", "-c", "supportDomain=staging.example.com",
                   "-c", "receiptRuleSetName=helpdesk-dev", "-c", "apiGatewayCloudWatchRole=false",
                   "-c", "reserveConcurrency=true", "-c", "webDomain=help.example.com",
                   "-c", f"webCertificateArn={CERTIFICATE_ARN}", "-c", "aws:cdk:disable-asset-staging=true"]


@dataclass
class Synth:
    stage: str
    outdir: Path
    template: dict[str, Any]
    messages: list[dict[str, str]]  # {"level": "error"|"warning"|..., "path": ..., "text": ...}
    lint_process: subprocess.Popen | None = field(default=None, repr=False)

    def lint_findings(self) -> list[dict[str, str]]:
        """cfn-lint matches on the template (run in a subprocess while other tests go on)."""
        report = self.outdir / "cfn-lint.json"
        if self.lint_process is not None:
            _, stderr = self.lint_process.communicate(timeout=300)
            assert report.exists(), f"cfn-lint did not run:\n{stderr[-4000:]}"
        return json.loads(report.read_text())

    @property
    def template_path(self) -> Path:
        return self.outdir / f"Helpdesk-{self.stage}.template.json"

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def nag(self, level: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["level"] == level and m["text"].startswith("AwsSolutions-")]


def read_assembly(outdir: Path, stage: str) -> Synth:
    manifest = json.loads((outdir / "manifest.json").read_text())
    artifact = manifest["artifacts"][f"Helpdesk-{stage}"]
    messages = []
    for path, entries in artifact.get("metadata", {}).items():
        for entry in entries:
            if entry["type"] in ("aws:cdk:error", "aws:cdk:warning", "aws:cdk:info"):
                messages.append({"level": entry["type"].split(":")[-1], "path": path, "text": str(entry["data"])})
    template = json.loads((outdir / f"Helpdesk-{stage}.template.json").read_text())
    return Synth(stage=stage, outdir=outdir, template=template, messages=messages)


def functions_dir_for_synth(tmp: Path) -> Path:
    """The real functions/ when every function has a handler; otherwise a copy with a stub for
    each missing one, so the rest of the stack is still checked (test_every_function_has_code
    fails and names what is missing)."""
    missing = [n for n in FUNCTION_NAMES if not (ROOT / "functions" / n / "handler.py").is_file()]
    if not missing:
        return ROOT / "functions"
    stubbed = tmp / "functions"
    shutil.copytree(ROOT / "functions", stubbed, ignore=shutil.ignore_patterns("__pycache__"))
    for name in missing:
        (stubbed / name).mkdir(parents=True, exist_ok=True)
        (stubbed / name / "handler.py").write_text("def handler(event, context):\n    raise NotImplementedError\n")
    return stubbed


# cfn-lint: template path -> JSON list of matches in <outdir>/cfn-lint.json
_LINT_CODE = """
import json
from pathlib import Path
from cfnlint.api import ManualArgs, lint_file
def lint(template, report):
    matches = lint_file(Path(template), config=ManualArgs(regions=["us-east-1"]))
    Path(report).write_text(json.dumps([{"rule": m.rule.id, "message": str(m.message),
                                         "path": "/".join(map(str, getattr(m, "path", []) or []))} for m in matches]))
"""


def start_lint(outdir: Path, stage: str) -> subprocess.Popen:
    code = _LINT_CODE + f"\nlint({str(outdir / f'Helpdesk-{stage}.template.json')!r}, {str(outdir / 'cfn-lint.json')!r})\n"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


_SYNTH_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
import app
the_app, _ = app.build_app(app.load_context({argv!r}), outdir={outdir!r}, functions_dir=Path({functions!r}),
                           layer_dir=Path({layer!r}))
the_app.synth()
lint({outdir!r} + "/Helpdesk-{stage}.template.json", {outdir!r} + "/cfn-lint.json")
"""


@pytest.fixture(scope="session")
def layer_dir() -> Path:
    from scripts.build_layer import build_layer

    return build_layer()


@pytest.fixture(scope="session")
def synth_inputs(tmp_path_factory, layer_dir):
    tmp = tmp_path_factory.mktemp("infra")
    functions = functions_dir_for_synth(tmp)
    # prod starts now (most tests use it); staging only when a test asks for it.
    inputs = {"tmp": tmp, "functions": functions, "processes": {}}
    inputs["start"] = lambda stage, argv: start_synth(inputs, stage, argv, layer_dir)
    inputs["start"]("prod", PROD_CONTEXT)
    yield inputs
    for process in inputs["processes"].values():
        if process.poll() is None:  # never requested (a subset of tests ran)
            process.kill()
            process.communicate()


def start_synth(inputs: dict, stage: str, argv: list[str], layer_dir: Path) -> None:
    if stage in inputs["processes"]:
        return
    outdir = inputs["tmp"] / f"cdk.out.{stage}"
    script = _LINT_CODE + _SYNTH_SCRIPT.format(root=str(ROOT), argv=argv, outdir=str(outdir), stage=stage,
                                               functions=str(inputs["functions"]), layer=str(layer_dir))
    inputs["processes"][stage] = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, text=True)


def finish_synth(inputs: dict, stage: str) -> Synth:
    process: subprocess.Popen = inputs["processes"][stage]
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, f"{stage} synth failed:\n{stderr[-4000:]}"
    return read_assembly(inputs["tmp"] / f"cdk.out.{stage}", stage)


@pytest.fixture(scope="session")
def dev(synth_inputs, layer_dir) -> Synth:
    import app

    outdir = synth_inputs["tmp"] / "cdk.out.dev"
    the_app, _ = app.build_app(app.load_context([]), outdir=str(outdir), functions_dir=synth_inputs["functions"],
                               layer_dir=layer_dir)
    the_app.synth()
    synth = read_assembly(outdir, "dev")
    synth.lint_process = start_lint(outdir, "dev")
    return synth


@pytest.fixture(scope="session")
def prod(synth_inputs) -> Synth:
    return finish_synth(synth_inputs, "prod")


@pytest.fixture(scope="session")
def staging(synth_inputs) -> Synth:
    """A second stage in dev's account with the opt-ins on (STAGING_CONTEXT)."""
    synth_inputs["start"]("staging", STAGING_CONTEXT)
    return finish_synth(synth_inputs, "staging")


@pytest.fixture(scope="session", params=["dev", "prod"])
def synth(request) -> Synth:
    return request.getfixturevalue(request.param)

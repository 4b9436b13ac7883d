"""Context parsing, function code checks and the layer build (no synth needed)."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from infra.config import ContextError, StageConfig
from tests.infra.conftest import FUNCTION_NAMES, ROOT


def config(**context) -> StageConfig:
    return StageConfig.from_context(context)


def test_cdk_json_context_and_cli_overrides():
    import app

    context = app.load_context(["-c", "stage=prod", "--context=supportDomain=help.example.org"])
    assert context["stage"] == "prod" and context["supportDomain"] == "help.example.org"
    assert context["region"] == json.loads((ROOT / "cdk.json").read_text())["context"]["region"]
    prod = StageConfig.from_context(context)
    assert prod.is_prod and prod.deletion_protection and prod.db_backup_retention_days == 14
    assert prod.db_min_capacity == 0.5 and prod.stack_name == "Helpdesk-prod"
    dev = StageConfig.from_context(app.load_context([]))
    assert dev.db_min_capacity == 0 and dev.db_auto_pause_minutes == 10 and not dev.deletion_protection


def test_cli_strings_are_parsed():
    parsed = config(stage="staging", dbMaxCapacity="8", reserveConcurrency="false",
                    receivingAddresses="support,billing", inboundSilenceMinutes="30")
    assert parsed.db_max_capacity == 8 and parsed.reserve_concurrency is False
    assert parsed.receiving_local_parts == ("support", "billing")
    assert parsed.inbound_silence_minutes == 30


@pytest.mark.parametrize("context, message", [
    ({"stage": "Prod!"}, "context 'stage'"),
    ({"region": "mars-1"}, "context 'region'"),
    ({"region": "ap-east-1"}, "cannot receive mail with SES"),
    ({"supportDomain": "not a domain"}, "context 'supportDomain'"),
    ({"receivingAddresses": ["support+x"]}, "context 'receivingAddresses'"),
    ({"dbMinCapacity": 8, "dbMaxCapacity": 4}, "'dbMaxCapacity' (4.0) must be >= 'dbMinCapacity' (8.0)"),
    ({"dbAutoPauseMinutes": "soon"}, "context 'dbAutoPauseMinutes' must be an integer"),
    ({"inboundSilenceMinutes": 2}, "context 'inboundSilenceMinutes'"),
    ({"webBaseUrl": "http://insecure"}, "must start with https://"),
    ({"account": "12"}, "12-digit"),
])
def test_bad_context_is_rejected_with_the_key_named(context, message):
    with pytest.raises(ContextError) as error:
        config(**context)
    assert message in str(error.value)


# -- a key that does nothing fails synthesis instead of being ignored -----------------------------

REMOVED = {  # key -> (a value a team upgrading may still have, the key(s) the message points to)
    "businessHoursUtc": ([13, 22], "inboundSilenceMinutes"),
    "inboundSilenceHours": (2, "inboundSilenceMinutes"),
    "publicThrottleRate": (5, "wafFormLimit"),
    "publicThrottleBurst": (10, "wafFormLimit"),
}


@pytest.mark.parametrize("key", sorted(REMOVED))
@pytest.mark.parametrize("where", ["top-level", "this stage", "another stage"])
def test_a_removed_setting_is_refused_naming_what_replaced_it(key, where):
    old, replacement = REMOVED[key]
    context: dict = {"stage": "dev"}
    if where == "top-level":
        context[key], named = old, f"context '{key}'"
    else:
        stage = "dev" if where == "this stage" else "prod"
        context["stages"], named = {stage: {key: old}}, f"context 'stages.{stage}.{key}'"
    with pytest.raises(ContextError) as error:
        config(**context)
    message = str(error.value)
    assert f"{named} was removed" in message and f"'{replacement}'" in message


@pytest.mark.parametrize("context, named, suggestion", [
    ({"supportdomain": "help.acme.com"}, "context 'supportdomain'", "'supportDomain'"),
    ({"stages": {"prod": {"dbMaxCapacty": 8}}}, "context 'stages.prod.dbMaxCapacty'", "'dbMaxCapacity'"),
    ({"stages": {"dev": {"stage": "prod"}}}, "context 'stages.dev.stage'", None),
    ({"alarmMail": "ops@acme.com"}, "context 'alarmMail'", "'alarmEmail'"),
])
def test_an_unknown_setting_is_refused_with_the_settings_there_are(context, named, suggestion):
    with pytest.raises(ContextError) as error:
        config(**context)
    message = str(error.value)
    assert f"{named} is not a setting" in message
    assert suggestion is None or f"did you mean {suggestion}" in message
    assert "supportDomain, receivingAddresses" not in message  # the list is sorted, complete, once
    assert "alarmEmail, apiGatewayCloudWatchRole, apiReservedConcurrency" in message


def test_every_key_that_does_nothing_is_named_at_once():
    with pytest.raises(ContextError) as error:
        config(inboundSilenceHours=2, stages={"prod": {"businessHoursUtc": [13, 22], "wafLimit": 10}})
    message = str(error.value)
    for named in ("'inboundSilenceHours'", "'stages.prod.businessHoursUtc'", "'stages.prod.wafLimit'"):
        assert named in message


def test_context_of_the_cdk_and_other_tools_is_left_alone():
    """Feature flags (@...), the CLI's keys (aws:cdk:...), lookups cached in cdk.context.json and
    `cdk acknowledge` are not ours: only bare words are this app's settings."""
    parsed = config(**{"@aws-cdk/core:enablePartitionLiterals": True, "aws:cdk:disable-asset-staging": "true",
                       "availability-zones:account=123456789012:region=us-east-1": ["us-east-1a"],
                       "acknowledged-issue-numbers": [32775], "stage": "prod"})
    assert parsed.is_prod


def test_synthesis_stops_at_a_removed_setting():
    """`python app.py -c inboundSilenceHours=2` exits with the message, before building anything."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "app.py", "-c", "inboundSilenceHours=2"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "CDK_OUTDIR": "/nonexistent/never-written"})
    assert run.returncode != 0
    assert "context 'inboundSilenceHours' was removed" in run.stderr and "Traceback" not in run.stderr


def test_missing_function_code_is_named(tmp_path):
    from infra.workers import MissingFunctionCode, check_function_code

    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "handler.py").write_text("def handler(e, c): pass\n")
    with pytest.raises(MissingFunctionCode) as error:
        check_function_code(["api", "sweep", "audit_export"], tmp_path)
    assert "functions/sweep/handler.py, functions/audit_export/handler.py" in str(error.value)
    assert "functions/api/" not in str(error.value)


def test_every_function_has_code():
    missing = [n for n in FUNCTION_NAMES if not (ROOT / "functions" / n / "handler.py").is_file()]
    assert missing == [], f"functions without functions/<name>/handler.py: {missing}"


def test_function_code_is_staged_at_its_import_path(tmp_path, monkeypatch):
    from infra import workers

    (tmp_path / "src" / "demo" / "routes" / "__pycache__").mkdir(parents=True)
    (tmp_path / "src" / "demo" / "handler.py").write_text("def handler(e, c): pass\n")
    (tmp_path / "src" / "demo" / "routes" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    monkeypatch.setattr(workers, "STAGING_DIR", tmp_path / "staging")
    root = workers.stage_function_code("demo", tmp_path / "src")
    assert (root / "functions" / "demo" / "handler.py").is_file()
    # The source tree's caches stay behind; only pycs compiled for the runtime are staged.
    assert not (root / "functions" / "demo" / "routes" / "__pycache__" / "x.pyc").exists()
    assert all(p.name.endswith(".cpython-312.pyc") for p in root.rglob("*.pyc"))


def test_layer_holds_helpdesk_and_arm64_wheels(layer_dir: Path):
    python = layer_dir / "python"
    assert (python / "helpdesk" / "__init__.py").is_file()
    assert list((python / "helpdesk" / "db" / "migrations").glob("0001_*.sql")), "migrations ship in the layer"
    assert (python / "aws_lambda_powertools").is_dir()
    native = list((python / "pydantic_core").glob("*.so"))
    assert native and all("aarch64" in so.name and "cpython-312" in so.name for so in native), native
    assert not (python / "boto3").exists(), "boto3 comes with the Lambda runtime"


def test_layer_size_within_lambda_limits(layer_dir: Path, tmp_path):
    from scripts.build_layer import layer_size_bytes

    unzipped = layer_size_bytes(layer_dir)
    assert unzipped < 100 * 1024 * 1024  # Lambda allows 250 MB for function + layers unzipped
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in (layer_dir / "python").rglob("*"):
            zf.write(path, path.relative_to(layer_dir))
    assert archive.stat().st_size < 50 * 1024 * 1024  # direct-upload limit for a zip


def test_layer_rebuild_is_skipped_when_inputs_are_unchanged(layer_dir: Path):
    import time

    from scripts.build_layer import build_layer

    started = time.monotonic()
    assert build_layer() == layer_dir
    assert time.monotonic() - started < 5


def test_each_staged_function_imports_on_its_own(tmp_path, monkeypatch):
    """What Lambda does: handler `functions/<name>/handler.handler` from the staged asset alone
    (plus the helpdesk package, as the layer provides). Catches imports of files outside the
    function's own directory."""
    import os
    import subprocess
    import sys

    from infra import workers

    missing = [n for n in FUNCTION_NAMES if not (ROOT / "functions" / n / "handler.py").is_file()]
    if missing:
        pytest.skip(f"not all functions exist yet: {missing}")
    monkeypatch.setattr(workers, "STAGING_DIR", tmp_path)
    check = ("import importlib, sys; sys.path = [p for p in sys.path if p not in ('', {root!r})]; "
             "sys.path.insert(0, '.'); m = importlib.import_module('functions.{name}.handler'); "
             "assert callable(m.handler); assert m.__file__.startswith({staged!r}), m.__file__")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "PYTHONPATH": "",
           "POWERTOOLS_SERVICE_NAME": "helpdesk", "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk"}
    processes = {}
    for name in FUNCTION_NAMES:
        staged = workers.stage_function_code(name)
        processes[name] = subprocess.Popen(
            [sys.executable, "-c", check.format(root=str(ROOT), name=name, staged=str(staged))],
            cwd=staged, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures = {}
    for name, process in processes.items():
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures[name] = stderr.strip().splitlines()[-1]
    assert failures == {}

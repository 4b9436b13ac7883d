"""Cold start (issue 20 item 5): the code ships bytecode for the runtime, and SnapStart serves the API
through a published version."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.infra.test_stack_resources import logical_id_of, names, our_functions


def _pyc_header(path: Path) -> tuple[bytes, int]:
    data = path.read_bytes()[:8]
    return data[:4], int.from_bytes(data[4:8], "little")


def test_runtime_and_bytecode_version_agree():
    from infra.workers import RUNTIME
    from scripts.build_layer import PYTHON_VERSION

    assert RUNTIME.name == f"python{PYTHON_VERSION}"


def test_layer_ships_unchecked_hash_pycs_for_the_runtime(layer_dir: Path):
    from scripts.build_layer import layer_bytecode, runtime_interpreter

    if runtime_interpreter() is None:
        pytest.skip("no CPython 3.12 on this machine: the layer ships source only (the build warns)")
    assert layer_bytecode(layer_dir).startswith("cpython-3.12 unchecked-hash")
    python = layer_dir / "python"
    for module in (python / "helpdesk" / "tickets" / "commands.py", python / "pydantic" / "main.py",
                   python / "aws_lambda_powertools" / "logging" / "logger.py"):
        pyc = module.parent / "__pycache__" / f"{module.stem}.cpython-312.pyc"
        assert pyc.is_file(), f"{module.relative_to(python)} has no cpython-312 pyc"
        magic, flags = _pyc_header(pyc)
        # Python 3.12's magic number (3531); flags 0b01 = hash-based, unchecked (PEP 552): the asset zip
        # does not keep the sources' mtimes, so timestamp pycs would be recompiled on every cold start.
        assert magic == (3531).to_bytes(2, "little") + b"\r\n"
        assert flags == 0b01
    if importlib.util.MAGIC_NUMBER != magic:  # this machine's Python is another version: none of its pycs slipped in
        own = importlib.util.cache_from_source("x.py").rsplit(".", 2)[-2]
        assert not list(python.rglob(f"*.{own}.pyc"))


def test_staged_function_code_is_compiled_for_the_runtime(tmp_path, monkeypatch):
    from infra import workers
    from scripts.build_layer import runtime_interpreter

    if runtime_interpreter() is None:
        pytest.skip("no CPython 3.12 on this machine")
    monkeypatch.setattr(workers, "STAGING_DIR", tmp_path)
    root = workers.stage_function_code("api")
    pyc = root / "functions" / "api" / "__pycache__" / "handler.cpython-312.pyc"
    assert pyc.is_file()
    assert _pyc_header(pyc)[1] == 0b01
    assert b"/var/task/functions/api/handler.py" in pyc.read_bytes(), "tracebacks name the deployed path"


SYNCHRONOUS = {"api", "push_authorizer", "push"}  # a person waits on their cold starts


def test_snapstart_where_a_person_waits_and_api_gateway_calls_the_apis_live_alias(synth):
    functions = our_functions(synth)
    for name, props in functions.items():
        if name in SYNCHRONOUS:
            assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
        else:
            assert "SnapStart" not in props, f"{name} is asynchronous: a snapshot would be billed for nothing"
        # SnapStart supports neither EFS nor more than 512 MB of /tmp.
        assert "FileSystemConfigs" not in props
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
    api_id = logical_id_of(synth, "AWS::Lambda::Function",
                           lambda p: p.get("Handler") == "functions/api/handler.handler")
    alias_id = logical_id_of(synth, "AWS::Lambda::Alias", lambda p: p.get("FunctionName") == {"Ref": api_id})
    alias = synth.resources("AWS::Lambda::Alias")[alias_id]["Properties"]
    assert alias["Name"] == "live"
    version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
    assert synth.resources("AWS::Lambda::Version")[version_id]["Properties"]["FunctionName"] == {"Ref": api_id}
    integrations = [m["Properties"]["Integration"] for m in synth.resources("AWS::ApiGateway::Method").values()
                    if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert integrations and all(alias_id in json.dumps(i["Uri"]) for i in integrations), \
        "API Gateway must invoke the alias (SnapStart serves published versions only, never $LATEST)"
    assert alias_id in json.dumps(synth.resources("AWS::Lambda::Permission")), "API Gateway may invoke the alias"


def test_the_event_api_calls_the_push_authorizers_live_alias(synth):
    fn_id = logical_id_of(synth, "AWS::Lambda::Function",
                          lambda p: p.get("Handler") == "functions/push_authorizer/handler.handler")
    alias_id = logical_id_of(synth, "AWS::Lambda::Alias", lambda p: p.get("FunctionName") == {"Ref": fn_id})
    api = json.dumps(synth.resources("AWS::AppSync::Api"))
    assert alias_id in api and "LambdaAuthorizerConfig" in api, \
        "the Event API must invoke the alias (SnapStart serves published versions only, never $LATEST)"
    assert alias_id in json.dumps(synth.resources("AWS::Lambda::Permission")), "AppSync may invoke the alias"


def test_the_push_queue_invokes_the_push_functions_live_alias(synth):
    fn_id = logical_id_of(synth, "AWS::Lambda::Function", lambda p: p.get("Handler") == "functions/push/handler.handler")
    alias_id = logical_id_of(synth, "AWS::Lambda::Alias", lambda p: p.get("FunctionName") == {"Ref": fn_id})
    mappings = [m["Properties"] for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
                if alias_id in json.dumps(m["Properties"]["FunctionName"]) or fn_id in json.dumps(m["Properties"]["FunctionName"])]
    assert len(mappings) == 1 and names(mappings[0]["FunctionName"], alias_id), \
        "the push queue must invoke the alias (SnapStart serves published versions only, never $LATEST)"

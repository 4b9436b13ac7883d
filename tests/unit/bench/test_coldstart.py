"""The cold-start bench: Lambda's environment (the Tracer on, as in Lambda), the native packages it
must replace on another machine, and the table judged on the shipped variant's import."""
from __future__ import annotations

from pathlib import Path

from bench.coldstart import TARGET_MS, ColdStart, FirstEvent, _has_native_code, lambda_environment, section


def test_the_environment_is_lambdas_and_turns_the_tracer_on(tmp_path):
    env = lambda_environment("api", tmp_path)
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path)  # Powertools' Tracer is on only inside Lambda
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert "POWERTOOLS_TRACE_DISABLED" not in env and "AWS_ACCESS_KEY_ID" not in env


def test_native_packages_are_found_by_their_record(tmp_path: Path):
    native, pure = tmp_path / "nh3-0.3.7.dist-info", tmp_path / "tzdata-2026.6.dist-info"
    native.mkdir(), pure.mkdir()
    (native / "RECORD").write_text("nh3/__init__.py,sha256=x,1\nnh3/nh3.abi3.so,sha256=y,2\n")
    (pure / "RECORD").write_text("tzdata/__init__.py,sha256=x,1\n")
    assert _has_native_code(native) and not _has_native_code(pure)


IMPORTS = [ColdStart("api", "shipped", 400.0, 400.0, 480.0, 600, 7),
           ColdStart("api", "source only", 900.0, 1200.0, 1300.0, 600, 7),
           ColdStart("sweep", "shipped", 160.0, 150.0, 200.0, 480, 7),
           ColdStart("sweep", "source only", 600.0, 700.0, 760.0, 480, 7)]


def test_a_cold_start_is_the_init_plus_what_the_first_event_does_beyond_a_warm_one():
    plain = FirstEvent("sweep", False, init_ms=160.0, restore_ms=0.0, first_ms=180.0, warm_ms=20.0, runs=7)
    assert plain.cold_ms == 320.0 and not plain.met  # lazy work in the first event counts
    snapshot = FirstEvent("api", True, init_ms=450.0, restore_ms=1.0, first_ms=10.0, warm_ms=2.0, runs=7)
    assert snapshot.cold_ms == 9.0 and snapshot.met  # the init ran before the snapshot; the restore hooks did not


def test_the_table_judges_each_functions_first_event_against_the_target():
    events = [FirstEvent("api", True, 450.0, 1.0, 10.0, 2.0, 7),
              FirstEvent("sweep", False, 160.0, 0.0, TARGET_MS, 20.0, 7)]
    text = "\n".join(section(IMPORTS, "cpython-3.12 unchecked-hash /opt/python", 7, events, floor_ms=200.0))
    api_row = text.split("| api | yes |")[1].split("\n")[0]
    assert api_row.startswith(" 9 | 450 (before the snapshot) | 1 |") and api_row.endswith("| met |")
    sweep_row = text.split("| sweep | no |")[1].split("\n")[0]
    assert sweep_row.startswith(f" {160 + TARGET_MS - 20:.0f} | 160 | - |") and sweep_row.endswith("| missed |")
    assert "cost 200 ms CPU before any code of ours" in text


def test_the_import_table_shows_what_bytecode_saves():
    text = "\n".join(section(IMPORTS, "cpython-3.12 unchecked-hash /opt/python", 7))
    assert "| api | 400 | 400 | 480 | 900 |" in text
    assert "440 ms (3.8x)" in text  # CPU time saved by the bytecode: 600 - 160

"""The cold-start bench: Lambda's environment (the Tracer on, as in Lambda), the native packages it
must replace on another machine, and the table judged on the shipped variant's import."""
from __future__ import annotations

from pathlib import Path

from bench.coldstart import TARGET_MS, ColdStart, _has_native_code, lambda_environment, section


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


def test_the_table_judges_the_shipped_import_against_the_target():
    rows = [ColdStart("api", "shipped", TARGET_MS + 10, 300.0, 380.0, 600, 7),
            ColdStart("api", "source only", 900.0, 1200.0, 1300.0, 600, 7),
            ColdStart("sweep", "shipped", TARGET_MS - 10, 150.0, 200.0, 480, 7),
            ColdStart("sweep", "source only", 600.0, 700.0, 760.0, 480, 7)]
    text = "\n".join(section(rows, "cpython-3.12 unchecked-hash /opt/python", 7))
    assert f"| api | {TARGET_MS + 10:.0f} | 300 | 380 | 900 |" in text and text.split("| api |")[1].split("\n")[0].endswith("| missed |")
    assert text.split("| sweep |")[1].split("\n")[0].endswith("| met |")
    assert "740 ms (5.6x)" in text  # CPU time saved by the bytecode: 900 - 160

"""The interpreter that compiles the layer's bytecode must be a CPython of the runtime's version: one
named by LAYER_PYTHON that is not is refused with what it is and what is needed."""
from __future__ import annotations

import sys

import pytest

from scripts import build_layer


@pytest.fixture(autouse=True)
def fresh_lookup():
    build_layer.runtime_interpreter.cache_clear()
    yield
    build_layer.runtime_interpreter.cache_clear()


def test_a_named_interpreter_of_another_version_is_refused(monkeypatch):
    if sys.version_info[:2] == (3, 12):
        pytest.skip("this interpreter is the runtime's version")
    monkeypatch.setenv(build_layer.INTERPRETER_ENV, sys.executable)
    with pytest.raises(RuntimeError, match=rf"is CPython {sys.version_info[0]}\.{sys.version_info[1]}; .* needs CPython 3\.12"):
        build_layer.runtime_interpreter()


def test_a_named_path_that_does_not_run_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(build_layer.INTERPRETER_ENV, str(tmp_path / "python3.12"))
    with pytest.raises(RuntimeError, match="not a Python that runs"):
        build_layer.runtime_interpreter()


def test_without_a_name_the_first_candidate_of_the_runtimes_version_is_chosen(monkeypatch, tmp_path):
    monkeypatch.delenv(build_layer.INTERPRETER_ENV, raising=False)
    monkeypatch.setattr(build_layer, "_interpreter_candidates", lambda: [str(tmp_path / "missing"), sys.executable])
    expected = sys.executable if sys.version_info[:2] == (3, 12) else None
    assert build_layer.runtime_interpreter() == expected

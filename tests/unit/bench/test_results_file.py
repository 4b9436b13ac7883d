"""A bench run rewrites bench/RESULTS.md and keeps the sections written by hand below the marker."""
from __future__ import annotations

import importlib
from types import SimpleNamespace

from bench.harness import Measurement

bench_main = importlib.import_module("bench.__main__")


def test_a_run_keeps_what_follows_the_marker_and_appends_its_sections(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_main, "ROOT", tmp_path)
    (tmp_path / "bench").mkdir()
    results = tmp_path / "bench" / "RESULTS.md"
    results.write_text(f"# old generated part\n\n{bench_main.KEEP_MARKER}\n\n## Issue 24, by hand\n")
    shape = SimpleNamespace(agents=20, teams=3, tickets=1000, open_tickets=150, messages_per_ticket=8, customers=200)
    run = SimpleNamespace(results=[Measurement("team queue (API)", samples_ms=[1.0], calls=1, ops=1)], scale=0.001,
                          shape=shape)
    bench_main.write_results(run, "1 MB", "python -m bench", sections=[["## Cost", "a line"]])
    text = results.read_text()
    assert "# old generated part" not in text
    assert text.index("| team queue (API) |") < text.index("## Cost\na line") < text.index(bench_main.KEEP_MARKER)
    assert text.endswith("## Issue 24, by hand\n")

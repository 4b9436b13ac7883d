"""Timing and call counting for benchmark operations: percentiles, ops/s and Data API calls per op."""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Measurement:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    calls: int = 0
    ops: int = 0
    wall_s: float = 0.0
    errors: int = 0
    note: str = ""

    def percentile(self, p: float) -> float:
        if not self.samples_ms:
            return float("nan")
        ordered = sorted(self.samples_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples_ms) if self.samples_ms else float("nan")

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.wall_s if self.wall_s else float("nan")

    @property
    def calls_per_op(self) -> float:
        return self.calls / self.ops if self.ops else float("nan")


class CallCounter:
    """Counts Data API calls across threads; each DataApi's stats are summed before and after."""

    def __init__(self, apis: Callable[[], list[Any]]) -> None:
        self._apis = apis

    def total(self) -> int:
        return sum(api.stats.calls for api in self._apis())


def run(name: str, op: Callable[[int], Any], *, iterations: int, counter: CallCounter, concurrency: int = 1,
        warmup: int = 3, progress: Callable[[str], None] = print) -> Measurement:
    """Run `op(i)` `iterations` times (after `warmup` unmeasured runs) on `concurrency` threads."""
    for i in range(warmup):
        op(-1 - i)
    m = Measurement(name)
    lock = threading.Lock()
    calls_before = counter.total()

    def one(i: int) -> None:
        start = time.perf_counter()
        try:
            op(i)
        except Exception:  # counted and reported; one failure must not hide the other figures
            with lock:
                m.errors += 1
            raise
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                m.samples_ms.append(elapsed)
                m.ops += 1

    start = time.perf_counter()
    if concurrency == 1:
        for i in range(iterations):
            one(i)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(one, i) for i in range(iterations)]:
                try:
                    future.result()
                except Exception:
                    pass
    m.wall_s = time.perf_counter() - start
    m.calls = counter.total() - calls_before
    progress(f"  {name}: p50 {m.p50:.2f} ms, p99 {m.p99:.2f} ms, {m.ops_per_s:.0f} ops/s, "
             f"{m.calls_per_op:.2f} Data API calls/op" + (f", {m.errors} errors" if m.errors else ""))
    return m

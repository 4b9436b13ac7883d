"""The latency model (issue 20 item 7): each measured operation's end-to-end p50/p99 on AWS, modeled
from its measured server time, its Data API calls and a distribution for one call.

One request on AWS = API Gateway and the Lambda invoke (FRONT_DOOR) + our server time (a sample of the
operation's measured times here, which already include the local Data API's time, so the model errs
high) + one draw from the per-call distribution for each Data API call the operation made. Summed by
Monte Carlo (seeded, so a run is repeatable), against the design's targets.

The per-call distribution. AWS publishes no latency distribution for the RDS Data API, and we found
no public per-call measurement. Two models are shown:
- DESIGN: lognormal, p50 20 ms and p99 100 ms: the 10-100 ms a call costs that the design and issue
  20 assume (an assumption, not a measurement);
- PUBLIC: lognormal fitted to the nearest public measurement, V. Kazulkin, "Data API for Amazon Aurora
  Serverless v2 with AWS SDK for Java - Part 5" (dev.to, 2024-04-08): API Gateway -> Lambda (Java,
  1,024 MB) -> one Data API ExecuteStatement on Aurora Serverless v2 PostgreSQL, ~10,000 warm requests:
  p50 104.68 ms, p75 173 ms end to end. Used as the distribution of ONE call, it counts that request's
  API Gateway and Lambda time once more for every call: a pessimistic bound.
FRONT_DOOR (API Gateway REST + a warm Lambda invoke) is an assumption too: lognormal, p50 10 ms, p99 40 ms.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist
from typing import Iterable, Sequence

_Z = NormalDist()


@dataclass(frozen=True)
class LogNormal:
    mu: float
    sigma: float

    @classmethod
    def from_percentiles(cls, p50: float, p: float, at: float) -> "LogNormal":
        """The lognormal with this median and the value `p` at quantile `at` (0.99 for p99)."""
        if not 0 < p50 < p or not 0.5 < at < 1:
            raise ValueError(f"need 0 < p50 < p and 0.5 < quantile < 1, got p50={p50}, p={p}, quantile={at}")
        return cls(math.log(p50), math.log(p / p50) / _Z.inv_cdf(at))

    def quantile(self, q: float) -> float:
        return math.exp(self.mu + self.sigma * _Z.inv_cdf(q))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma ** 2 / 2)

    def draw(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma)


DESIGN_CALL = LogNormal.from_percentiles(20.0, 100.0, 0.99)
PUBLIC_CALL = LogNormal.from_percentiles(104.68, 173.0, 0.75)
FRONT_DOOR = LogNormal.from_percentiles(10.0, 40.0, 0.99)
CALL_MODELS = {"design assumption (p50 20 ms, p99 100 ms per call)": DESIGN_CALL,
               "fitted to the public measurement (p50 105 ms, p75 173 ms per call)": PUBLIC_CALL}
SAMPLES = 20_000
SEED = 20

# The design's targets, by the operation rows they apply to (bench/__main__.py names).
TARGETS_MS = (("create ticket (API)", "form intake", 300.0), ("agent reply (API)", "agent reply", 200.0),
              ("my open tickets (API)", "views", 50.0), ("team queue (API)", "views", 50.0))


@dataclass(frozen=True)
class Modeled:
    operation: str
    calls: float
    server_p50: float
    p50: float
    p99: float


def model(operation: str, server_ms: Sequence[float], calls: float, per_call: LogNormal,
          front_door: LogNormal = FRONT_DOOR, samples: int = SAMPLES, seed: int = SEED) -> Modeled:
    """End-to-end percentiles of one operation: front door + a measured server time + `calls` draws
    (a fractional count makes the extra call happen that often)."""
    if not server_ms:
        raise ValueError(f"{operation}: no measured server times")
    rng = random.Random(seed)
    whole, extra = int(calls), calls - int(calls)
    totals = []
    for _ in range(samples):
        n = whole + (1 if rng.random() < extra else 0)
        totals.append(front_door.draw(rng) + rng.choice(server_ms) + sum(per_call.draw(rng) for _ in range(n)))
    totals.sort()
    ordered = sorted(server_ms)
    return Modeled(operation, calls, ordered[len(ordered) // 2], _pct(totals, 50), _pct(totals, 99))


def _pct(ordered: Sequence[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def target_of(operation: str) -> tuple[str, float] | None:
    return next(((what, ms) for name, what, ms in TARGETS_MS if operation == name), None)


def section(measurements: Iterable) -> list[str]:
    """The RESULTS.md section: every API or mail operation measured (not the raw references nor the
    sweep, which nobody waits on), under both per-call models."""
    rows = [m for m in measurements if not m.name.startswith(("raw:", "SLA sweep")) and m.samples_ms and not m.errors]
    names = list(CALL_MODELS)
    lines = [
        "## Latency model on AWS (issue 20 item 7)", "",
        "Modeled end-to-end time of each operation above on AWS: API Gateway and a warm Lambda invoke (assumed "
        "lognormal, p50 10 ms, p99 40 ms) + the operation's measured server time here (a sample of its measured "
        "times, which include the local Data API, so the model errs high) + one draw per Data API call from a "
        f"per-call distribution; {SAMPLES:,} seeded Monte Carlo samples (bench/latency.py). AWS publishes no latency "
        "distribution for the Data API and we found no public per-call measurement, so two per-call models are "
        "shown: the design's assumption (lognormal, p50 20 ms, p99 100 ms), and one fitted to the nearest public "
        "measurement (V. Kazulkin, dev.to, 2024-04-08: API Gateway -> Lambda 1,024 MB -> one Data API call on "
        "Aurora Serverless v2, warm p50 104.68 ms, p75 173 ms end to end; taken as ONE call's time it counts "
        "API Gateway and Lambda again per call, a pessimistic bound). Targets from the design: form intake "
        "300 ms, agent reply 200 ms, views 50 ms. Inbound mail is asynchronous (SQS, not behind API Gateway): "
        "modeled the same way, no target. Cold starts are not in these figures (item 5).", "",
        "| operation | Data API calls | server p50 ms | " + " | ".join(
            f"{label}: p50 / p99 ms" for label in ("design model", "public-fit model")) + " | target | met (design model) |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for m in rows:
        modeled = [model(m.name, m.samples_ms, m.calls_per_op, CALL_MODELS[n]) for n in names]
        target = target_of(m.name)
        if target:
            what, ms = target
            d = modeled[0]
            verdict = ("met at p99" if d.p99 < ms else "met at p50, missed at p99" if d.p50 < ms else "missed")
            target_text = f"{what} < {ms:.0f} ms"
        else:
            verdict, target_text = "-", "-"
        lines.append(f"| {m.name} | {m.calls_per_op:.2f} | {modeled[0].server_p50:.1f} | "
                     + " | ".join(f"{x.p50:.0f} / {x.p99:.0f}" for x in modeled) + f" | {target_text} | {verdict} |")
    return lines

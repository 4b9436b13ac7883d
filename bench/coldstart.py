"""Cold start of each Lambda function as shipped, measured two ways in fresh CPython processes of the
runtime's version, from the built layer and the staged function code.

What a cold start costs is judged on the first event (replay_first_events): a local stack runs a
ticket's life; each function then imports its handler and is given the first event the stack gave
it, twice, with the stack's environment plus Lambda's (Tracer on). A cold start adds the import and
init (with SnapStart: only the after-restore hooks, since the init and the before-snapshot priming
run when a version is published) and whatever the first event does beyond the same event warm
(lazy imports, SDK clients, deferred models): moving work from the init into the first event hides
nothing here.

The import and init alone (measure_all) is also measured in two variants, with the layer's
bytecode and with its pycs hidden (what every cold start paid before the layer carried bytecode).
Each run is a new interpreter (`-I`: no site-packages of this machine, no PYTHON* settings) with the
AWS SDK the Lambda runtime provides (a copy for the runtime's Python under
layers/build/coldstart-host, standing in for /var/runtime). The layer's native extensions are built
for arm64 Linux; on another machine the same versions for this machine's platform are put in front
of them (also in coldstart-host), everything else is the layer's.

Figures are CPU time (this machine's 2 cores are shared), the median of `runs` processes.
Usage: python -m bench.coldstart [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.build_layer import LAYER_DIR, PYTHON_VERSION, build_layer, compile_bytecode, layer_bytecode, runtime_interpreter  # noqa: E402

TARGET_MS = 150.0  # issue 20: each function's cold import and init
RUNS = 7  # fresh processes per function and variant (the median is reported)
HOST_DIR = LAYER_DIR.parent / "coldstart-host"
# The AWS SDK the Lambda Python runtime ships (not in our layer): the versions this project tests with.
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3")

# Inside the fresh interpreter: the path Lambda gives, the handler import timed, the result as JSON.
_PROBE = """
import sys, time, json
started, cpu = time.perf_counter(), time.process_time()
{hide}
sys.path[:0] = {paths!r}
import importlib
module = importlib.import_module("functions.{name}.handler")
assert callable(module.handler)
print(json.dumps({{"import_ms": (time.perf_counter() - started) * 1000, "cpu_ms": (time.process_time() - cpu) * 1000,
                  "modules": len(sys.modules)}}))
"""
_HIDE_PYCS = "sys.dont_write_bytecode = True; sys.pycache_prefix = {prefix!r}"


@dataclass
class ColdStart:
    function: str
    variant: str  # "shipped" or "source only"
    cpu_ms: float  # CPU time of the import: what it costs on a CPU of its own (this machine is shared)
    import_ms: float  # wall time of the import
    process_ms: float
    modules: int
    runs: int

    @property
    def met(self) -> bool:
        return self.cpu_ms < TARGET_MS


def host_stand_ins(layer: Path) -> tuple[Path, Path]:
    """(native, sdk): the layer's native packages built for this machine, and the AWS SDK of the Lambda
    runtime, both for the runtime's Python and compiled. Rebuilt when the pins change."""
    from importlib.metadata import version

    native = ["==".join(d.name.removesuffix(".dist-info").split("-")[:2])
              for d in sorted((layer / "python").glob("*.dist-info")) if _has_native_code(d)]
    sdk = [f"{name}=={version(name)}" for name in SDK_PACKAGES]
    marker = HOST_DIR / ".pins"
    if marker.exists() and marker.read_text() == " ".join(native + sdk):
        return HOST_DIR / "native", HOST_DIR / "sdk"
    for where, pins in (("native", native), ("sdk", sdk)):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                        "--no-deps", "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
                        "--upgrade", "--target", str(HOST_DIR / where), *pins], check=True)
        compile_bytecode(HOST_DIR / where, "/var/runtime")
    marker.write_text(" ".join(native + sdk))
    return HOST_DIR / "native", HOST_DIR / "sdk"


def runtime_and_path() -> tuple[str, Path, list[Path]]:
    """(the runtime's CPython, the built layer, what Lambda puts on sys.path after the function's code:
    the layer and the runtime's SDK, with this machine's native builds in front off arm64).
    Raises when no CPython of the runtime's version is on this machine (nothing honest to measure)."""
    interpreter = runtime_interpreter()
    if interpreter is None:
        raise RuntimeError(f"no CPython {PYTHON_VERSION} on this machine (set LAYER_PYTHON): the cold start is "
                           "measured on the runtime's Python version")
    layer = build_layer()
    native, sdk = host_stand_ins(layer)
    paths = [native, layer / "python", sdk] if platform.machine() != "aarch64" else [layer / "python", sdk]
    return interpreter, layer, paths


def _has_native_code(dist_info: Path) -> bool:
    record = dist_info / "RECORD"
    return record.exists() and any(line.split(",")[0].endswith(".so") for line in record.read_text().splitlines())


def lambda_environment(name: str, task_root: Path) -> dict[str, str]:
    """What Lambda sets for a function (the parts our init reads); no credentials, no X-Ray daemon."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root), "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_LAMBDA_FUNCTION_NAME": f"helpdesk-{name}", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{PYTHON_VERSION}", "_HANDLER": f"functions/{name}/handler.handler",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "helpdesk", "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk", "LOG_LEVEL": "INFO",
        "DB_CLUSTER_ARN": "arn:aws:rds:us-east-1:123456789012:cluster:helpdesk",
        "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:helpdesk-db",
        "DB_NAME": "helpdesk", "SUPPORT_DOMAIN": "example.com", "WEB_BASE_URL": "https://help.example.com",
        # Lambda reads the key from Secrets Manager (HELPDESK_SIGNING_KEY_SECRET_ARN): one network call at
        # init that is not ours to speed up; here the key is given directly.
        "HELPDESK_SIGNING_KEY": "coldstart-bench-key-0123456789abcdef",
    }


def measure(name: str, task_root: Path, paths: list[Path], interpreter: str, *, variant: str, runs: int) -> ColdStart:
    with tempfile.TemporaryDirectory(prefix="no-pycs-") as empty:
        hide = _HIDE_PYCS.format(prefix=empty) if variant == "source only" else ""
        probe = _PROBE.format(hide=hide, paths=[str(task_root), *map(str, paths)], name=name)
        env = lambda_environment(name, task_root)
        cpus, imports, processes, modules = [], [], [], 0
        for _ in range(runs):
            started = perf_counter()
            result = subprocess.run([interpreter, "-I", "-c", probe], capture_output=True, text=True, cwd=task_root,
                                    env=env)
            elapsed = (perf_counter() - started) * 1000
            if result.returncode != 0:
                raise RuntimeError(f"importing functions.{name}.handler failed ({variant}):\n{result.stderr[-2000:]}")
            report = json.loads(result.stdout.strip().splitlines()[-1])
            cpus.append(report["cpu_ms"])
            imports.append(report["import_ms"])
            processes.append(elapsed)
            modules = report["modules"]
    return ColdStart(name, variant, statistics.median(cpus), statistics.median(imports), statistics.median(processes),
                     modules, runs)


# The first event, as Lambda runs it: the handler imported (the Init phase), SnapStart's hooks when the
# function has it (before the snapshot, then after the restore), then the same recorded event twice.
# The runtime provides snapshot_restore_py; here a stand-in records the hooks and runs them in that order.
_EVENT_PROBE = """
import sys, time, json, types
sys.path[:0] = {paths!r}
hooks = {{"before": [], "after": []}}
def _register(kind):
    def register(func, *args, **kwargs):
        hooks[kind].append((func, args, kwargs))
        return func
    return register
sys.modules["snapshot_restore_py"] = types.SimpleNamespace(register_before_snapshot=_register("before"),
                                                           register_after_restore=_register("after"))
class Context:
    function_name, memory_limit_in_mb, function_version = "helpdesk-{name}", 1024, "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:helpdesk-{name}"
    aws_request_id, log_group_name, log_stream_name = "bench", "/aws/lambda/helpdesk-{name}", "bench"
    def get_remaining_time_in_millis(self):
        return 29000
event = json.loads(sys.stdin.read())
cpu = time.process_time
started = cpu()
import importlib
module = importlib.import_module("functions.{name}.handler")
if {snap_start!r}:
    for func, args, kwargs in reversed(hooks["before"]):
        func(*args, **kwargs)
initialised = cpu()
if {snap_start!r}:
    for func, args, kwargs in hooks["after"]:
        func(*args, **kwargs)
restored = cpu()
module.handler(event, Context())
first = cpu()
module.handler(event, Context())
warm = cpu()
print(json.dumps({{"init_ms": (initialised - started) * 1000, "restore_ms": (restored - initialised) * 1000,
                  "first_ms": (first - restored) * 1000, "warm_ms": (warm - first) * 1000}}))
"""


@dataclass
class FirstEvent:
    """CPU ms of one function's first event after a cold start, against the same event warm."""

    function: str
    snap_start: bool
    init_ms: float  # the handler's import and init (with SnapStart: done before the snapshot, not on a cold start)
    restore_ms: float  # SnapStart's after-restore hooks
    first_ms: float  # the first event
    warm_ms: float  # the same event again, warm
    runs: int

    @property
    def cold_ms(self) -> float:
        """What a cold start adds to the event: the init (or the restore hooks) and the first event's extra work."""
        return (self.restore_ms if self.snap_start else self.init_ms) + max(self.first_ms - self.warm_ms, 0.0)

    @property
    def met(self) -> bool:
        return self.cold_ms < TARGET_MS


def replay_first_events(functions: tuple[str, ...], runs: int = RUNS, progress=print) -> list[FirstEvent]:
    """Every function's first event, replayed in fresh processes against a local stack that just ran a
    ticket's life (bench/lifecycle.py): the events are the ones the stack gave each function (redelivery
    is safe by design), the environment the one it gives them, plus Lambda's and X-Ray's."""
    import pickle

    with tempfile.TemporaryDirectory(prefix="helpdesk-coldstart-") as tmp:
        out = Path(tmp) / "first-events.pickle"
        result = subprocess.run([sys.executable, "-c", "from bench.coldstart import _replay_main; _replay_main()",
                                 str(out), str(runs), *functions], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"replaying the first events failed:\n{result.stderr[-3000:]}")
        progress("\n".join(line for line in result.stdout.splitlines() if line.startswith("  ")))
        return pickle.loads(out.read_bytes())


def _replay_main() -> None:
    """In its own process (the local stack wires this process's handlers to itself)."""
    import pickle

    from bench import lifecycle

    out, runs, functions = Path(sys.argv[1]), int(sys.argv[2]), tuple(sys.argv[3:])
    rows: list[FirstEvent] = []

    def replay(stack, meter) -> None:
        from bench.cost import stage
        from infra.workers import stage_function_code

        specs = stage("prod")[1]
        interpreter, _, paths = runtime_and_path()
        events = {**_events_outside_a_ticket_life(meter.first_events), **meter.first_events}
        for name in functions:
            task_root = stage_function_code(name)
            env = {**{k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"},
                   **{k: v for k, v in lambda_environment(name, task_root).items() if k.startswith(("LAMBDA_", "AWS_LAMBDA", "AWS_EXECUTION", "_HANDLER"))},
                   # Lambda's trace header; not sampled, so nothing is sent to a daemon.
                   "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"}
            probe = _EVENT_PROBE.format(paths=[str(task_root), *map(str, paths)], name=name,
                                        snap_start=specs[name].snap_start)
            samples = []
            for _ in range(runs):
                result = subprocess.run([interpreter, "-I", "-c", probe], input=json.dumps(events[name]),
                                        capture_output=True, text=True, cwd=task_root, env=env)
                if result.returncode != 0:
                    raise RuntimeError(f"functions.{name}: the replayed event failed:\n{result.stderr[-3000:]}")
                samples.append(json.loads(result.stdout.strip().splitlines()[-1]))
            row = FirstEvent(name, specs[name].snap_start, runs=runs, **{
                key: statistics.median(s[key] for s in samples) for key in ("init_ms", "restore_ms", "first_ms", "warm_ms")})
            rows.append(row)
            print(f"  {name} first event: cold {row.cold_ms:.0f} ms CPU (init {row.init_ms:.0f}, restore "
                  f"{row.restore_ms:.0f}, first {row.first_ms:.0f}, warm {row.warm_ms:.0f})", flush=True)

    lifecycle.count_one_ticket(progress=lambda line: None, while_up=replay)
    out.write_bytes(pickle.dumps(rows))


# What every function that logs, traces and calls AWS pays before any code of ours: Powertools' Logger
# and Tracer (X-Ray SDK, patching botocore) and the runtime's botocore with one client.
_FLOOR_PROBE = """
import sys, time, json
sys.path[:0] = {paths!r}
started = time.process_time()
from aws_lambda_powertools import Logger, Tracer
Logger(service="floor")
Tracer(service="floor")
import botocore.session
botocore.session.get_session().create_client("rds-data", region_name="us-east-1")
print(json.dumps({{"floor_ms": (time.process_time() - started) * 1000}}))
"""


def measure_floor(runs: int = RUNS) -> float:
    """Median CPU ms of _FLOOR_PROBE in fresh processes of the runtime's Python, with Lambda's environment."""
    import app  # noqa: F401 - quiets jsii's Node.js warnings before infra imports aws_cdk
    from infra.workers import stage_function_code

    interpreter, _, paths = runtime_and_path()
    task_root = stage_function_code("sweep")
    env = {**lambda_environment("sweep", task_root), "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    samples = []
    for _ in range(runs):
        result = subprocess.run([interpreter, "-I", "-c", _FLOOR_PROBE.format(paths=list(map(str, paths)))],
                                capture_output=True, text=True, cwd=task_root, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"the floor probe failed:\n{result.stderr[-2000:]}")
        samples.append(json.loads(result.stdout.strip().splitlines()[-1])["floor_ms"])
    return statistics.median(samples)


def _events_outside_a_ticket_life(seen: dict[str, dict]) -> dict[str, dict]:
    """Events of the functions a ticket's life does not invoke: the deploy's migrate trigger, the daily
    audit export's schedule (the sweep's, renamed), and a portal page subscribing to its ticket's channel."""
    from helpdesk.auth.portal import sign_portal_token
    from helpdesk.config import get_settings
    from helpdesk.push.access import customer_channel

    now = datetime.now(timezone.utc)
    token = sign_portal_token(uuid.uuid4(), get_settings().signing_keys, now)
    channel = customer_channel(token, get_settings().signing_keys, now).path
    schedule = dict(seen.get("sweep") or {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})
    schedule["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/helpdesk-audit-export"]
    return {"migrate": {}, "audit_export": schedule, "push_authorizer": {
        "authorizationToken": token,
        "requestContext": {"apiId": "bench", "accountId": "123456789012", "requestId": str(uuid.uuid4()),
                           "operation": "EVENT_SUBSCRIBE", "channelNamespaceName": "portal", "channel": channel},
        "requestHeaders": {}}}


def measure_all(functions: tuple[str, ...], runs: int = RUNS, progress=print) -> tuple[list[ColdStart], str]:
    """Every function in both variants; returns the rows and what the layer ships (its bytecode stamp).
    Raises when no CPython of the runtime's version is on this machine (nothing honest to measure)."""
    import app  # noqa: F401 - quiets jsii's Node.js warnings before infra imports aws_cdk
    from infra.workers import stage_function_code

    interpreter, layer, paths = runtime_and_path()
    rows = []
    for name in functions:
        task_root = stage_function_code(name)
        for variant in ("shipped", "source only"):
            rows.append(measure(name, task_root, paths, interpreter, variant=variant, runs=runs))
            progress(f"  {name} ({variant}): import {rows[-1].cpu_ms:.0f} ms CPU, {rows[-1].import_ms:.0f} ms wall, "
                     f"process {rows[-1].process_ms:.0f} ms")
    load = os.getloadavg()[0]
    return rows, (f"{layer_bytecode(layer)}, measured with {interpreter}; load average {load:.1f} on "
                  f"{os.cpu_count()} cores at the end")


def section(rows: list[ColdStart], shipped: str, runs: int, first_events: list[FirstEvent] | None = None,
            floor_ms: float | None = None) -> list[str]:
    """The RESULTS.md section (issue 20 item 5): the cold start each function's first event pays (judged
    against the target), then the import and init as shipped against source only (what bytecode saves)."""
    by = {(r.function, r.variant): r for r in rows}
    lines = ["## Cold start per function (issue 20 item 5)", ""]
    if first_events:
        lines += [
            "What a cold start adds to a function's first event, in CPU ms of the function's own process (this "
            "machine's 2 cores are shared; CPU time is what would run on a core of its own): "
            "`python -m bench.coldstart`. A local stack runs a ticket's life (bench/lifecycle.py); then each "
            "function, in fresh processes of the runtime's Python with the built layer and Lambda's environment "
            "(Tracer on), imports its handler and is given the first event the stack gave it, twice (redelivery "
            "is safe by design). cold start = the import and init (with SnapStart: the after-restore hooks "
            "instead, since the init and the before-snapshot priming run when the version is published) + "
            "(first event - the same event warm). Lambda's own restore of a snapshot is not included: only AWS "
            "can measure it. On Lambda a 1,024 MB function has about 0.58 of a vCPU (a full one at 1,769 MB), "
            "256 MB a quarter of that.", ""]
        if floor_ms is not None:
            lines += [f"Floor: Powertools' Logger and Tracer (X-Ray patching botocore) and the runtime's botocore "
                      f"with one client cost {floor_ms:.0f} ms CPU before any code of ours: every function "
                      "without SnapStart pays it on a cold start.", ""]
        lines += [f"| function | SnapStart | cold start CPU ms | import + init | after restore | first event | "
                  f"same event warm | target (cold start < {TARGET_MS:.0f} ms) |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        for e in first_events:
            lines.append(f"| {e.function} | {'yes' if e.snap_start else 'no'} | {e.cold_ms:.0f} | {e.init_ms:.0f}"
                         f"{' (before the snapshot)' if e.snap_start else ''} | "
                         f"{f'{e.restore_ms:.0f}' if e.snap_start else '-'} | {e.first_ms:.0f} | {e.warm_ms:.0f} | "
                         f"{'met' if e.met else 'missed'} |")
        lines.append("")
    lines += [
        f"Import and init as shipped: the median of {runs} fresh CPython {PYTHON_VERSION} processes importing "
        "`functions.<name>.handler` from the staged code, the built layer and the runtime's AWS SDK, with "
        "Lambda's environment. Layer: " + shipped + ". \"source only\" hides the pycs: what every cold start "
        "paid before the layer carried bytecode. Wall times and \"process\" (interpreter start-up and exit "
        "added) swing with the machine's load.", "",
        "| function | import CPU ms (shipped) | import wall ms | process wall ms | import CPU ms (source only) | "
        "saved by bytecode | modules |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in dict.fromkeys(r.function for r in rows):
        ours, source = by[(name, "shipped")], by[(name, "source only")]
        lines.append(f"| {name} | {ours.cpu_ms:.0f} | {ours.import_ms:.0f} | {ours.process_ms:.0f} | {source.cpu_ms:.0f} | "
                     f"{source.cpu_ms - ours.cpu_ms:.0f} ms ({source.cpu_ms / ours.cpu_ms:.1f}x) | {ours.modules} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    from bench.__main__ import FUNCTIONS

    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="fresh processes per function and variant (median)")
    args = parser.parse_args(argv)
    rows, shipped = measure_all(FUNCTIONS, args.runs)
    first_events = replay_first_events(FUNCTIONS, args.runs)
    print("\n".join(section(rows, shipped, args.runs, first_events, measure_floor(args.runs))))


if __name__ == "__main__":
    main()

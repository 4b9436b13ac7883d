"""Builds the Lambda layer directory (no Docker): the pinned runtime dependencies for the
Lambda runtime's platform, plus the `helpdesk` package, byte-compiled for the runtime.

Layout produced (what Lambda expects for Python layers):
    layers/build/helpdesk-layer/python/<site-packages content, with __pycache__/*.cpython-312.pyc>

Two caches keep synth and tests fast:
- dependencies are installed with pip for manylinux2014_aarch64 / CPython 3.12 only when
  requirements.txt (or the pip target) changes (stamp file with a hash of the inputs);
- the helpdesk package is copied (pure Python + migrations/*.sql) only when its files change.

Bytecode: Lambda cannot write next to /opt/python, so without shipped .pyc files every cold start
compiles every module it imports (the measured difference is in bench/RESULTS.md). The .pyc format
changes with each Python minor version, so they are compiled by a CPython of the runtime's version
(PYTHON_VERSION), found by `runtime_interpreter()`; the machine's own Python is usually another one.
They are "unchecked-hash" pycs (PEP 552): valid without comparing the source's mtime, which the
asset zip does not keep, and the same bytes on every build (a stable asset hash). Without such an
interpreter the layer ships source only and the build says so.

Usage: python scripts/build_layer.py [--force]   (prints the layer directory and its size)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.12"  # must match the functions' runtime (infra/workers.py)
PLATFORM = "manylinux2014_aarch64"  # arm64 functions
LAYER_DIR = ROOT / "layers" / "build" / "helpdesk-layer"
# Stamps live beside the layer, not in it: everything under LAYER_DIR is the asset.
STAMPS = LAYER_DIR.parent / ".stamps"
PACKAGE_SRC = ROOT / "layers" / "helpdesk" / "helpdesk"
REQUIREMENTS = ROOT / "requirements.txt"
# Packages the Lambda Python runtime provides (import names and their dist-info prefixes).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3"})
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache")
# Where the runtime finds the layer: the paths compiled into the pycs (tracebacks name them).
LAYER_MOUNT = "/opt/python"
# The runtime interpreter may be named by this variable (a path to a CPython PYTHON_VERSION).
INTERPRETER_ENV = "LAYER_PYTHON"


def _pip_args(target: Path) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile",  # no host-Python .pyc files: they would only change the asset hash
        "--platform", PLATFORM, "--only-binary=:all:", "--python-version", PYTHON_VERSION,
        "--implementation", "cp", "--target", str(target), "-r", str(REQUIREMENTS),
    ]


def _digest(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _package_files() -> list[Path]:
    return [p for p in PACKAGE_SRC.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}]


def _interpreter_candidates() -> list[str]:
    home = Path.home()
    found = [shutil.which(f"python{PYTHON_VERSION}") or ""]
    found += [str(p) for p in sorted((home / ".pyenv" / "versions").glob(f"{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"))]
    found += [str(p) for p in sorted((home / ".local" / "share" / "uv" / "python").glob(
        f"cpython-{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"))]
    found += [f"/usr/bin/python{PYTHON_VERSION}", f"/usr/local/bin/python{PYTHON_VERSION}"]
    return [c for c in dict.fromkeys(found) if c]


@lru_cache(maxsize=1)
def runtime_interpreter() -> str | None:
    """A CPython of the runtime's version on this machine (LAYER_PYTHON, python3.12 on PATH, pyenv,
    uv-managed), or None. A pyenv shim on PATH may name a version that is not selected: each
    candidate is run to check what it is. LAYER_PYTHON naming anything else is an error."""
    named = os.environ.get(INTERPRETER_ENV)
    if named:
        what = _version_of(named)
        if what != f"CPython {PYTHON_VERSION}":
            raise RuntimeError(f"{INTERPRETER_ENV}={named} is {what or 'not a Python that runs'}; the layer's bytecode "
                               f"needs CPython {PYTHON_VERSION} (the functions' runtime)")
        return named
    return next((c for c in _interpreter_candidates() if _version_of(c) == f"CPython {PYTHON_VERSION}"), None)


def _version_of(interpreter: str) -> str | None:
    """'CPython 3.12' (implementation and minor version), or None if it does not run."""
    try:
        result = subprocess.run([interpreter, "-c", "import sys, platform; print(platform.python_implementation(), "
                                 "'%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def compile_bytecode(tree: Path, deployed_at: str) -> bool:
    """Byte-compiles every module under `tree` for the runtime (unchecked-hash pycs whose paths say
    `deployed_at`, where Lambda mounts it). Returns False (and leaves source only) without a runtime
    interpreter; raises if a module does not compile."""
    interpreter = runtime_interpreter()
    if interpreter is None:
        return False
    result = subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(tree), "-p", deployed_at, str(tree)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"byte-compiling {tree} with {interpreter} failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return True


def _bytecode_wanted() -> str:
    interpreter = runtime_interpreter()
    return f"cpython-{PYTHON_VERSION} unchecked-hash {LAYER_MOUNT}" if interpreter else "source only"


def _compile_layer(python_dir: Path, force: bool) -> None:
    stamp = STAMPS / "bytecode"
    wanted = _bytecode_wanted()
    if not force and stamp.exists() and stamp.read_text() == wanted:
        return
    if not compile_bytecode(python_dir, LAYER_MOUNT):
        print(f"warning: no CPython {PYTHON_VERSION} found (set {INTERPRETER_ENV}, or install one with pyenv or "
              f"`uv python install {PYTHON_VERSION}`): the layer ships source only, and every cold start on Lambda "
              "compiles what it imports", file=sys.stderr)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted)


def layer_bytecode(layer_dir: Path = LAYER_DIR) -> str:
    """What the built layer ships: its bytecode stamp ("source only" when it has none)."""
    stamp = layer_dir.parent / ".stamps" / "bytecode"
    return stamp.read_text() if stamp.exists() else "source only"


def _install_dependencies(python_dir: Path, force: bool) -> bool:
    stamp = STAMPS / "deps.sha256"
    wanted = _digest([REQUIREMENTS], extra=" ".join(_pip_args(Path("TARGET"))[3:]))
    if not force and stamp.exists() and stamp.read_text() == wanted and python_dir.exists():
        return False
    if LAYER_DIR.exists():
        shutil.rmtree(LAYER_DIR)
    python_dir.mkdir(parents=True)
    result = subprocess.run(_pip_args(python_dir), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            "building the Lambda layer failed: pip could not install requirements.txt for "
            f"{PLATFORM} / CPython {PYTHON_VERSION} (wheels only):\n{result.stderr[-4000:]}"
        )
    # Console scripts are of no use in a layer and point at the build machine's interpreter.
    shutil.rmtree(python_dir / "bin", ignore_errors=True)
    # The Lambda runtime ships the AWS SDK: a second copy (pulled in by aws-xray-sdk) would only
    # add ~80 MB and shadow the runtime's.
    for path in python_dir.iterdir():
        if path.name.split("-")[0].lower() in RUNTIME_PROVIDED:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted)
    return True


def _copy_package(python_dir: Path, force: bool) -> bool:
    stamp = STAMPS / "package.sha256"
    wanted = _digest(_package_files())
    target = python_dir / "helpdesk"
    if not force and stamp.exists() and stamp.read_text() == wanted and target.exists():
        return False
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(PACKAGE_SRC, target, ignore=_IGNORED)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted)
    return True


def build_layer(force: bool = False) -> Path:
    """Returns the layer directory (the asset root for lambda.Code.from_asset), rebuilt only if needed."""
    if not REQUIREMENTS.exists() or not PACKAGE_SRC.is_dir():
        raise FileNotFoundError(f"layer inputs missing: {REQUIREMENTS} and {PACKAGE_SRC} are required")
    python_dir = LAYER_DIR / "python"
    changed = _install_dependencies(python_dir, force)
    changed = _copy_package(python_dir, force) or changed
    _compile_layer(python_dir, force or changed)
    return LAYER_DIR


def layer_size_bytes(layer_dir: Path = LAYER_DIR) -> int:
    return sum(p.stat().st_size for p in (layer_dir / "python").rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even if the inputs are unchanged")
    args = parser.parse_args()
    layer = build_layer(force=args.force)
    print(f"{layer} {layer_size_bytes(layer) / 1_000_000:.1f} MB unzipped, {layer_bytecode(layer)}")


if __name__ == "__main__":
    main()

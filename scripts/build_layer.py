"""Builds the Lambda layer directory (no Docker): the pinned runtime dependencies for the
Lambda runtime's platform, plus the `helpdesk` package.

Layout produced (what Lambda expects for Python layers):
    layers/build/helpdesk-layer/python/<site-packages content>

Two caches keep synth and tests fast:
- dependencies are installed with pip for manylinux2014_aarch64 / CPython 3.12 only when
  requirements.txt (or the pip target) changes (stamp file with a hash of the inputs);
- the helpdesk package is copied (pure Python + migrations/*.sql) only when its files change.

Usage: python scripts/build_layer.py [--force]   (prints the layer directory and its size)
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
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


def _install_dependencies(python_dir: Path, force: bool) -> None:
    stamp = STAMPS / "deps.sha256"
    wanted = _digest([REQUIREMENTS], extra=" ".join(_pip_args(Path("TARGET"))[3:]))
    if not force and stamp.exists() and stamp.read_text() == wanted and python_dir.exists():
        return
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


def _copy_package(python_dir: Path, force: bool) -> None:
    stamp = STAMPS / "package.sha256"
    wanted = _digest(_package_files())
    target = python_dir / "helpdesk"
    if not force and stamp.exists() and stamp.read_text() == wanted and target.exists():
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(PACKAGE_SRC, target, ignore=_IGNORED)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted)


def build_layer(force: bool = False) -> Path:
    """Returns the layer directory (the asset root for lambda.Code.from_asset), rebuilt only if needed."""
    if not REQUIREMENTS.exists() or not PACKAGE_SRC.is_dir():
        raise FileNotFoundError(f"layer inputs missing: {REQUIREMENTS} and {PACKAGE_SRC} are required")
    python_dir = LAYER_DIR / "python"
    _install_dependencies(python_dir, force)
    _copy_package(python_dir, force)
    return LAYER_DIR


def layer_size_bytes(layer_dir: Path = LAYER_DIR) -> int:
    return sum(p.stat().st_size for p in (layer_dir / "python").rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even if the inputs are unchanged")
    args = parser.parse_args()
    layer = build_layer(force=args.force)
    print(f"{layer} {layer_size_bytes(layer) / 1_000_000:.1f} MB unzipped")


if __name__ == "__main__":
    main()

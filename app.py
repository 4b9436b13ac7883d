#!/usr/bin/env python3
"""CDK app: `python app.py [-c key=value ...]` synthesizes into cdk.out/ without the cdk CLI.

It loads the context from cdk.json itself (the CLI does that when it runs this file, through
CDK_CONTEXT_JSON, which then takes precedence), applies `-c key=value` arguments, builds the
Lambda layer if its inputs changed (scripts/build_layer.py) and runs cdk-nag AwsSolutions checks.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

# jsii runs on the machine's Node.js; v20 works but warns loudly on every start.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import ContextError, StageConfig  # noqa: E402
from infra.stack import HelpdeskStack  # noqa: E402
from scripts.build_layer import build_layer  # noqa: E402


def load_context(argv: Sequence[str] = (), cdk_json: Path = ROOT / "cdk.json") -> dict[str, Any]:
    context: dict[str, Any] = dict(json.loads(cdk_json.read_text()).get("context", {})) if cdk_json.exists() else {}
    args = list(argv)
    for index, arg in enumerate(args):
        pair = None
        if arg in ("-c", "--context") and index + 1 < len(args):
            pair = args[index + 1]
        elif arg.startswith("--context="):
            pair = arg.split("=", 1)[1]
        if pair is not None:
            if "=" not in pair:
                raise SystemExit(f"context argument must be key=value, got {pair!r}")
            key, value = pair.split("=", 1)
            context[key] = value
    return context


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None, nag: bool = True,
              layer_dir: Path | None = None, functions_dir: Path | None = None) -> tuple[cdk.App, HelpdeskStack]:
    app = cdk.App(context=context if context is not None else load_context(), outdir=outdir)
    config = StageConfig.from_context(app.node.get_all_context())
    env = cdk.Environment(account=config.account or os.environ.get("CDK_DEFAULT_ACCOUNT"), region=config.region)
    stack = HelpdeskStack(app, config.stack_name, config=config, env=env,
                          layer_dir=layer_dir or build_layer(), functions_dir=functions_dir)
    if nag:
        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


def main(argv: Sequence[str]) -> None:
    outdir = None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out")
    try:
        app, _ = build_app(load_context(argv), outdir=outdir)
    except ContextError as error:  # a setting to fix, not a crash: the message alone
        raise SystemExit(f"error: {error}") from None
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1:])

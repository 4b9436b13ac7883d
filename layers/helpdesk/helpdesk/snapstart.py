"""Lambda SnapStart: work a function does before Lambda snapshots its initialised environment, and
after a new environment resumes from that snapshot.

The hooks come from the runtime's snapshot_restore_py (Python 3.12+); elsewhere (the local stack,
tests, a function without SnapStart) registering one does nothing, and the hook never runs.
"""
from __future__ import annotations

from typing import Any, Callable

try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # not on Lambda's Python runtime
    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func


def unbuilt_deferred_models() -> list[type]:
    """The pydantic models declared with defer_build whose validator is not built yet (a cold process
    builds each on first use: tens of ms on the first request that needs them)."""
    from pydantic import BaseModel

    found, todo, seen = [], list(BaseModel.__subclasses__()), set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        todo.extend(model.__subclasses__())
        if model.model_config.get("defer_build") and type(model.__pydantic_validator__).__name__ == "MockValSer":
            found.append(model)
    return found


def build_deferred_models() -> int:
    """Builds the validator of every unbuilt deferred model; returns how many were built."""
    models = unbuilt_deferred_models()
    for model in models:
        model.model_rebuild(force=True)
    return len(models)

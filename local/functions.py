"""Calls the Lambda handlers in functions/<name>/handler.py in this process, like Lambda would.

A function that does not exist yet (or fails to import) must not take the stack down: it is
reported once ("functions/X not available yet") and looked for again every `retry_seconds`.
"""
from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("local.functions")


class FunctionUnavailable(Exception):
    """functions/<name>/handler.py is missing or does not import."""


@dataclass
class LambdaContext:
    """The attributes Powertools' inject_lambda_context reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class Functions:
    def __init__(self, root: Path, *, retry_seconds: float = 10.0) -> None:
        self.root = root
        self.retry_seconds = retry_seconds
        self._handlers: dict[str, Callable[[dict, Any], Any]] = {}
        self._last_failure: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._invoke_locks: dict[str, threading.Lock] = {}
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))

    def available(self, name: str) -> bool:
        try:
            self.handler(name)
            return True
        except FunctionUnavailable:
            return False

    def handler(self, name: str) -> Callable[[dict, Any], Any]:
        with self._lock:
            found = self._handlers.get(name)
            if found is not None:
                return found
            failed = self._last_failure.get(name)
            if failed and time.monotonic() - failed[0] < self.retry_seconds:
                raise FunctionUnavailable(failed[1])
            module_name = f"functions.{name}.handler"
            try:
                importlib.invalidate_caches()
                module = importlib.import_module(module_name)
                found = getattr(module, "handler")
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    reason = f"functions/{name} not available yet"
                else:
                    reason = f"functions/{name} not available: {exc}"
                return self._unavailable(name, reason, failed)
            except Exception as exc:  # a half-written function must not stop the stack
                return self._unavailable(name, f"functions/{name} not available: {type(exc).__name__}: {exc}", failed)
            if failed:
                log.info("functions/%s is available now", name)
            self._last_failure.pop(name, None)
            self._handlers[name] = found
            return found

    def _unavailable(self, name: str, reason: str, previous: tuple[float, str] | None):
        if previous is None or previous[1] != reason:
            log.warning("%s; the stack keeps going without it", reason)
        # A failed import can leave half-initialised modules behind; drop them so a retry starts clean.
        for key in [k for k in sys.modules if k == f"functions.{name}" or k.startswith(f"functions.{name}.")]:
            sys.modules.pop(key, None)
        self._last_failure[name] = (time.monotonic(), reason)
        raise FunctionUnavailable(reason)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Run the handler; FunctionUnavailable if it does not exist (yet); its exceptions propagate.

        One event at a time per function, as in one Lambda execution environment: handlers keep
        per-invocation state in module globals (Powertools' resolver holds `current_event`), so
        two HTTP threads inside one handler at once could see each other's request and claims."""
        handler = self.handler(name)
        with self._lock:
            lock = self._invoke_locks.setdefault(name, threading.Lock())
        with lock:
            return handler(event, LambdaContext(function_name=f"helpdesk-{name}"))

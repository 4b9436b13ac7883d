"""The AWS SDK as our functions use it: botocore clients from one session per process.

Why not `boto3.client`: boto3 adds nothing we use (no resources, no s3transfer), and importing it
costs a cold start about 16 ms more. Why one session: a session loads the SDK's endpoint data and
the list of services once; a second client from it costs about 6 ms, where a client from a new
session costs about 50 ms (measured on the runtime's Python: `python -m bench.coldstart`). The
session is keyed by the AWS_* environment, so a process that changes it (the local stack, tests)
gets a session that sees the change. Clients are thread-safe; creating them is not, hence the lock.
"""
from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
_sessions: dict[tuple[tuple[str, str], ...], Any] = {}


def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def session() -> Any:
    """This process's botocore session (a new one only when the AWS_* environment changed)."""
    key = _environment()
    with _lock:
        found = _sessions.get(key)
        if found is None:
            import botocore.session

            _sessions.clear()  # the old environment is gone; its session would only hold memory
            found = _sessions[key] = botocore.session.get_session()
        return found


def client(service: str, *, region: str, endpoint_url: str | None = None, config: Any = None) -> Any:
    """A botocore client of this process's session. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
    (the local stack's moto and Data API) apply as with boto3."""
    shared = session()
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    with _lock:
        return shared.create_client(service, **kwargs)


def credentials() -> Any:
    """The credentials clients of this session sign with (refreshed by botocore when they expire)."""
    return session().get_credentials()

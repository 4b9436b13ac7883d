"""The TLS client context our own HTTPS calls share (the Event API publisher, Slack)."""
from __future__ import annotations

import ssl
from functools import lru_cache


@lru_cache(maxsize=1)
def client_context() -> ssl.SSLContext:
    """One per process: creating a context loads the system's CA certificates (~20 ms of CPU), which
    urllib.request.urlopen would otherwise do for every request it makes without one."""
    return ssl.create_default_context()

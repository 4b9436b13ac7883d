"""Start (or find) the PostgreSQL server the local Data API runs SQL on.

`DATABASE_URL` wins when set; otherwise the project starts its own server with pgserver
(a pip-installed PostgreSQL; it works as root) with its data under `.local/`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / ".local" / "pgdata"


def server_uri(data_dir: Path = DEFAULT_DATA_DIR, *, keep_running: bool = True) -> str:
    """The URI of a running server's maintenance database, starting the embedded one if needed."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # imported lazily: only needed when we start our own server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    return server.get_uri()


def with_database(uri: str, name: str) -> str:
    """The same server URI pointed at database `name`."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + name))


def ensure_database(uri: str, name: str, *, recreate: bool = False) -> str:
    """Create database `name` on the server if it does not exist; return its URI."""
    with psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and recreate:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(uri, name)


class EmbeddedServer:
    """A handle on the server the local stack uses: `uri` of its maintenance database, and
    `release()` which stops the embedded server (unless kept for reuse) and does nothing for
    a `DATABASE_URL` server, which belongs to its owner."""

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, *, keep_running: bool = False, url: str | None = None) -> None:
        self._server = None
        url = url if url is not None else os.environ.get("DATABASE_URL")
        if url:
            self.uri, self.embedded = url, False
            return
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
        self.uri, self.embedded = self._server.get_uri(), True

    def release(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

"""Forward-only migrations: numbered SQL files, each applied atomically and recorded with its checksum."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from helpdesk.db.client import DataApi
from helpdesk.db.sqltext import split_statements
from helpdesk.errors import DatabaseError

_FILENAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant shared by every migrator; serializes concurrent runs (two deploys, tests in parallel).
_LOCK_KEY = 7_214_301


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    folder = resources.files("helpdesk.db") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise DatabaseError(f"two migrations share a number: {sorted(versions)}")
    return found


def migrate(db: DataApi, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration; returns the names applied. Safe to run concurrently.

    `migrations` defaults to the packaged files (tests pass their own list)."""
    # One statement, under the same advisory lock as the migrations: concurrent
    # `CREATE TABLE IF NOT EXISTS` can otherwise fail on pg_type's unique index.
    db.execute(
        "DO $$ BEGIN PERFORM pg_advisory_xact_lock(%d);"
        " CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now()); END $$" % _LOCK_KEY
    )
    recorded = {r["version"]: r["checksum"] for r in db.query("SELECT version, checksum FROM schema_migrations")}
    applied_now: list[str] = []
    for migration in (available() if migrations is None else sorted(migrations, key=lambda m: m.version)):
        if migration.version in recorded:
            _check_unchanged(migration, recorded[migration.version])
            continue
        with db.transaction() as tx:
            # pg_advisory_xact_lock returns void, a type the Data API refuses to return: select a constant.
            tx.execute("SELECT true AS locked FROM pg_advisory_xact_lock(:key)", {"key": _LOCK_KEY})
            row = tx.execute("SELECT checksum FROM schema_migrations WHERE version = :v", {"v": migration.version}).first()
            if row is not None:  # another migrator applied it while we waited for the lock
                _check_unchanged(migration, row["checksum"])
                continue
            for statement in split_statements(migration.sql):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (:v, :name, :sum)",
                {"v": migration.version, "name": migration.name, "sum": migration.checksum},
            )
            applied_now.append(migration.name)
    return applied_now


def _check_unchanged(migration: Migration, recorded_checksum: str) -> None:
    if recorded_checksum != migration.checksum:
        raise DatabaseError(f"migration {migration.name} changed after it was applied; migrations are forward-only: add a new file")

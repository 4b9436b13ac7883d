"""A throwaway database for a benchmark: created on the embedded PostgreSQL (or DATABASE_URL),
migrated, reached through the boto3 rds-data client answered by the local Data API, and dropped
afterwards unless kept. Every benchmark builds its Data API here, the same way."""
from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

import boto3  # noqa: E402
import psycopg  # noqa: E402

from helpdesk.db.client import DataApi  # noqa: E402
from helpdesk.db.migrate import migrate  # noqa: E402
from local.dataapi import LocalDataApi, attach  # noqa: E402
from local.postgres import ensure_database, server_uri  # noqa: E402

CLUSTER_ARN = "arn:aws:rds:us-east-1:000000000000:cluster:bench"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench"


@dataclass
class Scratch:
    name: str
    server: str
    uri: str
    backend: LocalDataApi
    client: object

    def data_api(self) -> DataApi:
        """A new DataApi (own call counter) over the shared client; one per thread in concurrent runs."""
        return data_api(self.client, self.name)


def data_api(client: object, database: str) -> DataApi:
    return DataApi(client, resource_arn=CLUSTER_ARN, secret_arn=SECRET_ARN, database=database)


def rds_data_client(backend: LocalDataApi) -> object:
    return attach(boto3.client("rds-data", region_name="us-east-1"), backend)


@contextmanager
def scratch_database(prefix: str, *, keep: bool = False, pool_size: int = 16) -> Iterator[Scratch]:
    name = f"{prefix}_{os.getpid()}"
    server = server_uri()
    uri = ensure_database(server, name, recreate=True)
    backend = LocalDataApi(uri, pool_size=pool_size)
    scratch = Scratch(name, server, uri, backend, rds_data_client(backend))
    try:
        migrate(scratch.data_api())
        yield scratch
    finally:
        backend.close()
        if keep:
            print(f"kept database {name} on {server}")
        else:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Settings read from the environment once (Lambda env vars in AWS, the local stack locally)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    cluster_arn: str = field(default_factory=lambda: os.environ.get("DB_CLUSTER_ARN", "arn:aws:rds:us-east-1:000000000000:cluster:helpdesk-local"))
    secret_arn: str = field(default_factory=lambda: os.environ.get("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:helpdesk-local"))
    database: str = field(default_factory=lambda: os.environ.get("DB_NAME", "helpdesk"))
    region: str = field(default_factory=lambda: os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")))
    support_domain: str = field(default_factory=lambda: os.environ.get("SUPPORT_DOMAIN", "example.com"))
    # Signs reply-address tokens and portal links. In AWS it comes from Secrets Manager via env.
    signing_key: str = field(default_factory=lambda: os.environ.get("HELPDESK_SIGNING_KEY", "local-dev-signing-key"))


def get_settings() -> Settings:
    return Settings()

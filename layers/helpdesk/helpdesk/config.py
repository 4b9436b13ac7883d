"""Settings read from the environment once (Lambda env vars in AWS, the local stack locally).

These names are the contract between infra/ (which sets them), local/ (which sets them for the
local stack) and the functions (which read them through `get_settings`).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

from helpdesk.auth.signing import Keyring

log = logging.getLogger(__name__)

LOCAL_SIGNING_KEY = "local-dev-signing-key"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    cluster_arn: str = field(default_factory=lambda: _env("DB_CLUSTER_ARN", "arn:aws:rds:us-east-1:000000000000:cluster:helpdesk-local"))
    secret_arn: str = field(default_factory=lambda: _env("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:helpdesk-local"))
    database: str = field(default_factory=lambda: _env("DB_NAME", "helpdesk"))
    region: str = field(default_factory=lambda: _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")))
    # The longest a function waits for one Data API statement (botocore's read timeout, seconds).
    db_read_timeout: float = field(default_factory=lambda: float(_env("DB_READ_TIMEOUT_SECONDS", "10")))
    support_domain: str = field(default_factory=lambda: _env("SUPPORT_DOMAIN", "example.com"))
    # Signs portal links, chat sessions, reply-attachment references and reply addresses
    # (helpdesk.auth.signing: a plain key or a JSON keyring). In AWS it is read from Secrets Manager.
    signing_keys: Keyring = field(default_factory=lambda: signing_keys())
    # Messaging and storage (empty = not configured: events wait for the relay, etc.).
    events_topic_arn: str = field(default_factory=lambda: _env("EVENTS_TOPIC_ARN"))
    raw_mail_bucket: str = field(default_factory=lambda: _env("RAW_MAIL_BUCKET"))
    attachments_bucket: str = field(default_factory=lambda: _env("ATTACHMENTS_BUCKET"))
    audit_bucket: str = field(default_factory=lambda: _env("AUDIT_BUCKET"))
    # Outbound mail: the From address domain is support_domain; SES configuration set for events.
    ses_configuration_set: str = field(default_factory=lambda: _env("SES_CONFIGURATION_SET"))
    # Slack: bot token and signing secret live in Secrets Manager (ARNs) or, locally, in env.
    slack_secret_arn: str = field(default_factory=lambda: _env("SLACK_SECRET_ARN"))
    slack_api_base_url: str = field(default_factory=lambda: _env("SLACK_API_BASE_URL", "https://slack.com/api/"))
    # The agents' Cognito user pool: POST /agents/{id}/invite creates the user there (empty: no user pool,
    # as in the local stack, whose agents sign in with local tokens).
    user_pool_id: str = field(default_factory=lambda: _env("USER_POOL_ID"))
    # Public base URL of the web workspace / customer portal (links in mail).
    web_base_url: str = field(default_factory=lambda: _env("WEB_BASE_URL", "http://127.0.0.1:8080"))
    # Origins of customers' own sites that embed the chat widget (comma-separated, e.g.
    # "https://shop.example.com,https://www.example.com"; "*" = any site). CORS allows them on the
    # public chat routes only; every other route stays limited to WEB_BASE_URL.
    chat_allowed_origins: tuple[str, ...] = field(default_factory=lambda: parse_origins(_env("CHAT_ALLOWED_ORIGINS"),
                                                                                        "CHAT_ALLOWED_ORIGINS"))
    # Push (helpdesk.push): the AppSync Event API's HTTP endpoint the push consumer publishes to
    # (empty: nothing is pushed and clients fall back to slow polling).
    push_http_endpoint: str = field(default_factory=lambda: _env("PUSH_HTTP_ENDPOINT"))
    # ... and its real-time (WebSocket) endpoint, handed to browsers by GET /live.
    push_realtime_endpoint: str = field(default_factory=lambda: _env("PUSH_REALTIME_ENDPOINT"))
    # Local stack only: a file holding the dev clock's offset in seconds (POST /api/v1/dev/clock).
    clock_offset_file: str = field(default_factory=lambda: _env("HELPDESK_CLOCK_OFFSET_FILE"))
    # Optional endpoint override for every boto3 client except rds-data (moto server locally).
    aws_endpoint_url: str = field(default_factory=lambda: _env("AWS_ENDPOINT_URL"))
    # SLA: how long before a deadline the sweep sends the at-risk warning (capped at half the target).
    sla_warn_before_seconds: int = field(default_factory=lambda: int(_env("SLA_WARN_BEFORE_SECONDS", "1800") or 1800))
    # Email threading layer 4 (docs/architecture.md): same sender + normalized subject within 7 days -> a new ticket
    # flagged as a possible follow-up. Off by default.
    email_heuristic_threading: bool = field(default_factory=lambda: _env("HELPDESK_EMAIL_HEURISTIC").lower() in ("1", "true", "yes"))
    # Newsletters, mailing lists and campaign mail (never acknowledged): "quarantine" keeps them in the
    # admins' quarantine list, "ticket" opens a ticket tagged "bulk".
    email_bulk_mail: str = field(default_factory=lambda: parse_choice(_env("HELPDESK_EMAIL_BULK", "quarantine"),
                                                                      "HELPDESK_EMAIL_BULK", BULK_MAIL_CHOICES))
    # Mail whose sender SES could not authenticate and that would thread by its subject tag or into a
    # closed/resolved ticket: 'new_ticket' (opened apart) or 'quarantine' ("unverified sender").
    email_unverified_sender: str = field(default_factory=lambda: parse_choice(
        _env("HELPDESK_EMAIL_UNVERIFIED_SENDER", "new_ticket"), "HELPDESK_EMAIL_UNVERIFIED_SENDER", UNVERIFIED_SENDER_CHOICES))
    # Customer domains whose DMARC failures are not quarantined (e.g. a customer behind a forwarder).
    email_dmarc_allowlist: tuple[str, ...] = field(default_factory=lambda: tuple(
        d.strip().lower() for d in _env("HELPDESK_EMAIL_DMARC_ALLOWLIST").split(",") if d.strip()))
    # An internal help desk: colleagues at the support domain are customers (our own team addresses,
    # reply addresses and the loop header still never are).
    email_support_domain_customers: bool = field(
        default_factory=lambda: _env("HELPDESK_EMAIL_SUPPORT_DOMAIN_CUSTOMERS").lower() in ("1", "true", "yes"))


BULK_MAIL_CHOICES = ("quarantine", "ticket")
UNVERIFIED_SENDER_CHOICES = ("new_ticket", "quarantine")


def parse_choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    choice = value.strip().lower()
    if choice not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed (one of {', '.join(allowed)})")
    return choice


def parse_origins(value: str, name: str) -> tuple[str, ...]:
    """Comma-separated web origins (scheme://host[:port], no path), or "*" for any."""
    origins = []
    for item in (part.strip().rstrip("/") for part in value.split(",")):
        if not item:
            continue
        scheme, sep, host = item.partition("://")
        if item != "*" and (scheme not in ("http", "https") or not sep or not host or "/" in host):
            raise ValueError(f"{name}: {item!r} is not a web origin; use scheme://host[:port] "
                             f"(http or https, no path), comma-separated, or *")
        origins.append(item)
    return tuple(origins)


def signing_keys() -> Keyring:
    """HELPDESK_SIGNING_KEY, else the secret named by HELPDESK_SIGNING_KEY_SECRET_ARN (the stack sets
    the ARN, not the value, so the key never appears in a function's configuration). Either holds a
    plain key or a JSON keyring (helpdesk.auth.signing.Keyring.parse). In Lambda a missing key is an
    error: the public local default would let anyone forge reply addresses."""
    explicit = _env("HELPDESK_SIGNING_KEY")
    if explicit:
        return _keyring(explicit)
    arn = _env("HELPDESK_SIGNING_KEY_SECRET_ARN")
    if arn:
        return _keyring(_secret_string(arn))
    if _env("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError("no signing key: set HELPDESK_SIGNING_KEY_SECRET_ARN (or HELPDESK_SIGNING_KEY)")
    return _keyring(LOCAL_SIGNING_KEY)


@lru_cache(maxsize=8)
def _keyring(text: str) -> Keyring:
    return Keyring.parse(text)


# A warm process re-reads the secret this often, so a rotated keyring reaches every function within
# this span (docs/deploy.md: add the new key first, make it current after this span has passed).
SECRET_REFRESH_SECONDS = 300
_monotonic = time.monotonic
_secrets: dict[str, tuple[float, str]] = {}  # arn -> (read at, value)


def _secret_string(arn: str) -> str:
    """The secret's value, read once per warm process and SECRET_REFRESH_SECONDS (Settings are built
    per request; Secrets Manager is not on that path). A failed refresh keeps the value already read:
    a passing Secrets Manager error must not fail requests that worked a second ago."""
    now = _monotonic()
    cached = _secrets.get(arn)
    if cached is not None and now - cached[0] < SECRET_REFRESH_SECONDS:
        return cached[1]
    from helpdesk import aws_sdk

    region = _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1"))
    try:
        value = aws_sdk.client("secretsmanager", region=region).get_secret_value(SecretId=arn)["SecretString"]
    except Exception as exc:  # noqa: BLE001 - any failure: the cached value, if there is one
        if cached is None:
            raise
        log.warning("could not refresh the secret %s (%s); keeping the value read before", arn, exc)
        return cached[1]
    if not value:
        raise RuntimeError(f"the signing key secret {arn} is empty")
    _secrets[arn] = (now, value)
    return value


def get_settings() -> Settings:
    return Settings()

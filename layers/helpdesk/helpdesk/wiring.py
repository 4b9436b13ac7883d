"""Builds the domain's collaborators from Settings: the one place functions get a DataApi, a
clock and a publisher, so every handler is wired the same way in AWS and in the local stack."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from helpdesk.clock import Clock, SystemClock
from helpdesk.config import Settings, get_settings
from helpdesk.db.client import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, DataApi
from helpdesk.events.publisher import DeferredPublisher, Publisher


class FileOffsetClock:
    """System time plus an offset read from a file on every call: the local stack's dev clock,
    shared by the HTTP server, workers and the sweep (POST /api/v1/dev/clock writes the file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def offset(self) -> timedelta:
        try:
            return timedelta(seconds=float(self.path.read_text().strip() or 0))
        except FileNotFoundError:
            return timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset()


def clock(settings: Settings | None = None) -> Clock:
    settings = settings or get_settings()
    return FileOffsetClock(settings.clock_offset_file) if settings.clock_offset_file else SystemClock()


@lru_cache(maxsize=1)
def data_api() -> DataApi:
    return DataApi.from_settings()


def bind_invocation(context: object, *, at_most: float | None = None) -> None:
    """Bound this invocation's database retries by its remaining time (DataApi.bind_invocation)."""
    data_api().bind_invocation(context, at_most=at_most)


def sdk_config():
    """Every SDK call ends inside the API's 29 s: 2 attempts x (3 s connect + 10 s read) + backoff
    (botocore's defaults, 60 s + 60 s and up to 5 attempts, outlast any of our functions' timeouts)."""
    from botocore.config import Config

    return Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                  retries={"mode": "standard", "max_attempts": 2})


def aws_client(service: str, settings: Settings | None = None):
    """An AWS SDK client for S3/SQS/SNS/SES/Secrets Manager/Cognito (helpdesk.aws_sdk: one session per
    process); AWS_ENDPOINT_URL points it at moto locally."""
    from helpdesk import aws_sdk

    settings = settings or get_settings()
    return aws_sdk.client(service, region=settings.region, endpoint_url=settings.aws_endpoint_url or None,
                          config=sdk_config())


def publisher(settings: Settings | None = None) -> Publisher:
    """SNS when a topic is configured; otherwise events wait in the outbox for the relay."""
    settings = settings or get_settings()
    if not settings.events_topic_arn:
        return DeferredPublisher()
    from helpdesk.events.sns import SnsPublisher  # the events package owns the SNS wire format

    return SnsPublisher(aws_client("sns", settings), settings.events_topic_arn)


def push_publisher(settings: Settings | None = None):
    """The AppSync Events publisher, signing with this function's credentials (None: push is off)."""
    settings = settings or get_settings()
    if not settings.push_http_endpoint:
        return None
    from helpdesk import aws_sdk
    from helpdesk.push.appsync import AppSyncEventsPublisher

    return AppSyncEventsPublisher(settings.push_http_endpoint, settings.region, aws_sdk.credentials())

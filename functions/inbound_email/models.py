"""The two event shapes on the inbound path (our own models: Powertools' SES model describes
SES's Lambda action, not this S3 -> SQS path): an SQS record whose body is an S3 event notification."""
from __future__ import annotations

from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field


class S3Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class S3Object(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str
    size: int | None = None

    @property
    def decoded_key(self) -> str:
        return unquote_plus(self.key)  # S3 notifications URL-encode keys (spaces as '+')


class S3Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_name: str = Field(alias="eventName")
    s3: S3Entity


class S3EventNotification(BaseModel):
    """The SQS body. S3's configuration check sends {"Event": "s3:TestEvent", ...} with no Records."""

    model_config = ConfigDict(extra="ignore")
    records: list[S3EventRecord] = Field(default_factory=list, alias="Records")
    event: str | None = Field(default=None, alias="Event")


class SqsRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: str = Field(alias="messageId")
    body: str
    event_source_arn: str | None = Field(default=None, alias="eventSourceARN")

"""Attachment uploads from the public web form: the browser asks for a presigned S3 POST, uploads the
file straight to the private attachments bucket (never through Lambda), then names the key when it
submits the form. Keys live under uploads/ with a random part, so a form can only reference
objects made this way."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from helpdesk import errors

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FORM_ATTACHMENTS = 5
UPLOAD_EXPIRES_SECONDS = 900
_CONTENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
UPLOAD_KEY = re.compile(r"^uploads/\d{4}-\d{2}-\d{2}/[0-9a-f]{32}/[A-Za-z0-9._-]{1,120}$")


class NotConfigured(errors.HelpdeskError):
    """A feature whose AWS resource is not configured in this deployment (HTTP 503)."""

    code = "not_configured"


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=_CONTENT_TYPE, max_length=129)
    size: StrictInt = Field(ge=1, le=MAX_UPLOAD_BYTES, description=f"bytes, at most {MAX_UPLOAD_BYTES}")


class FormAttachment(BaseModel):
    """What the form sends back for each uploaded file."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=UPLOAD_KEY.pattern, max_length=300)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=_CONTENT_TYPE, max_length=129)
    size: StrictInt = Field(ge=1, le=MAX_UPLOAD_BYTES)

    def as_ticket_attachment(self) -> dict[str, Any]:
        return {"s3_key": self.key, "filename": self.filename, "content_type": self.content_type, "size": self.size,
                "inline": False, "source": "web_upload"}


def safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.strip().replace("\\", "/").split("/")[-1]).strip("._") or "file"
    return name[-120:]


def grant_upload(s3_client: Any, bucket: str, request: UploadRequest, now: datetime) -> dict[str, Any]:
    if not bucket:
        raise NotConfigured("attachment uploads are not configured here (ATTACHMENTS_BUCKET is empty)")
    key = f"uploads/{now:%Y-%m-%d}/{uuid.uuid4().hex}/{safe_name(request.filename)}"
    post = s3_client.generate_presigned_post(
        Bucket=bucket, Key=key, Fields={"Content-Type": request.content_type},
        Conditions=[{"Content-Type": request.content_type}, ["content-length-range", 1, request.size]],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS)
    return {"key": key, "upload": {"url": post["url"], "fields": post["fields"]}, "expires_in": UPLOAD_EXPIRES_SECONDS}

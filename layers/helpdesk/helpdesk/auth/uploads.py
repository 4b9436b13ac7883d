"""Attachment uploads: the browser asks for a presigned S3 POST, uploads the file straight to the
private attachments bucket (never through Lambda), then names it when it submits. Keys live under
uploads/ with a random part, so a submission can only reference objects made this way.

Two callers, one grant (grant_upload):
- the public web form names the key back (FormAttachment), as before;
- an agent's reply, and a customer's portal reply, name a signed *reference* (sign_reply_reference):
  the grant's key, file name, type and size plus the ticket and the uploader (agent or customer) it was granted for, signed (helpdesk.auth.signing, valid
  for REFERENCE_LIFETIME). The reply checks the signature and expiry, that it is this ticket's and
  this uploader's, and that the object really is in the bucket (HEAD: its real size is what is stored and mailed)."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from helpdesk import errors
from helpdesk.auth import signing

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FORM_ATTACHMENTS = 5
# A reply may carry more than a form; outbound mail attaches what fits SES's 40 MB and names the rest.
MAX_REPLY_ATTACHMENTS = 10
MAX_REFERENCE_CHARS = 2000
UPLOAD_EXPIRES_SECONDS = 900
# The upload itself must happen within UPLOAD_EXPIRES_SECONDS; the reply naming it may be sent later
# the same working day (a long draft), not weeks later from a stale browser tab.
REFERENCE_LIFETIME = timedelta(hours=24)
REFERENCE_PURPOSE = "attachment reference"
_CONTENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
UPLOAD_KEY = re.compile(r"^uploads/\d{4}-\d{2}-\d{2}/[0-9a-f]{32}/[A-Za-z0-9._-]{1,120}$")


class NotConfigured(errors.HelpdeskError):
    """A feature whose AWS resource is not configured in this deployment (HTTP 503)."""

    code = "not_configured"


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=_CONTENT_TYPE, max_length=129)
    size: StrictInt = Field(ge=1, le=MAX_UPLOAD_BYTES, description=f"bytes, at most {MAX_UPLOAD_BYTES}")


class FormAttachment(BaseModel):
    """What the form sends back for each uploaded file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    key: str = Field(pattern=UPLOAD_KEY.pattern, max_length=300)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=_CONTENT_TYPE, max_length=129)
    size: StrictInt = Field(ge=1, le=MAX_UPLOAD_BYTES)

    def as_ticket_attachment(self, source: str = "web_upload") -> dict[str, Any]:
        """The metadata shape every channel stores on ticket_messages.attachments (email intake adds
        sha256/content_id); outbound mail and the download route read s3_key, filename, content_type, size."""
        return {"s3_key": self.key, "filename": self.filename, "content_type": self.content_type, "size": self.size,
                "inline": False, "source": source}


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


# -- agent replies: signed references ---------------------------------------------------------------

@dataclass(frozen=True)
class ReplyTarget:
    """Who a reply upload is granted for: the ticket (by id and number, so a reply naming it either way
    matches) and the uploader: the agent, or on the portal the ticket's customer."""

    ticket_id: uuid.UUID
    ticket_number: int
    uploader_id: uuid.UUID


def sign_reply_reference(grant: dict[str, Any], request: UploadRequest, target: ReplyTarget, keyring: signing.Keyring,
                         now: datetime) -> str:
    payload = json.dumps({"t": str(target.ticket_id), "n": target.ticket_number, "a": str(target.uploader_id),
                          "k": grant["key"], "f": request.filename, "c": request.content_type, "s": request.size},
                         separators=(",", ":"), ensure_ascii=False).encode()
    return signing.sign_token(REFERENCE_PURPOSE, payload, keyring, now, REFERENCE_LIFETIME)


def _open_reference(reference: str, keyring: signing.Keyring, now: datetime) -> dict[str, Any]:
    """The signed fields; LinkRefused/LinkExpired naming what was wrong."""
    payload = signing.open_token(REFERENCE_PURPOSE, reference, keyring, now)
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise signing.LinkRefused(f"this {REFERENCE_PURPOSE} holds no upload", "malformed")
    return doc


def _uploaded_size(s3_client: Any, bucket: str, s3_key: str) -> int | None:
    """The object's real size, None when nothing was uploaded under that key.

    The api function may GetObject but not ListBucket (infra/workers.py), and without ListBucket S3
    answers a HEAD of a missing key with 403, not 404: both mean "not there" here."""
    from botocore.exceptions import ClientError

    try:
        return int(s3_client.head_object(Bucket=bucket, Key=s3_key)["ContentLength"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey", "NotFound", "AccessDenied"):
            return None
        raise


def reply_attachments(references: list[str], *, ticket_ref: tuple[str, Any], uploader_id: uuid.UUID,
                      keyring: signing.Keyring, now: datetime, s3_client: Any, bucket: str,
                      source: str = "agent_upload") -> list[dict[str, Any]]:
    """The attachment metadata of a reply from its references (POST /tickets/{ref}/attachments), or
    ValidationFailed naming every bad one (nothing is written). `ticket_ref` is parse_ticket_ref's
    answer for the ticket the reply is posted to. One S3 HEAD per reference; no database call."""
    if not references:
        return []
    if len(references) > MAX_REPLY_ATTACHMENTS:
        raise errors.ValidationFailed(f"attachments: at most {MAX_REPLY_ATTACHMENTS} files per message "
                                      f"(got {len(references)})")
    if not bucket:
        raise NotConfigured("attachments are not configured here (ATTACHMENTS_BUCKET is empty)")
    kind, value = ticket_ref
    problems: list[str] = []
    stored: list[dict[str, Any]] = []
    for index, reference in enumerate(references):
        where = f"attachments[{index}]"
        try:
            doc = _open_reference(reference, keyring, now)
        except signing.LinkRefused as exc:
            problems.append(f"{where}: {exc.detail} (POST /tickets/{{ref}}/attachments grants references)")
            continue
        on_ticket = str(value) == doc.get("t") if kind == "id" else value == doc.get("n")
        if not on_ticket:
            problems.append(f"{where}: granted for another ticket (TKT-{doc.get('n')}); upload the file to this ticket")
            continue
        if doc.get("a") != str(uploader_id):
            problems.append(f"{where}: granted to another agent or customer; upload the file yourself")
            continue
        try:
            attachment = FormAttachment(key=doc["k"], filename=doc["f"], content_type=doc["c"], size=doc["s"])
        except (KeyError, ValueError):
            problems.append(f"{where}: not a valid upload reference")
            continue
        size = _uploaded_size(s3_client, bucket, attachment.key)
        if size is None:
            problems.append(f"{where}: {attachment.filename} was not uploaded (POST the file to the grant's upload URL first)")
        elif not 1 <= size <= attachment.size:
            problems.append(f"{where}: {attachment.filename} is {size} bytes; 1 to {attachment.size} were granted")
        else:
            stored.append(attachment.model_copy(update={"size": size}).as_ticket_attachment(source))
    if problems:
        raise errors.ValidationFailed("; ".join(problems), problems=problems)
    return stored

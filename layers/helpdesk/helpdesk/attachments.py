"""Attachment downloads: agents get a short-lived presigned S3 GET URL for one attachment of a ticket
(the bucket stays private; the bytes never pass through Lambda).

An attachment is named by its `attachments` row id (a UUID) or by its place in its message's
attachment list, `<message id>.<index>` (what the workspace has: message JSON carries the list, not
row ids; web-form uploads have no rows). Agents may download every attachment of a ticket,
internal notes' included."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from helpdesk import errors
from helpdesk.auth.uploads import NotConfigured  # HTTP 503, like the upload grant of the same bucket
from helpdesk.db import attachments as sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import parse_ticket_ref

DOWNLOAD_EXPIRES_SECONDS = 300
MAX_ATTACHMENTS_PER_MESSAGE = 50
# Shown in the browser; anything else is saved as a file (an HTML or SVG attachment must never
# render as a page, even on the bucket's origin).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})
_POSITION_REF = re.compile(r"^(?P<message>[0-9a-fA-F-]{36})\.(?P<index>\d{1,2})$")


@dataclass(frozen=True)
class Attachment:
    ticket_id: uuid.UUID
    s3_key: str
    filename: str
    content_type: str
    size: int


def parse_attachment_ref(value: str) -> dict[str, Any]:
    """{"attachment_id"} for a UUID, {"message_id", "position"} for `<message id>.<index>`."""
    text = value.strip()
    match = _POSITION_REF.match(text)
    try:
        if match:
            index = int(match.group("index"))
            if index >= MAX_ATTACHMENTS_PER_MESSAGE:
                raise ValueError
            return {"attachment_id": None, "message_id": uuid.UUID(match.group("message")), "position": index}
        return {"attachment_id": uuid.UUID(text), "message_id": None, "position": None}
    except ValueError:
        raise errors.ValidationFailed(
            f"{value!r} is not an attachment id: expected a UUID or '<message id>.<index>' "
            f"(index 0..{MAX_ATTACHMENTS_PER_MESSAGE - 1})") from None


def find_attachment(db: DataApi, ticket_ref: str | uuid.UUID, attachment_ref: str) -> Attachment:
    """The attachment, when it belongs to that ticket (one call). NotFound otherwise; Gone for a merged
    ticket (its attachments moved to the target)."""
    kind, value = parse_ticket_ref(str(ticket_ref))
    which = parse_attachment_ref(attachment_ref)
    row = db.query_one(sql.ATTACHMENT_OF_TICKET, {
        "id": value if kind == "id" else None, "number": value if kind == "number" else None, **which})
    if row is None:
        raise errors.NotFound(f"ticket {ticket_ref} not found")
    if row["status"] == "merged":
        raise errors.Gone(f"ticket {ticket_ref} was merged", merged_into=str(row["merged_into_id"]))
    doc = row["attachment"]
    if not doc:
        raise errors.NotFound(f"attachment {attachment_ref} is not on ticket {ticket_ref}")
    return Attachment(uuid.UUID(str(row["ticket_id"])), doc["s3_key"], doc["filename"], doc["content_type"],
                      int(doc["size"]))


def content_disposition(filename: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name plus the exact UTF-8 name."""
    fallback = re.sub(r'[^A-Za-z0-9._ -]+', "_", filename).strip() or "attachment"
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_url(s3_client: Any, bucket: str, attachment: Attachment, *,
                 expires_in: int = DOWNLOAD_EXPIRES_SECONDS) -> dict[str, Any]:
    """{url, filename, content_type, size, expires_in}. Presigning is local: no S3 call is made."""
    if not bucket:
        raise NotConfigured("attachment downloads are not configured here (ATTACHMENTS_BUCKET is empty)")
    content_type = attachment.content_type.lower().split(";")[0].strip()
    inline = content_type in INLINE_TYPES
    params = {"Bucket": bucket, "Key": attachment.s3_key,
              "ResponseContentDisposition": content_disposition(attachment.filename, inline),
              # A type outside the inline list is served as bytes, whatever the sender claimed.
              "ResponseContentType": content_type if inline else "application/octet-stream"}
    url = s3_client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
    return {"url": url, "filename": attachment.filename, "content_type": attachment.content_type,
            "size": attachment.size, "expires_in": expires_in}

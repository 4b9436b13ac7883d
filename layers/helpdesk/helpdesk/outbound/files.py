"""The files of an outbound mail: which of a message's attachments fit SES's raw-message limit, and
their bytes from the attachments bucket (content-addressed keys, helpdesk.intake.email.blobs).

SES v2 accepts raw messages up to 40 MB *after* MIME encoding; base64 grows data by 4/3 plus a CRLF
every 76 characters, so the budget is counted in encoded bytes. Attachments are taken in message
order while they fit; the rest are left out and named in the text (the customer can ask for them by
replying: the only download link the system has is an agent's 5-minute presigned URL, nothing a
customer can open)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_RAW_MESSAGE_BYTES = 40 * 1024 * 1024
PART_HEADER_BYTES = 600  # Content-Type/-Disposition/-Transfer-Encoding and boundary of one part
NOTE_RESERVE_BYTES = 8 * 1024  # room for the "left out" note in both the text and the HTML part


@dataclass(frozen=True)
class OutboundFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class LeftOut:
    filename: str
    size: int
    reason: str  # "too large for email" | "no longer stored" | "not available to attach"


def encoded_size(size: int) -> int:
    """Bytes a `size`-byte attachment takes in the raw message (base64, 76-char lines, CRLF)."""
    chars = (size + 2) // 3 * 4
    return chars + 2 * ((chars + 75) // 76) + PART_HEADER_BYTES


def clean_filename(name: Any) -> str:
    """A header-safe file name: no control characters or path, never empty."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", str(name or "")).strip()
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return text[:200] or "attachment"


def clean_content_type(value: Any) -> tuple[str, str]:
    text = str(value or "").split(";")[0].strip().lower()
    if re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}", text):
        maintype, subtype = text.split("/", 1)
        return maintype, subtype
    return "application", "octet-stream"


def _declared_size(entry: dict[str, Any]) -> int:
    try:
        return max(0, int(entry.get("size") or 0))
    except (TypeError, ValueError):
        return 0


def human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def collect(entries: list[dict[str, Any]], budget: int, fetch: Any) -> tuple[list[OutboundFile], list[LeftOut]]:
    """Attachments in message order while their encoded size fits `budget` bytes. `fetch(s3_key)`
    returns the bytes, or None when the object is gone (fetch None: no bucket configured). The declared size decides before any
    download (a file that cannot fit is never read); the real size decides after."""
    files: list[OutboundFile] = []
    left: list[LeftOut] = []
    remaining = budget
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("s3_key"):
            continue
        name, declared = clean_filename(entry.get("filename")), _declared_size(entry)
        if encoded_size(declared) > remaining:
            left.append(LeftOut(name, declared, "too large for email"))
            continue
        if fetch is None:  # no attachments bucket configured where this runs
            left.append(LeftOut(name, declared, "not available to attach"))
            continue
        data = fetch(str(entry["s3_key"]))
        if data is None:
            left.append(LeftOut(name, declared, "no longer stored"))
            continue
        if encoded_size(len(data)) > remaining:
            left.append(LeftOut(name, len(data), "too large for email"))
            continue
        remaining -= encoded_size(len(data))
        maintype, subtype = clean_content_type(entry.get("content_type"))
        files.append(OutboundFile(name, f"{maintype}/{subtype}", data))
    return files, left


def left_out_note(left: list[LeftOut]) -> str:
    if not left:
        return ""
    lines = [f"- {item.filename} ({human_size(item.size)}, {item.reason})" for item in left]
    return ("\n\n[Not attached to this email:\n" + "\n".join(lines) +
            "\nReply to this email if you need these files sent another way.]")


class S3Files:
    """fetch(key) over one bucket; None for a missing object, other errors raise (the send is retried)."""

    def __init__(self, s3_client: Any, bucket: str) -> None:
        self.s3 = s3_client
        self.bucket = bucket

    def __call__(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:  # botocore ClientError; checked by code so boto3 stays optional here
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

"""Quarantined mail as an admin reads it before deciding: headers, the text, the attachments' names
and sizes. Never the HTML: a quarantined mail may be phishing, so only text leaves the server (the
console shows it as text), and attachments are listed, not served. Releasing is the email intake's
(helpdesk.intake.email.s3.release_from_s3); deleting drops the row (the raw copy stays in S3 until
the bucket's lifecycle expires it)."""
from __future__ import annotations

import uuid
from typing import Any

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import quarantine as sql
from helpdesk.db.client import DataApi

MAX_TEXT = 100_000  # characters of the text shown; the rest is cut (and said so)


def read(db: DataApi, s3_client: Any, quarantine_id: uuid.UUID, *, default_bucket: str | None) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    from helpdesk.intake.email.parse import parse_email
    from helpdesk.intake.email.s3 import MailStorageUnavailable, read_raw_mail

    row = db.query_one(sql.GET_QUARANTINED, {"id": quarantine_id})
    if row is None:
        raise errors.NotFound(f"no quarantined mail {quarantine_id}")
    out: dict[str, Any] = {**row, "text": None, "text_truncated": False, "attachments": [], "headers": {},
                           "parse_error": None, "raw_available": False}
    bucket, key = row.get("raw_bucket") or default_bucket, row.get("raw_key")
    if not key or not bucket:
        return out
    try:
        raw = read_raw_mail(s3_client, bucket, key).raw
    except (ClientError, BotoCoreError) as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404"):
            return out  # the raw copy expired: the row's own fields are all there is
        raise MailStorageUnavailable(f"the raw mail s3://{bucket}/{key} could not be read "
                                     f"({code or type(exc).__name__}); retry later") from exc
    out["raw_available"] = True
    try:
        mail = parse_email(raw)
    except Exception as exc:  # noqa: BLE001 - unparseable mail is why some of it is here: show the bytes as text
        out["parse_error"] = f"{type(exc).__name__}: {exc}"[:300]
        text = raw.decode("utf-8", errors="replace")
    else:
        text = mail.text
        out["headers"] = {"from": mail.header("from"), "to": mail.header("to"), "cc": mail.header("cc"),
                          "reply-to": mail.header("reply-to"), "subject": mail.subject, "date": mail.header("date"),
                          "message-id": mail.header("message-id")}
        out["attachments"] = ([{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                               for a in mail.attachments]
                              + [{"filename": s.filename, "content_type": None, "size": s.size, "skipped": s.reason}
                                 for s in mail.skipped_attachments])
    out["text"], out["text_truncated"] = text[:MAX_TEXT], len(text) > MAX_TEXT
    return out


def delete(db: DataApi, clock: Clock, quarantine_id: uuid.UUID, by: Principal) -> dict[str, Any]:
    """The mail deleted; the admin audit trail names it (`by`'s change) in the same statement."""
    row = db.query_one(sql.DELETE_QUARANTINED, {"id": quarantine_id, "now": clock.now(),
                                                "audit": audit.entry(by, "delete", "quarantine")})
    if row is None:
        raise errors.NotFound(f"no quarantined mail {quarantine_id}")
    return row

"""EmailIntake wired to S3, shared by functions/inbound_email (new mail) and the API's quarantine
release (an admin lets a quarantined mail through): both read the raw MIME from the raw-mail bucket
and store attachments in the attachments bucket the same way.

S3 trouble becomes MailStorageUnavailable (the API answers 503, the inbound handler lets the SQS
record fail and be retried); a raw object that no longer exists is Gone."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.db import email as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.intake.email.blobs import S3BlobStore
from helpdesk.intake.email.service import EmailIntake, IntakeOutcome

# The local stack records the SMTP envelope as this object metadata; in AWS the intake reads the
# "for <addr>" of SES's Received header instead.
ENVELOPE_METADATA = "envelope-recipients"


class MailStorageUnavailable(errors.HelpdeskError):
    """The raw-mail or attachments bucket is not configured or S3 cannot be reached (retry later)."""

    code = "mail_storage_unavailable"


@dataclass
class RawMail:
    bucket: str
    key: str
    raw: bytes
    envelope_recipients: list[str] = field(default_factory=list)


def s3_email_intake(db: DataApi, clock: Clock, publisher: Publisher, settings: Any, s3_client: Any) -> EmailIntake:
    """EmailIntake from Settings with attachments stored in settings.attachments_bucket."""
    if not settings.attachments_bucket:
        raise MailStorageUnavailable("no attachments bucket is configured (ATTACHMENTS_BUCKET)")
    return EmailIntake.from_settings(db, clock, publisher, S3BlobStore(s3_client, settings.attachments_bucket), settings)


def read_raw_mail(s3_client: Any, bucket: str, key: str) -> RawMail:
    """Lets S3 errors through untouched: the inbound handler wants them raised (the record is retried)."""
    obj = s3_client.get_object(Bucket=bucket, Key=key)
    metadata = obj.get("Metadata") or {}
    envelope = [r for r in (metadata.get(ENVELOPE_METADATA) or "").split(",") if r]
    return RawMail(bucket, key, obj["Body"].read(), envelope)


def quarantined(db: DataApi, quarantine_id: uuid.UUID | str) -> dict[str, Any] | None:
    return db.query_one(sql.QUARANTINED, {"id": str(quarantine_id)})


def release_from_s3(intake: EmailIntake, s3_client: Any, quarantine_id: uuid.UUID, *,
                    default_bucket: str | None = None) -> IntakeOutcome:
    """Reads the quarantined mail's raw copy and releases it through `intake` (processed as a
    person's mail). NotFound for an unknown id, Conflict when it was already released, Gone when
    the raw object no longer exists, MailStorageUnavailable when S3 cannot serve it."""
    row = quarantined(intake.db, quarantine_id)
    if row is None:
        raise errors.NotFound(f"no quarantined mail {quarantine_id}")
    if row.get("released_at") is not None:
        raise errors.Conflict(f"quarantined mail {quarantine_id} was already released at {row['released_at']}",
                              released_at=str(row["released_at"]))
    bucket, key = row.get("raw_bucket") or default_bucket, row.get("raw_key")
    if not key:
        raise errors.ValidationFailed(f"quarantined mail {quarantine_id} has no raw copy (raw_key) to release")
    if not bucket:
        raise MailStorageUnavailable("the quarantined mail names no bucket and no raw-mail bucket is configured "
                                     "(RAW_MAIL_BUCKET)")
    try:
        mail = read_raw_mail(s3_client, bucket, key)
    except (ClientError, BotoCoreError) as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404"):
            raise errors.Gone(f"the raw mail s3://{bucket}/{key} no longer exists") from exc
        raise MailStorageUnavailable(f"the raw mail s3://{bucket}/{key} could not be read "
                                     f"({code or type(exc).__name__}); retry later") from exc
    try:
        return intake.release(quarantine_id, mail.raw, envelope_recipients=mail.envelope_recipients)
    except errors.NotFound:
        # Released by someone else between our read and the update: say so rather than "unknown".
        current = quarantined(intake.db, quarantine_id)
        if current is not None and current.get("released_at") is not None:
            raise errors.Conflict(f"quarantined mail {quarantine_id} was already released",
                                  released_at=str(current["released_at"])) from None
        raise

"""Signed reply-upload references: bound to ticket (by id or number) and agent; the object must exist
(a 403 on HEAD is S3's "missing" without ListBucket) and be within the granted size."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from helpdesk import errors
from helpdesk.auth.signing import Keyring
from helpdesk.auth.uploads import (REFERENCE_LIFETIME, NotConfigured, ReplyTarget, UploadRequest, reply_attachments,
                                   sign_reply_reference)

KEYS = Keyring.single("unit-signing-key")
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
TICKET = uuid.UUID("11111111-2222-3333-4444-555555555555")
AGENT = uuid.UUID("66666666-7777-8888-9999-000000000000")
S3_KEY = "uploads/2026-03-02/" + "ab" * 16 + "/log.txt"


class FakeS3:
    def __init__(self, sizes: dict[str, int] | None = None, error: str = "404") -> None:
        self.sizes, self.error, self.heads = sizes or {}, error, 0

    def head_object(self, Bucket: str, Key: str) -> dict:
        self.heads += 1
        if Key not in self.sizes:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "HeadObject")
        return {"ContentLength": self.sizes[Key]}


def _reference(size: int = 100, keys: Keyring = KEYS, ticket: uuid.UUID = TICKET, number: int = 7) -> str:
    request = UploadRequest(filename="log.txt", content_type="text/plain", size=size)
    return sign_reply_reference({"key": S3_KEY}, request, ReplyTarget(ticket, number, AGENT), keys, NOW)


def _check(references, s3, ticket_ref=("number", 7), agent=AGENT, bucket="b", now=NOW):
    return reply_attachments(references, ticket_ref=ticket_ref, uploader_id=agent, keyring=KEYS, now=now, s3_client=s3,
                             bucket=bucket)


def test_a_reference_matches_the_ticket_by_number_or_id_and_stores_the_real_size():
    s3 = FakeS3({S3_KEY: 42})
    expected = [{"s3_key": S3_KEY, "filename": "log.txt", "content_type": "text/plain", "size": 42, "inline": False,
                 "source": "agent_upload"}]
    assert _check([_reference()], s3) == expected
    assert _check([_reference()], s3, ticket_ref=("id", TICKET)) == expected
    assert s3.heads == 2


@pytest.mark.parametrize("code", ["404", "403"])
def test_missing_object_is_named(code):
    with pytest.raises(errors.ValidationFailed, match=r"attachments\[0\]: log.txt was not uploaded"):
        _check([_reference()], FakeS3(error=code))


def test_other_s3_errors_are_not_hidden():
    with pytest.raises(ClientError):
        _check([_reference()], FakeS3(error="InternalError"))


def test_every_problem_is_named_and_nothing_is_checked_in_s3_for_forged_ones():
    s3 = FakeS3({S3_KEY: 500})
    with pytest.raises(errors.ValidationFailed) as caught:
        _check([_reference(keys=Keyring.single("other-key")), _reference(number=8, ticket=uuid.uuid4()),
                _reference(size=100), "garbage"], s3)
    problems = caught.value.extra["problems"]
    assert problems[0].startswith("attachments[0]: this attachment reference is not valid: its signature does not match")
    assert problems[1].startswith("attachments[1]: granted for another ticket (TKT-8)")
    assert problems[2] == "attachments[2]: log.txt is 500 bytes; 1 to 100 were granted"
    assert problems[3].startswith("attachments[3]: this attachment reference is damaged")
    assert s3.heads == 1
    with pytest.raises(errors.ValidationFailed, match="another agent"):
        _check([_reference()], s3, agent=uuid.uuid4())


def test_no_bucket_is_not_configured_and_no_references_need_none():
    assert _check([], None, bucket="") == []
    with pytest.raises(NotConfigured):
        _check([_reference()], FakeS3(), bucket="")


def test_a_reference_expires_after_its_lifetime_and_says_so():
    s3 = FakeS3({S3_KEY: 42})
    assert _check([_reference()], s3, now=NOW + REFERENCE_LIFETIME - timedelta(seconds=1))
    with pytest.raises(errors.ValidationFailed, match=r"attachments\[0\]: this attachment reference expired at "
                                                      r"2026-03-03 15:00 UTC"):
        _check([_reference()], s3, now=NOW + REFERENCE_LIFETIME)
    assert s3.heads == 1

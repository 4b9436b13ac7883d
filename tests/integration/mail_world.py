"""The mail world the email and outbound tests share: the support domain, signing keys, moto's S3
buckets and SES identity, the settings the mail functions read, and a builder of plain customer mail.
A conftest that imports `aws` and `settings` from here gets them as fixtures."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from helpdesk.auth.signing import Keyring
from helpdesk.config import Settings

SIGNING_KEYS = Keyring.single("test-signing-key")
DOMAIN = "helpdesk.test"
RAW = "raw-mail"
ATT = "attachments"
REGION = "us-east-1"


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=RAW)
        s3.create_bucket(Bucket=ATT)
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain=DOMAIN)
        yield {"s3": s3, "ses": ses}


@pytest.fixture
def settings() -> Settings:
    return Settings(support_domain=DOMAIN, signing_keys=SIGNING_KEYS, raw_mail_bucket=RAW, attachments_bucket=ATT,
                    region=REGION, ses_configuration_set="")


def customer_mail(*, name: str, frm: str, to: str, subject: str, body: str, message_id: str | None,
                  headers: dict[str, str] | None = None) -> bytes:
    """A plain-text mail as a customer's client writes it (CRLF, UTF-8)."""
    lines = [f"From: {name} <{frm}>", f"To: {to}", f"Subject: {subject}", "Date: Mon, 02 Mar 2026 14:00:00 +0000"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()

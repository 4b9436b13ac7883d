from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from helpdesk.auth.signing import Keyring
from helpdesk.config import Settings

DOMAIN = "helpdesk.test"
SIGNING_KEYS = Keyring.single("test-signing-key")
ATT = "attachments"
REGION = "us-east-1"


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ATT)
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain=DOMAIN)
        yield {"s3": s3, "ses": ses}


@pytest.fixture
def settings() -> Settings:
    return Settings(support_domain=DOMAIN, signing_keys=SIGNING_KEYS, raw_mail_bucket="raw", attachments_bucket=ATT,
                    region=REGION, ses_configuration_set="")


def mail(*, frm="carol@customer.test", to=f"support@{DOMAIN}", subject="Invoice wrong", body="It is wrong.",
         message_id="<first@customer.test>", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"From: Carol <{frm}>", f"To: {to}", f"Subject: {subject}", "Date: Mon, 02 Mar 2026 14:00:00 +0000",
             f"Message-ID: {message_id}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()

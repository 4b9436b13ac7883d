from __future__ import annotations

import pytest

from helpdesk.auth.signing import Keyring
from helpdesk.intake.email import EmailIntake
from helpdesk.intake.email.blobs import MemoryBlobStore

SIGNING_KEYS = Keyring.single("test-signing-key")
DOMAIN = "helpdesk.test"


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


@pytest.fixture
def intake(db, clock, blobs) -> EmailIntake:
    from helpdesk.events.publisher import DeferredPublisher

    return EmailIntake(db, clock, DeferredPublisher(), blobs, signing_keys=SIGNING_KEYS, support_domains={DOMAIN})


def mail(*, frm="alice@customer.test", to="support@helpdesk.test", subject="Printer on fire", body="It is on fire.",
         message_id="<m1@customer.test>", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"From: Alice <{frm}>", f"To: {to}", f"Subject: {subject}", "Date: Mon, 02 Mar 2026 14:00:00 +0000"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()

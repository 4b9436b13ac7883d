"""The local SES inbound on 127.0.0.1:2525: SMTP -> S3 raw bucket -> SQS inbound, as in AWS.

Like SES's receipt rule, it accepts only recipients at the support domains (others: 550), adds the
headers SES adds (Return-Path, Received ... for <recipient>, X-SES spam/virus verdicts and the
Authentication-Results with SPF/DKIM/DMARC verdicts), stores the raw MIME
under `raw/<id>` in the raw bucket (infra/mail.py RAW_PREFIX), and sends the S3 ObjectCreated notification to the inbound
queue. functions/inbound_email then runs on it from the queue worker, as it does in AWS.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable

from local import aws

log = logging.getLogger("local.smtp")
MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # SES's receiving limit
# The verdict headers SES stamps. This stand-in cannot check SPF/DKIM/DMARC, so it stamps "pass";
# a test sender that writes its own verdicts into these headers keeps them (dev only: in AWS, SES's
# own headers always sit above anything a sender wrote), so tests can send failing mail.
VERDICT_HEADERS = ("X-SES-Spam-Verdict", "X-SES-Virus-Verdict", "Authentication-Results")


def sender_verdicts(raw: bytes) -> dict[str, str]:
    """The verdict headers a test sender put in its mail's header block, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    found: dict[str, str] = {}
    for line in re.sub(r"\r?\n[ \t]+", " ", head).splitlines():
        name, sep, value = line.partition(":")
        for header in VERDICT_HEADERS:
            if sep and name.strip().lower() == header.lower() and header not in found:
                value = value.strip()
                if header != "Authentication-Results" or value.lower().startswith("amazonses.com"):
                    found[header] = value
    return found


class SesInbound:
    """aiosmtpd handler."""

    def __init__(self, *, endpoint: str, inbound_queue_url: str, domains: Callable[[], set[str]],
                 keep_sender_verdicts: bool = True) -> None:
        self.endpoint = endpoint
        self.keep_sender_verdicts = keep_sender_verdicts
        self.queue_url = inbound_queue_url
        self.domains = domains
        self._s3 = aws.client("s3", endpoint)
        self._sqs = aws.client("sqs", endpoint)
        self.received = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:  # noqa: N802
        domain = address.rpartition("@")[2].lower()
        if domain not in self.domains():
            return f"550 5.1.1 <{address}>: recipient rejected: this server receives mail only for {', '.join(sorted(self.domains()))}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        loop = asyncio.get_running_loop()
        try:
            key = await loop.run_in_executor(None, self.store, envelope.mail_from, list(envelope.rcpt_tos),
                                             bytes(envelope.original_content or envelope.content), session.host_name or "localhost",
                                             session.peer[0] if session.peer else "127.0.0.1")
        except Exception:
            log.exception("could not store inbound mail")
            return "451 4.3.0 local stack could not store the message; try again"
        return f"250 2.0.0 Ok: queued as {key}"

    def store(self, mail_from: str, recipients: list[str], raw: bytes, helo: str, peer: str) -> str:
        message_id = secrets.token_hex(16)
        key = f"{aws.RAW_MAIL_PREFIX}{message_id}"
        now = datetime.now(timezone.utc)
        # SES writes the null sender as "<>"; aiosmtpd hands it over already bracketed.
        sender = (mail_from or "").strip().strip("<>").strip()
        added = [f"Return-Path: <{sender}>"]
        for rcpt in recipients:
            added.append(f"Received: from {helo} ({helo} [{peer}])\r\n by inbound-smtp.{aws.REGION}.amazonaws.com"
                         f" with SMTP id {message_id}\r\n for {rcpt};\r\n {format_datetime(now)}")
        verdicts = {"X-SES-Spam-Verdict": "PASS", "X-SES-Virus-Verdict": "PASS",
                    "Authentication-Results": self._authentication_results(sender, helo, peer, raw)}
        if self.keep_sender_verdicts:
            verdicts.update(sender_verdicts(raw))
        added += [f"{name}: {value}" for name, value in verdicts.items()]
        added.append(f"X-SES-Receipt: local; recipients={','.join(recipients)}")
        body = ("\r\n".join(added) + "\r\n").encode() + raw
        self._s3.put_object(Bucket=aws.RAW_MAIL_BUCKET, Key=key, Body=body,
                            Metadata={"envelope-from": mail_from, "envelope-recipients": ",".join(recipients)})
        event = aws.s3_event(aws.RAW_MAIL_BUCKET, key, len(body), hashlib.md5(body).hexdigest(),  # noqa: S324 (S3's ETag)
                             now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(event))
        self.received += 1
        log.info("mail from %s to %s stored as s3://%s/%s", mail_from, ", ".join(recipients), aws.RAW_MAIL_BUCKET, key)
        return key


    @staticmethod
    def _authentication_results(sender: str, helo: str, peer: str, raw: bytes) -> str:
        """SES's header, verdicts "pass" (see VERDICT_HEADERS); the header.from domain is the mail's."""
        from email.parser import BytesHeaderParser
        from email.utils import parseaddr

        try:
            from_domain = parseaddr(str(BytesHeaderParser().parsebytes(raw).get("From", "")))[1].rpartition("@")[2]
        except Exception:  # noqa: BLE001 - an unreadable From: no domain to name
            from_domain = ""
        envelope = sender or "<>"
        return (f"amazonses.com; spf=pass (spfCheck: local stand-in) client-ip={peer}; envelope-from={envelope}; "
                f"helo={helo}; dkim=pass header.i=@{from_domain or 'unknown'}; dmarc=pass header.from={from_domain or 'unknown'};")


class SmtpFront:
    def __init__(self, handler: SesInbound, *, host: str, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES,
                                     ident="helpdesk-local ESMTP (SES inbound stand-in)")

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

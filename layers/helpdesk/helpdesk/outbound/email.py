"""Sends a public agent reply as an email through SES SendRawEmail.

Input: an `outbound.requested` event (the ticket core writes one for every public agent message;
payload {message_id, channel, number}) or a `ticket.replied` event with visibility public and an
agent author. Internal notes are never sent: the claim statement only accepts public agent
messages.

Exactly-once toward the customer, as far as SES allows: the send is claimed ('sending') in the
statement that reads the message, and marked 'sent' with the SES MessageId after SES accepted it.
A retried event finds 'sent' and sends nothing; an attempt that died between SES and the record
is retried only after a lease (LEASE) has passed (until then the event fails with Conflict and is
redelivered by the queue). Data API calls per reply: 2 (the claim, which reads the attachment list too, and the record);
per acknowledgement: 2.

The mail is multipart/alternative: the text as written plus an HTML rendering of it
(helpdesk.outbound.html: escaped, never the agent's markup). A reply's attachments are read from
the attachments bucket and attached while the raw message stays within SES's 40 MB; the rest are
named in the text (helpdesk.outbound.files).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock, SystemClock
from helpdesk.db import email as sql
from helpdesk.db.client import DataApi
from helpdesk.outbound import files as outbound_files
from helpdesk.outbound.compose import compose_reply
from helpdesk.outbound.html import render_html
from helpdesk.auth.portal import portal_url, sign_portal_token
from helpdesk.outbound.tokens import reply_address
from helpdesk.tickets.commands import read_message_text

log = logging.getLogger(__name__)
PORTAL_FOOTER = "\n\n--\nFollow this request and answer it online: {url}"


def portal_footer(url: str) -> str:
    return PORTAL_FOOTER.format(url=url)

# Longer than one send attempt can take (the outbound function's timeout is well under a minute).
LEASE = timedelta(minutes=2)
EMAIL_CHANNELS = ("email", "web", "api")  # tickets whose customer is answered by mail
ACK_CHANNELS = ("email", "web")  # new tickets acknowledged by mail (the web form's page promises it)
NO_SMTPUTF8 = ("not sent: the customer's address has a non-ASCII local part, and SES accepts only 7-bit ASCII "
               "local parts (it does not support SMTPUTF8, RFC 6531); answer through another channel")
ACK_LIMIT = 3  # acknowledgements per customer address ...
ACK_WINDOW = timedelta(hours=1)  # ... within this window


@dataclass
class SendOutcome:
    action: str  # sent | already_sent | skipped
    reason: str = ""
    ses_message_id: str | None = None
    message_id: str | None = None


def _payload(event: Any) -> tuple[uuid.UUID, str, dict[str, Any]]:
    if isinstance(event, dict):
        etype, payload, eid = event.get("type") or event.get("event_type"), event.get("payload") or {}, event.get("id")
    else:
        etype, eid = event.type, event.id
        payload = event.payload.model_dump(mode="json", by_alias=True)
    return uuid.UUID(str(eid)), str(etype), dict(payload)


class OutboundEmail:
    def __init__(self, db: DataApi, ses_client: Any, settings: Any, clock: Clock | None = None, *,
                 s3_client: Any = None, max_raw_bytes: int = outbound_files.MAX_RAW_MESSAGE_BYTES) -> None:
        self.db = db
        self.ses = ses_client
        self.settings = settings
        self.clock = clock or SystemClock()
        self.s3 = s3_client  # reads attachments; None (or no ATTACHMENTS_BUCKET): files are named, not sent
        self.max_raw_bytes = max_raw_bytes

    def send(self, event: Any) -> SendOutcome:
        event_id, etype, payload = _payload(event)
        if etype == "ticket.replied" and (payload.get("visibility") != "public" or payload.get("author_type") != "agent"):
            return SendOutcome("skipped", "not a public agent reply")
        if etype == "ticket.created":
            return self.acknowledge(event_id, payload)
        if etype not in ("outbound.requested", "ticket.replied"):
            return SendOutcome("skipped", f"{etype} is not sent by email")
        if payload.get("channel") not in (None, *EMAIL_CHANNELS):
            return SendOutcome("skipped", f"channel {payload.get('channel')} is not answered by email")
        message_id = uuid.UUID(str(payload["message_id"]))
        domain = self.settings.support_domain.lower()
        now = self.clock.now()
        row = self.db.query_one(sql.CLAIM_SEND, {
            "message_id": message_id, "event_id": event_id, "generated_message_id": f"msg-{message_id}@{domain}",
            "now": now, "lease_expired": now - LEASE,
        })
        if row is None or row.get("message") is None:
            return SendOutcome("skipped", f"message {message_id} not found")
        message, ticket, claim, previous = row["message"], row.get("ticket") or {}, row.get("claim"), row.get("previous")
        if claim is None:
            if previous and previous["state"] in ("sent", "skipped"):
                return SendOutcome("already_sent", "sent before", previous.get("ses_message_id"),
                                   previous.get("generated_message_id"))
            if previous and previous["state"] == "sending":
                # Another attempt is sending (or died mid-send): retry the event later; after the
                # lease it is claimed again. Raising keeps the queue message (and then the DLQ) as the record.
                raise errors.Conflict(f"the send of message {message_id} is in flight; retry after {LEASE}")
            return SendOutcome("skipped", "internal note, not an agent message, or no requester address: never sent")
        if ticket.get("channel") not in EMAIL_CHANNELS:
            self.db.execute(sql.RECORD_FAILED, {"message_id": message_id, "state": "skipped",
                                                "error": f"ticket channel {ticket.get('channel')}"})
            return SendOutcome("skipped", f"ticket channel {ticket.get('channel')} is not answered by email")

        thread_ids = [i for i in row.get("thread_ids") or [] if i != claim["generated_message_id"]]
        body = message["body"] if message.get("body") is not None else read_message_text(
            self.db, message_id, "body", int(message["body_chars"]))
        return self._deliver(message_id, ticket, claim, body, row.get("last_customer_message_id"),
                             thread_ids, automatic=False, attachments=message.get("attachments") or [])

    def acknowledge(self, event_id: uuid.UUID, payload: dict[str, Any]) -> SendOutcome:
        """Exactly one acknowledgement per new email or web-form ticket (never for automatic mail: that
        never opens a ticket), at most ACK_LIMIT per customer address within ACK_WINDOW."""
        if payload.get("channel") not in ACK_CHANNELS or not payload.get("message_id"):
            return SendOutcome("skipped", "only tickets opened by email or the web form are acknowledged by email")
        message_id = uuid.UUID(str(payload["message_id"]))
        now = self.clock.now()
        row = self.db.query_one(sql.CLAIM_ACK, {
            "message_id": message_id, "event_id": event_id, "now": now, "lease_expired": now - LEASE,
            "generated_message_id": f"ack-{message_id}@{self.settings.support_domain.lower()}",
            "since": now - ACK_WINDOW, "limit": ACK_LIMIT,
        })
        if row is None or row.get("message") is None:
            return SendOutcome("skipped", f"message {message_id} not found")
        claim, previous, ticket = row.get("claim"), row.get("previous"), row.get("ticket") or {}
        if claim is None:
            if previous:
                if previous["state"] == "sending":
                    raise errors.Conflict(f"the acknowledgement of message {message_id} is in flight; retry after {LEASE}")
                return SendOutcome("already_sent", "acknowledged before", previous.get("ses_message_id"),
                                   previous.get("generated_message_id"))
            if row["message"].get("bulk"):
                return SendOutcome("skipped", "bulk mail (a newsletter or mailing list) is never acknowledged")
            if int(row.get("recent_acks") or 0) >= ACK_LIMIT:
                return SendOutcome("skipped", f"{ACK_LIMIT} acknowledgements already sent to this customer within {ACK_WINDOW}")
            return SendOutcome("skipped", "not a customer's email")
        inbound = row["message"].get("inbound_message_id")
        body = (f"We received your request and opened ticket TKT-{ticket['number']}: {ticket['subject']}\n\n"
                "Reply to this email to add information; please keep the ticket number in the subject.")
        return self._deliver(message_id, ticket, claim, body, inbound, [inbound] if inbound else [], automatic=True)

    def _fetcher(self) -> Any:
        bucket = getattr(self.settings, "attachments_bucket", "")
        if self.s3 is None or not bucket:
            log.warning("a reply has attachments but no S3 client/ATTACHMENTS_BUCKET is configured: they are named, not sent")
            return None
        return outbound_files.S3Files(self.s3, bucket)

    def _compose(self, ticket: dict[str, Any], claim: dict[str, Any], body: str, in_reply_to: str | None,
                 references: list[str], automatic: bool, files: list[outbound_files.OutboundFile]) -> Any:
        domain = self.settings.support_domain.lower()
        subject_number = int(ticket["number"])
        # Every mail to the customer (acknowledgement, public reply) carries their way back in.
        # (a fresh link: each mail from us renews the customer's 90 days)
        token = sign_portal_token(ticket["id"], self.settings.signing_keys, self.clock.now())
        body += portal_footer(portal_url(self.settings.web_base_url, token))
        return compose_reply(
            from_address=ticket.get("team_address") or f"support@{domain}", from_name=ticket.get("team_name") or "Support",
            to_address=ticket["requester_email"], to_name=ticket.get("requester_name"),
            reply_to=reply_address(ticket["id"], domain, self.settings.signing_keys),
            subject=ticket["subject"], number=subject_number, body_text=body,
            body_html=render_html(body, title=f"TKT-{subject_number}"), message_id=claim["generated_message_id"],
            in_reply_to=in_reply_to, references=references, loop_value=domain, sent_at=self.clock.now(),
            automatic=automatic, attachments=files)

    def _deliver(self, message_id: uuid.UUID, ticket: dict[str, Any], claim: dict[str, Any], body: str,
                 in_reply_to: str | None, references: list[str], *, automatic: bool,
                 attachments: list[dict[str, Any]] | None = None) -> SendOutcome:
        domain = self.settings.support_domain.lower()
        from_address = ticket.get("team_address") or f"support@{domain}"
        if not str(ticket["requester_email"]).isascii():
            # Stored addresses have ASCII (IDNA) domains already; only the local part can be UTF-8.
            self.db.execute(sql.RECORD_FAILED, {"message_id": message_id, "state": "skipped", "error": NO_SMTPUTF8})
            return SendOutcome("skipped", NO_SMTPUTF8)
        try:
            files: list[outbound_files.OutboundFile] = []
            entries = [e for e in attachments or [] if isinstance(e, dict) and e.get("s3_key")]
            if entries:
                base = len(self._compose(ticket, claim, body, in_reply_to, references, automatic, []).as_bytes())
                budget = self.max_raw_bytes - base - outbound_files.NOTE_RESERVE_BYTES
                files, left = outbound_files.collect(entries, budget, self._fetcher())
                body += outbound_files.left_out_note(left)
            raw = self._compose(ticket, claim, body, in_reply_to, references, automatic, files).as_bytes()
            kwargs: dict[str, Any] = {"Source": from_address, "Destinations": [ticket["requester_email"]],
                                      "RawMessage": {"Data": raw}}
            if self.settings.ses_configuration_set:
                kwargs["ConfigurationSetName"] = self.settings.ses_configuration_set
            response = self.ses.send_raw_email(**kwargs)
        except Exception as exc:
            self.db.execute(sql.RECORD_FAILED, {"message_id": message_id, "state": "failed", "error": str(exc)[:2000]})
            raise
        ses_id = f"{response['MessageId']}@{self.settings.region}.amazonses.com"
        self.db.execute(sql.RECORD_SENT, {"message_id": message_id, "ses_message_id": ses_id, "now": self.clock.now()})
        return SendOutcome("sent", "", ses_id, claim["generated_message_id"])

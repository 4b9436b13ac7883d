"""Sends a public agent reply as an email through SES SendRawEmail.

Input: an `outbound.requested` event (the ticket core writes one for every public agent message;
payload {message_id, channel, number}) or a `ticket.replied` event with visibility public and an
agent author. Internal notes are never sent: the claim statement only accepts public agent
messages.

A `ticket.status_changed` event to `resolved` sends the solved mail (solved): the team's words, the
portal link, the satisfaction survey's one-click "good" / "bad" links and "it's not solved"
(helpdesk.auth.survey); claimed per event in email_notices, so each resolve mails once. Every mail's
words come from the team's templates or the defaults (helpdesk.outbound.templates); a public reply
carries its author's signature. Data API calls per solved mail: 2 (claim with the offer, record).

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
from helpdesk.db import customer_requests as customer_requests_sql
from helpdesk.db import satisfaction as satisfaction_sql
from helpdesk.db.client import DataApi
from helpdesk.outbound import files as outbound_files
from helpdesk.outbound import templates
from helpdesk.outbound.compose import compose_reply
from helpdesk.auth.portal import portal_url, sign_portal_token
from helpdesk.auth.customer_link import REQUESTS_LINK_LIFETIME, requests_url, sign_requests_token
from helpdesk.auth.survey import sign_survey_token, survey_url
from helpdesk.outbound.tokens import reply_address
from helpdesk.tickets.commands import read_message_text

log = logging.getLogger(__name__)


def portal_footer(url: str) -> str:
    """The default footer every mail carries (a team may write its own reply_footer template)."""
    return templates.fill_text(templates.DEFAULTS["reply_footer"].body_text, {"portal_url": url})

# Longer than one send attempt can take (the outbound function's timeout is well under a minute).
LEASE = timedelta(minutes=2)
EMAIL_CHANNELS = ("email", "web", "api")  # tickets whose customer is answered by mail
ACK_CHANNELS = ("email", "web")  # new tickets acknowledged by mail (the web form's page promises it)
NO_SMTPUTF8 = ("not sent: the customer's address has a non-ASCII local part, and SES accepts only 7-bit ASCII "
               "local parts (it does not support SMTPUTF8, RFC 6531); answer through another channel")
ACK_LIMIT = 3  # acknowledgements per customer address ...
ACK_WINDOW = timedelta(hours=1)  # ... within this window


@dataclass(frozen=True)
class SendRecord:
    """Where one mail's send state is kept: the statements that mark it sent or failed, and its key."""

    sent: str
    failed: str
    key: dict[str, Any]


def reply_record(message_id: uuid.UUID) -> SendRecord:  # replies and acknowledgements: email_outbound
    return SendRecord(sql.RECORD_SENT, sql.RECORD_FAILED, {"message_id": message_id})


def notice_record(event_id: uuid.UUID) -> SendRecord:  # the solved mail: email_notices
    return SendRecord(satisfaction_sql.RECORD_NOTICE_SENT, satisfaction_sql.RECORD_NOTICE_FAILED, {"event_id": event_id})


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


def _envelope(event: Any) -> tuple[Any, Any]:
    """The event's ticket id and when it happened (dict events as the outbox and queues carry them)."""
    if isinstance(event, dict):
        return event.get("ticket_id"), event.get("occurred_at")
    return event.ticket_id, event.occurred_at


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
        if etype == "ticket.status_changed":
            if payload.get("to") != "resolved":
                return SendOutcome("skipped", f"a change to {payload.get('to')} sends no mail")
            ticket_id, occurred_at = _envelope(event)
            return self.solved(event_id, uuid.UUID(str(ticket_id)), occurred_at or self.clock.now())
        if etype == "customer.requests_link":
            ticket_id, _ = _envelope(event)
            return self.requests_link(event_id, uuid.UUID(str(ticket_id)), uuid.UUID(str(payload["customer_id"])))
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
        parts = [templates.Part(body), templates.signature_part(ticket.get("signature"))]
        return self._deliver(reply_record(message_id), ticket, claim, parts, row.get("last_customer_message_id"),
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
        template = templates.template_for("acknowledgement", ticket.get("templates"))
        parts = [templates.part(template, self._values(ticket))]
        return self._deliver(reply_record(message_id), ticket, claim, parts, inbound, [inbound] if inbound else [],
                             automatic=True, subject=template.subject)

    def solved(self, event_id: uuid.UUID, ticket_id: uuid.UUID, resolved_at: Any) -> SendOutcome:
        """The one solved mail of a resolve (event_id: its ticket.status_changed event), with the survey."""
        now = self.clock.now()
        row = self.db.query_one(satisfaction_sql.CLAIM_SOLVED, {
            "ticket_id": ticket_id, "event_id": event_id, "channels": list(EMAIL_CHANNELS), "now": now,
            "lease_expired": now - LEASE, "resolved_at": resolved_at,
            "generated_message_id": f"solved-{event_id}@{self.settings.support_domain.lower()}",
        })
        if row is None:
            return SendOutcome("skipped", f"ticket {ticket_id} not found")
        claim, previous, ticket = row.get("claim"), row.get("previous"), row["ticket"]
        if claim is None:
            if previous:
                if previous["state"] == "sending":
                    raise errors.Conflict(f"the solved mail of event {event_id} is in flight; retry after {LEASE}")
                return SendOutcome("already_sent", "solved mail sent before", previous.get("ses_message_id"),
                                   previous.get("generated_message_id"))
            if ticket["status"] != "resolved":
                return SendOutcome("skipped", f"the ticket is {ticket['status']} now, no longer resolved")
            if not ticket["resolve_stands"]:
                return SendOutcome("skipped", f"this resolve was undone; a later resolve ({ticket['resolved_at']}) "
                                              "sends its own mail")
            return SendOutcome("skipped", f"channel {ticket['channel']} is not answered by email, or no requester address")
        token = sign_survey_token(ticket_id, event_id, self.settings.signing_keys, now)
        base = self.settings.web_base_url
        values = {**self._values(ticket), "agent_name": ticket.get("agent_name") or ticket.get("team_name") or "Support",
                  "rating_good_url": survey_url(base, token, "good"), "rating_bad_url": survey_url(base, token, "bad"),
                  "not_solved_url": survey_url(base, token, "not_solved")}
        solved = templates.template_for("solved", ticket.get("templates"))
        parts = [templates.part(solved, values), templates.part(templates.template_for("csat", ticket.get("templates")), values)]
        thread_ids = [i for i in row.get("thread_ids") or [] if i != claim["generated_message_id"]]
        return self._deliver(notice_record(event_id), ticket, claim, parts, row.get("last_customer_message_id"),
                             thread_ids, automatic=True, subject=solved.subject)

    def requests_link(self, event_id: uuid.UUID, ticket_id: uuid.UUID, customer_id: uuid.UUID) -> SendOutcome:
        """The link to all of a customer's requests, mailed to their address (they asked from a portal)."""
        now = self.clock.now()
        row = self.db.query_one(customer_requests_sql.CLAIM_REQUESTS_LINK, {
            "ticket_id": ticket_id, "customer_id": customer_id, "event_id": event_id, "now": now,
            "lease_expired": now - LEASE, "generated_message_id": f"requests-{event_id}@{self.settings.support_domain.lower()}",
        })
        if row is None:
            return SendOutcome("skipped", f"ticket {ticket_id} of customer {customer_id} not found")
        claim, previous, ticket = row.get("claim"), row.get("previous"), row["ticket"]
        if claim is None:
            if previous and previous["state"] == "sending":
                raise errors.Conflict(f"the requests link of event {event_id} is in flight; retry after {LEASE}")
            if previous:
                return SendOutcome("already_sent", "requests link sent before", previous.get("ses_message_id"),
                                   previous.get("generated_message_id"))
            return SendOutcome("skipped", "the customer has no address")
        url = requests_url(self.settings.web_base_url, sign_requests_token(customer_id, self.settings.signing_keys, now))
        text = (f"You asked for a list of all your requests to us. Open it here (the link works for "
                f"{REQUESTS_LINK_LIFETIME.days} days):\n{url}\n\n"
                "If you did not ask for it, you can ignore this email: nobody else received the link.")
        return self._deliver(notice_record(event_id), ticket, claim, [templates.Part(text)], None, [], automatic=True,
                             subject="Your requests to {{team_name}}")

    def _portal_url(self, ticket: dict[str, Any]) -> str:
        # Every mail to the customer carries their way back in (a fresh link renews the customer's 90 days).
        return portal_url(self.settings.web_base_url,
                          sign_portal_token(ticket["id"], self.settings.signing_keys, self.clock.now()))

    def _values(self, ticket: dict[str, Any]) -> dict[str, str]:
        """The placeholders every template may use (helpdesk.outbound.templates.COMMON)."""
        return {"ticket_ref": f"TKT-{ticket['number']}", "ticket_subject": ticket["subject"],
                "customer_name": ticket.get("requester_name") or "", "team_name": ticket.get("team_name") or "Support",
                "portal_url": self._portal_url(ticket)}

    def _fetcher(self) -> Any:
        bucket = getattr(self.settings, "attachments_bucket", "")
        if self.s3 is None or not bucket:
            log.warning("a reply has attachments but no S3 client/ATTACHMENTS_BUCKET is configured: they are named, not sent")
            return None
        return outbound_files.S3Files(self.s3, bucket)

    def _compose(self, ticket: dict[str, Any], claim: dict[str, Any], parts: list[templates.Part | None],
                 in_reply_to: str | None, references: list[str], automatic: bool,
                 files: list[outbound_files.OutboundFile], subject: str | None) -> Any:
        domain = self.settings.support_domain.lower()
        subject_number = int(ticket["number"])
        values = self._values(ticket)
        footer = templates.part(templates.template_for("reply_footer", ticket.get("templates")), values)
        text, body_html = templates.assemble([*parts, footer], title=f"TKT-{subject_number}")
        return compose_reply(
            from_address=ticket.get("team_address") or f"support@{domain}", from_name=ticket.get("team_name") or "Support",
            to_address=ticket["requester_email"], to_name=ticket.get("requester_name"),
            reply_to=reply_address(ticket["id"], domain, self.settings.signing_keys),
            subject=templates.fill_text(subject, values) if subject else ticket["subject"], number=subject_number,
            body_text=text, body_html=body_html, message_id=claim["generated_message_id"],
            in_reply_to=in_reply_to, references=references, loop_value=domain, sent_at=self.clock.now(),
            automatic=automatic, attachments=files)

    def _deliver(self, record: SendRecord, ticket: dict[str, Any], claim: dict[str, Any],
                 parts: list[templates.Part | None], in_reply_to: str | None, references: list[str], *, automatic: bool,
                 attachments: list[dict[str, Any]] | None = None, subject: str | None = None) -> SendOutcome:
        domain = self.settings.support_domain.lower()
        from_address = ticket.get("team_address") or f"support@{domain}"
        if not str(ticket["requester_email"]).isascii():
            # Stored addresses have ASCII (IDNA) domains already; only the local part can be UTF-8.
            self.db.execute(record.failed, {**record.key, "state": "skipped", "error": NO_SMTPUTF8})
            return SendOutcome("skipped", NO_SMTPUTF8)
        try:
            files: list[outbound_files.OutboundFile] = []
            entries = [e for e in attachments or [] if isinstance(e, dict) and e.get("s3_key")]
            if entries:
                base = len(self._compose(ticket, claim, parts, in_reply_to, references, automatic, [], subject).as_bytes())
                budget = self.max_raw_bytes - base - outbound_files.NOTE_RESERVE_BYTES
                files, left = outbound_files.collect(entries, budget, self._fetcher())
                # the note follows the text, above the signature
                parts = [parts[0], templates.Part(outbound_files.left_out_note(left)), *parts[1:]]
            raw = self._compose(ticket, claim, parts, in_reply_to, references, automatic, files, subject).as_bytes()
            kwargs: dict[str, Any] = {"Source": from_address, "Destinations": [ticket["requester_email"]],
                                      "RawMessage": {"Data": raw}}
            if self.settings.ses_configuration_set:
                kwargs["ConfigurationSetName"] = self.settings.ses_configuration_set
            response = self.ses.send_raw_email(**kwargs)
        except Exception as exc:
            self.db.execute(record.failed, {**record.key, "state": "failed", "error": str(exc)[:2000]})
            raise
        ses_id = f"{response['MessageId']}@{self.settings.region}.amazonses.com"
        self.db.execute(record.sent, {**record.key, "ses_message_id": ses_id, "now": self.clock.now()})
        return SendOutcome("sent", "", ses_id, claim["generated_message_id"])

"""EmailIntake.receive: one raw mail -> a new ticket, a message on an existing ticket, a system
event, or a quarantine row. Nothing is lost: mail that cannot be parsed is quarantined with the
key of its raw copy in S3.

Data API calls per mail: 1 lookup (THREAD_LOOKUP resolves dedupe, every threading layer and the
sender's burst count at once) + 1 command (create / add message / quarantine), plus the ticket
commands' own follow-up statement when an inline publisher accepted events or SLA deadlines must
be filled. A new mail under a business-hours SLA policy is 2: the create writes the deadlines
itself (helpdesk.sla.cache), except for the process's first create under a policy, a contract-policy
customer or a policy changed since the copy was read (3). A customer reply that starts the next-reply
clock is 2 as well; one that resumes a paused clock (waiting on customer, resolved) or reopens a
ticket still takes the follow-up (3). Our own looped-back mail costs 0 calls.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from helpdesk import errors
from helpdesk.clock import Clock
from helpdesk.config import UNVERIFIED_SENDER_CHOICES
from helpdesk.db import email as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.intake.email.auth import sender_auth
from helpdesk.intake.email.blobs import BlobStore
from helpdesk.intake.email.classify import Classification, Kind, classify
from helpdesk.intake.email.parse import ParsedEmail, parse_email, summarize
from helpdesk.auth.signing import Keyring
from helpdesk.outbound.tokens import parse_reply_address
from helpdesk.routing.intake import open_ticket, receive_customer_message
from helpdesk.tickets.commands import CommandResult, TicketCommands
from helpdesk.tickets.models import MAX_BODY, MAX_SUBJECT, Actor, NewMessage, NewTicket, normalize_email

log = logging.getLogger(__name__)

SUBJECT_TAG = re.compile(r"\[TKT-(\d{1,18})\]", re.IGNORECASE)
# Reply/forward prefixes in the languages mail clients use: RE, AW, SV, FW, WG, TR, ...
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|ref|fw|fwd|wg|tr|rv|enc|odp|pd|r|res|i|fs|vl|ynt|bls)"
                             r"(?:\[\d+\])?\s*[:：]\s*|\[TKT-\d+\]\s*)+", re.IGNORECASE)
HEURISTIC_WINDOW = timedelta(days=7)
BURST_WINDOW = timedelta(minutes=10)
DEFAULT_BURST_LIMIT = 30
NO_TEXT = "(no text in this mail)"
# email_message_ids kinds naming the ids of mail WE sent (the generated id and the one SES used)
OUR_ID_KINDS = ("generated", "ses")
BULK_TAG = "bulk"
# SQLSTATE classes of a statement that fails for this mail's content whatever the retry: data
# exceptions (22: a NUL, an invalid value), integrity (23, but a unique violation is a concurrent
# redelivery, which a retry resolves), program limits (54: a row or index entry too large).
_CONTENT_SQLSTATES = ("22", "23", "54")
# Statuses a mail may add to (and so reopen) only from an authenticated sender or by the signed reply address.
_SETTLED = ("closed", "resolved")


@dataclass
class IntakeOutcome:
    """What happened to one inbound mail."""

    action: str  # created | threaded | followup_created | system_event | duplicate | dropped | quarantined
    reason: str = ""
    ticket_id: uuid.UUID | None = None
    message_id: str | None = None  # the mail's Message-ID (or the synthetic one)
    layer: str | None = None  # token | references | subject_tag | heuristic (threaded mail)
    classification: str | None = None
    attachments: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def normalize_subject(subject: str) -> str:
    return re.sub(r"\s+", " ", _SUBJECT_PREFIX.sub("", subject or "")).strip().lower()


class EmailIntake:
    def __init__(self, db: DataApi, clock: Clock, publisher: Publisher, blobs: BlobStore, *,
                 signing_keys: Keyring, support_domains: set[str] | None = None, heuristic: bool = False,
                 burst_limit: int = DEFAULT_BURST_LIMIT, raw_bucket: str | None = None,
                 bulk_mail: str = "quarantine",
                 unverified_sender: str = "new_ticket", dmarc_allowlist: tuple[str, ...] = (),
                 support_domain_customers: bool = False) -> None:
        if unverified_sender not in UNVERIFIED_SENDER_CHOICES:
            raise ValueError(f"unverified_sender must be one of {', '.join(UNVERIFIED_SENDER_CHOICES)}, "
                             f"not {unverified_sender!r}")
        self.db = db
        self.clock = clock
        self.publisher = publisher
        self.blobs = blobs
        self.commands = TicketCommands(db, clock, publisher)
        self.signing_keys = signing_keys
        self.support_domains = {d.lower() for d in (support_domains or set())}
        self.heuristic = heuristic
        self.burst_limit = burst_limit
        self.raw_bucket = raw_bucket
        self.bulk_mail = bulk_mail  # "quarantine" or "ticket" (Settings.email_bulk_mail)
        self.unverified_sender = unverified_sender
        self.dmarc_allowlist = {d.lower() for d in dmarc_allowlist}
        self.support_domain_customers = support_domain_customers

    @classmethod
    def from_settings(cls, db: DataApi, clock: Clock, publisher: Publisher, blobs: BlobStore, settings: Any,
                      **kwargs: Any) -> "EmailIntake":
        kwargs.setdefault("heuristic", bool(getattr(settings, "email_heuristic_threading", False)))
        kwargs.setdefault("bulk_mail", getattr(settings, "email_bulk_mail", "quarantine"))
        kwargs.setdefault("unverified_sender", getattr(settings, "email_unverified_sender", "new_ticket"))
        kwargs.setdefault("dmarc_allowlist", tuple(getattr(settings, "email_dmarc_allowlist", ())))
        kwargs.setdefault("support_domain_customers", bool(getattr(settings, "email_support_domain_customers", False)))
        return cls(db, clock, publisher, blobs, signing_keys=settings.signing_keys,
                   support_domains={settings.support_domain}, raw_bucket=settings.raw_mail_bucket, **kwargs)

    # -- the entry point ------------------------------------------------------------------------
    def receive(self, raw: bytes, *, envelope_recipients: list[str], raw_key: str) -> IntakeOutcome:
        try:
            mail = parse_email(raw)
        except Exception as exc:  # noqa: BLE001 - any parser failure: keep the mail, never lose it
            log.exception("unparseable mail %s", raw_key)
            return self._quarantine_raw(raw, raw_key, "unparseable", f"{type(exc).__name__}: {exc}")
        kind = classify(mail)
        if kind.kind is Kind.LOOP:
            return IntakeOutcome("dropped", kind.reason, message_id=mail.message_id, classification=kind.kind.value)
        try:
            return self._receive(mail, kind, envelope_recipients, raw_key)
        except errors.ValidationFailed as exc:
            # The mail parsed but does not fit a ticket (e.g. a From no one can answer): kept for admins.
            log.warning("mail %s kept in quarantine: %s", raw_key, exc)
            return self._quarantine(mail, "error", f"not a valid ticket message: {exc}", raw_key)
        except Exception as exc:
            if not _fails_for_content(exc):
                raise  # transient (database or S3 unreachable, a concurrent delivery): the record is retried
            log.exception("mail %s could not be stored: kept in quarantine", raw_key)
            return self._quarantine_store_failure(mail, raw, raw_key, exc)

    def release(self, quarantine_id: uuid.UUID | str, raw: bytes, *, envelope_recipients: list[str] | None = None
                ) -> IntakeOutcome:
        """An admin releases a quarantined mail (the caller reads `raw` from raw_bucket/raw_key of the
        row): it is processed as a person's mail, without the spam verdict and the burst limit.

        Processed first, marked released only once it is on a ticket (outcome.ticket_id): a failure on
        the way, or a mail that still cannot become a ticket, leaves it listed as unreleased to retry.
        Releasing twice is safe: the second processing finds the Message-ID already received (a no-op).
        Calls: 1 read + the intake's own (2-3) + 1 to mark it released."""
        mail = parse_email(raw)
        synthetic = mail.synthetic_message_id()
        current = self.db.query_one(sql.QUARANTINED, {"id": str(quarantine_id)})
        if current is None or current.get("released_at") is not None:
            raise errors.NotFound(f"no unreleased quarantined mail {quarantine_id}")
        if current["reason"] == "unparseable":
            raise errors.ValidationFailed("an unparseable mail cannot be released; open it from S3 "
                                          f"(s3://{current.get('raw_bucket')}/{current.get('raw_key')})")
        if current["message_id"] not in (mail.message_id, synthetic):
            raise errors.ValidationFailed(f"the raw mail given is not quarantined mail {quarantine_id} "
                                          f"(Message-ID {mail.message_id}, expected {current['message_id']})")
        mail.message_id = current["message_id"]
        # Released bulk mail becomes a ticket still tagged bulk (and so still never acknowledged).
        kind = Kind.BULK if current["reason"] == "bulk" else Kind.PERSON
        outcome = self._receive(mail, Classification(kind, "released by an admin"), envelope_recipients or [],
                                current.get("raw_key") or "", released=True)
        if outcome.ticket_id is None:
            return outcome  # still not a ticket (e.g. no usable From): stays in the list, unreleased
        row = self.db.query_one(sql.RELEASE_QUARANTINE, {"id": str(quarantine_id), "now": self.clock.now(),
                                                         "message_id": current["message_id"], "synthetic_id": synthetic})
        if row is None:  # another admin's release marked it first (our processing was the no-op one)
            raise errors.NotFound(f"no unreleased quarantined mail {quarantine_id}")
        return outcome

    def _receive(self, mail: ParsedEmail, kind: Classification, envelope: list[str], raw_key: str, *,
                 released: bool = False) -> IntakeOutcome:
        now = self.clock.now()
        recipients = self._recipients(mail, envelope)
        token_ticket = next((t for t in (parse_reply_address(a, self.signing_keys) for a in recipients) if t), None)
        tag = SUBJECT_TAG.search(mail.subject or "")
        sender = self._sender(mail)
        refs = mail.in_reply_to + list(reversed(mail.references))
        if kind.automatic:  # a bounce names our mail only inside the returned message
            refs += mail.embedded_message_ids
        refs = list(dict.fromkeys(refs))[:100]
        synthetic = mail.synthetic_message_id()
        row = self.db.query_one(sql.THREAD_LOOKUP, {
            "message_id": mail.message_id, "synthetic_id": synthetic, "token_ticket_id": token_ticket,
            "refs": refs, "tag_number": int(tag.group(1)) if tag else None, "sender": sender,
            "heuristic": self.heuristic and kind.kind is Kind.PERSON, "heuristic_since": now - HEURISTIC_WINDOW,
            "burst_since": now - BURST_WINDOW, "releasing": released,
        }) or {}
        if row.get("sender_is_ours"):  # one of our team addresses: our own mail come back
            return IntakeOutcome("dropped", f"sent by our own address {sender}", message_id=mail.message_id,
                                 classification=Kind.LOOP.value)
        # Redelivery of the same mail: a no-op, whatever its Date, trace headers or a footer a list
        # added: the same Message-ID from the same sender is the same mail. The same id from a
        # DIFFERENT sender (broken software reusing ids): kept under the synthetic id derived from its
        # content, and threaded by the other layers.
        existing = row.get("existing") or []
        if any(e["message_id"] == synthetic for e in existing) or any(
                e["message_id"] == mail.message_id and e.get("kind") not in OUR_ID_KINDS and (
                    e.get("content_sha256") in (mail.content_sha256, None)
                    or (mail.header_message_id is not None and e.get("from") == mail.from_email))
                for e in existing):
            hit = next((e for e in existing if e.get("ticket_id")), existing[0])
            return IntakeOutcome("duplicate", "this mail was already received", message_id=mail.message_id,
                                 ticket_id=_uuid(hit.get("ticket_id")), classification=kind.kind.value)
        if existing:
            mail.message_id = synthetic
        ours = next((e for e in existing if e.get("kind") in OUR_ID_KINDS), None)
        if ours is not None:
            # Our loop header is absent (that mail was dropped above), yet the Message-ID is one we
            # gave our own mail: a forgery or a broken relay. Kept for an admin, under the synthetic id.
            return self._quarantine(mail, "suspicious", f"reuses the Message-ID of a mail we sent "
                                    f"(<{ours['message_id']}>, ticket {ours.get('ticket_id')})", raw_key)

        ticket_id, layer = None, None
        for candidate, name in ((row.get("token_ticket_id"), "token"), (row.get("reference_ticket_id"), "references"),
                                (row.get("tag_ticket_id"), "subject_tag")):
            if candidate:
                ticket_id, layer = _uuid(candidate), name
                break

        if kind.kind in (Kind.SPAM, Kind.VIRUS):
            return self._quarantine(mail, kind.kind.value, kind.reason, raw_key)
        auth = sender_auth(mail)
        from_domain = (mail.from_email or "").rpartition("@")[2]
        verified = auth.vouches_for(from_domain)
        if (not released and not kind.automatic and auth.dmarc_rejects and from_domain not in self.dmarc_allowlist):
            return self._quarantine(mail, "dmarc_fail", f"DMARC failed for {from_domain}, whose policy is "
                                    f"p={auth.dmarc_policy} (SPF {auth.spf or 'none'}, DKIM {auth.dkim or 'none'})", raw_key)
        if kind.automatic:
            if ticket_id is None:
                return self._quarantine(mail, "auto_reply_unmatched", kind.reason, raw_key)
            return self._system_event(mail, kind, ticket_id, layer, raw_key)
        if sender is None:
            return self._quarantine(mail, "error", "no usable From address to answer", raw_key)
        if kind.kind is Kind.BULK and ticket_id is None and self.bulk_mail != "ticket" and not released:
            return self._quarantine(mail, "bulk", kind.reason, raw_key)
        if not released and int(row.get("sender_recent") or 0) >= self.burst_limit:
            return self._quarantine(mail, "rate_limited",
                                    f"more than {self.burst_limit} mails from {sender} within {BURST_WINDOW}", raw_key)

        # Threading by the subject tag, or adding to a closed/resolved ticket by anything but the
        # signed reply address, needs a sender SES authenticated: a forged From with a customer's
        # address and their tag must not land in (or reopen) their conversation.
        unverified_match = None
        if ticket_id is not None and not released and not verified and (
                layer == "subject_tag" or (layer == "references" and row.get("reference_ticket_status") in _SETTLED)):
            if self.unverified_sender == "quarantine":
                return self._quarantine(mail, "unverified_sender", f"would have been added to ticket {ticket_id} by "
                                        f"{layer}, but SES did not authenticate {sender} (SPF {auth.spf or 'none'}, "
                                        f"DKIM {auth.dkim or 'none'}, DMARC {auth.dmarc or 'none'})", raw_key)
            unverified_match, ticket_id, layer = str(ticket_id), None, None

        attachments = self._store_attachments(mail)
        if ticket_id is not None:
            try:
                result = receive_customer_message(self.db, self.clock, self.publisher, ticket_id,
                                                  self._message(mail, sender, attachments, raw_key))
            except (errors.NotFound, errors.Gone, errors.Conflict) as exc:
                # The ticket cannot take the message (e.g. a merge chain too long): a new ticket keeps it.
                log.warning("threaded ticket %s refused mail %s (%s): opening a new ticket", ticket_id, raw_key, exc)
            else:
                action = "followup_created" if result.followup_of else "threaded"
                return IntakeOutcome(action, f"threaded by {layer}",
                                     ticket_id=result.ticket.id if result.ticket else ticket_id,
                                     message_id=mail.message_id, layer=layer, classification=kind.kind.value,
                                     attachments=len(attachments), details={"replayed": result.replayed})

        possible_followup = self._heuristic_match(mail, row.get("heuristic_candidates") or [])
        # Routing sees the addresses the mail was delivered to: the envelope (SES receives only for our
        # domains, whatever they are) and To/Cc addresses at the support domain.
        delivered = {r.strip().strip("<>").lower() for r in list(envelope) + mail.received_for}
        routing_recipients = [r for r in recipients if r in delivered or r.rpartition("@")[2] in self.support_domains]
        new = self._new_ticket(mail, sender, routing_recipients, attachments, raw_key, possible_followup,
                               bulk=kind.reason if kind.kind is Kind.BULK else None)
        if unverified_match:  # for the agent: it named that ticket, but its sender is not proven
            new.metadata["unverified_match_of"] = unverified_match
        result = open_ticket(self.db, self.clock, self.publisher, new, actor=Actor(type="customer"),
                             idempotency_scope="email")
        return IntakeOutcome("duplicate" if result.replayed else "created",
                             "possible follow-up (heuristic)" if possible_followup else "new conversation",
                             ticket_id=result.ticket.id if result.ticket else None, message_id=mail.message_id,
                             layer="heuristic" if possible_followup else None, classification=kind.kind.value,
                             attachments=len(attachments))

    # -- pieces -----------------------------------------------------------------------------------
    def _recipients(self, mail: ParsedEmail, envelope: list[str]) -> list[str]:
        """Envelope recipients first (what SES received for), then To/Cc/Delivered-To: a signed token
        is trusted wherever it appears, since only we can have made it."""
        found: list[str] = []
        for value in list(envelope) + mail.received_for + mail.to + mail.cc + [mail.header("delivered-to"), mail.header("x-original-to")]:
            value = (value or "").strip().strip("<>").lower()
            if value and "@" in value and value not in found:
                found.append(value)
        return found

    def _sender(self, mail: ParsedEmail) -> str | None:
        for candidate in (mail.from_email, *(mail.reply_to or [])):
            if not candidate:
                continue
            try:
                email = normalize_email(candidate)
            except ValueError:
                continue
            if email.rpartition("@")[2] in self.support_domains and not self._colleague(email):
                continue  # never a customer: one of our own addresses
            return email
        return None

    def _colleague(self, email: str) -> bool:
        """At the support domain but a person (internal help desk setting), not one of our own
        addresses: a signed reply address, or the default support address outbound mail comes from
        (team addresses are checked by the lookup)."""
        domain = email.rpartition("@")[2]
        return (self.support_domain_customers and email != f"support@{domain}"
                and parse_reply_address(email, self.signing_keys) is None)

    def _store_attachments(self, mail: ParsedEmail) -> list[dict[str, Any]]:
        stored = []
        for att in mail.attachments:
            key = self.blobs.put(att.sha256, att.data, att.content_type)
            stored.append({"sha256": att.sha256, "s3_key": key, "filename": att.filename, "content_type": att.content_type,
                           "size": att.size, "content_id": att.content_id, "inline": att.inline})
        return stored

    def _body(self, mail: ParsedEmail, *, opening: bool = False) -> tuple[str, str | None]:
        """The message body and, when that is not the whole text, the full text beside it. A reply in
        a thread shows its new text above the quoted history; the mail that opens a ticket keeps
        everything (a forward's content, a newsletter past its first line of dashes)."""
        body = ((mail.text if opening else mail.reply_text) or mail.text or "").strip() or NO_TEXT
        if mail.skipped_attachments:
            notes = ", ".join(f"{s.filename} ({s.size} bytes, {s.reason})" for s in mail.skipped_attachments)
            body += f"\n\n[Attachments not kept: {notes}]"
        body = body[:MAX_BODY]
        full = mail.text if mail.text and mail.text.strip() != body.strip() else None
        return body, (full[:MAX_BODY * 5] if full else None)

    def _metadata(self, mail: ParsedEmail, raw_key: str, **extra: Any) -> dict[str, Any]:
        return {**summarize(mail), "raw_key": raw_key, "raw_bucket": self.raw_bucket, **extra}

    def _message(self, mail: ParsedEmail, sender: str, attachments: list[dict[str, Any]], raw_key: str) -> NewMessage:
        body, full = self._body(mail)
        return NewMessage(body=body, body_full=full, body_html=mail.html[:MAX_BODY * 5] if mail.html else None,
                          author_type="customer", author_email=sender, channel="email",
                          inbound_message_id=mail.message_id, attachments=attachments,
                          metadata=self._metadata(mail, raw_key))

    def _new_ticket(self, mail: ParsedEmail, sender: str, recipients: list[str], attachments: list[dict[str, Any]],
                    raw_key: str, possible_followup: uuid.UUID | None, *, bulk: str | None = None) -> NewTicket:
        body, full = self._body(mail, opening=True)
        subject = re.sub(r"\s+", " ", mail.subject or "").strip()[:MAX_SUBJECT] or "(no subject)"
        participants = []
        for address in mail.to + mail.cc:
            try:
                email = normalize_email(address)
            except ValueError:
                continue
            if email.rpartition("@")[2] not in self.support_domains and email != sender:
                participants.append(email)
        return NewTicket(channel="email", subject=subject, body=body, body_full=full,
                         body_html=mail.html[:MAX_BODY * 5] if mail.html else None, requester_email=sender,
                         requester_name=(mail.from_name or None) and mail.from_name[:200],
                         inbound_message_id=mail.message_id, participants=participants[:50], attachments=attachments,
                         tags=[BULK_TAG] if bulk else [],
                         metadata=self._metadata(mail, raw_key, recipients=recipients[:20],
                                                 **({"bulk": bulk} if bulk else {})),
                         possible_followup_of=possible_followup)

    def _heuristic_match(self, mail: ParsedEmail, candidates: list[dict[str, Any]]) -> uuid.UUID | None:
        if not self.heuristic:
            return None
        subject = normalize_subject(mail.subject)
        if not subject:
            return None
        for candidate in candidates:
            if normalize_subject(candidate.get("subject") or "") == subject:
                return _uuid(candidate["id"])
        return None

    def _system_event(self, mail: ParsedEmail, kind: Classification, ticket_id: uuid.UUID, layer: str | None,
                      raw_key: str) -> IntakeOutcome:
        label = "Bounce" if kind.kind is Kind.BOUNCE else "Automatic reply"
        text = (mail.reply_text or mail.text or "").strip()
        failures = "".join(f"\n- {d['recipient']}: {d['action']} {d['status']} {d['diagnostic']}".rstrip()
                           for d in mail.delivery_status)
        summary = f"{label} received from {mail.from_email or 'an unknown sender'} ({kind.reason})."
        if failures:
            summary += f"\nDelivery status:{failures}"
        body = f"{summary}\n\n{text}"[:MAX_BODY]
        message = NewMessage(body=body, visibility="internal", author_type="system", channel="email",
                             inbound_message_id=mail.message_id, attachments=self._store_attachments(mail),
                             metadata=self._metadata(mail, raw_key, automatic=kind.kind.value, automatic_reason=kind.reason))
        try:
            result = self.commands.add_message(ticket_id, message, Actor.system(), follow_merged=True)
        except (errors.NotFound, errors.Conflict, errors.Gone) as exc:
            return self._quarantine(mail, "auto_reply_unmatched", f"{kind.reason}; ticket not writable: {exc}", raw_key)
        return IntakeOutcome("system_event", kind.reason, ticket_id=result.ticket.id if result.ticket else ticket_id,
                             message_id=mail.message_id, layer=layer, classification=kind.kind.value)

    def _quarantine(self, mail: ParsedEmail, reason: str, detail: str, raw_key: str) -> IntakeOutcome:
        self.db.execute(sql.QUARANTINE, {
            "message_id": mail.message_id, "reason": reason, "detail": detail[:2000], "from_email": mail.from_email,
            "subject": (mail.subject or "")[:500], "raw_key": raw_key, "raw_bucket": self.raw_bucket,
            "content_sha256": mail.content_sha256, "metadata": summarize(mail), "now": self.clock.now(),
        })
        return IntakeOutcome("quarantined", f"{reason}: {detail}", message_id=mail.message_id, classification=reason)

    def _quarantine_store_failure(self, mail: ParsedEmail, raw: bytes, raw_key: str, exc: Exception) -> IntakeOutcome:
        detail = f"could not be stored: {type(exc).__name__}: {exc}"
        try:
            return self._quarantine(mail, "store_failed", detail, raw_key)
        except Exception as again:  # noqa: BLE001 - the parsed fields themselves fail: keep the bare minimum
            if not _fails_for_content(again):
                raise
            return self._quarantine_raw(raw, raw_key, "store_failed", detail)

    def _quarantine_raw(self, raw: bytes, raw_key: str, reason: str, detail: str) -> IntakeOutcome:
        """A quarantine row from the raw bytes alone (nothing parsed is trusted): their hash, size and S3 key."""
        import hashlib

        digest = hashlib.sha256(raw).hexdigest()
        message_id = f"{digest[:40]}@{reason.replace('_', '-')}.helpdesk.invalid"
        self.db.execute(sql.QUARANTINE, {
            "message_id": message_id, "reason": reason, "detail": detail.replace("\x00", "")[:2000], "from_email": None,
            "subject": None, "raw_key": raw_key, "raw_bucket": self.raw_bucket, "content_sha256": digest,
            "metadata": {"size": len(raw)}, "now": self.clock.now(),
        })
        return IntakeOutcome("quarantined", f"{reason}: {detail}", message_id=message_id, classification=reason)


def list_quarantine(db: DataApi, *, limit: int = 100, reason: str | None = None,
                    include_released: bool = False) -> list[dict[str, Any]]:
    """Quarantined inbound mail for admins (spam, virus, rate-limited, unmatched automatic mail,
    unparseable), newest first. The raw mail stays in S3 under raw_key."""
    if not 1 <= limit <= 500:
        raise errors.ValidationFailed("limit must be between 1 and 500")
    return db.query(sql.LIST_QUARANTINE, {"limit": limit, "reason": reason, "include_released": include_released})


def _fails_for_content(exc: BaseException) -> bool:
    """Whether storing failed because of what this mail holds (a retry fails the same way), rather than
    for a passing reason (database or storage unreachable, a concurrent delivery of the same mail)."""
    if isinstance(exc, errors.DatabaseError):
        return (not isinstance(exc, (errors.UniqueViolation, errors.DatabaseUnavailable, errors.SerializationFailure))
                and (exc.sqlstate or "")[:2] in _CONTENT_SQLSTATES)
    if isinstance(exc, errors.HelpdeskError):
        return False
    return isinstance(exc, (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError))


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

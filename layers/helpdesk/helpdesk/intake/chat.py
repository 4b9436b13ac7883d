"""Web chat adapter: one chat session is one ticket (channel "chat", channel_thread_id = the
session id); the transcript is the ticket's public messages.

The customer holds a signed session token (stateless, like the portal link: helpdesk.auth.signing,
valid for SESSION_LIFETIME: a chat may wait a few days for an answer in an open tab, not longer).
With it they post messages, poll public messages after a cursor (ticket_messages.position) and
end the session. Ending claims the transcript mail once (chat_sessions_ended) and mails it when
the customer gave an address, directly through SES (helpdesk.delivery.ses.SesEmailSender, From support@<domain>): chat has no
outbound.requested path (functions/outbound skips chat: replies are shown in the widget).

A customer who gives an email is the same customer as on every other channel (customers are
upserted by email); without one the requester is a per-session placeholder chat-<id>@chat.invalid.

Anyone can type someone else's address into the widget, so a given address is UNVERIFIED (the first
message's metadata chat.address_verified = false; agents see the ticket's chat_address_verified) until the visitor enters the code mailed to
it at start (verify). Only the code's digest is stored (with the address flag); attempts are
rate-limited by the route.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from helpdesk import errors
from helpdesk.auth import signing
from helpdesk.clock import Clock
from helpdesk.db import channels as sql
from helpdesk.db.client import DataApi
from helpdesk.events.publisher import Publisher
from helpdesk.routing.intake import receive_customer_message
from helpdesk.tickets.models import Actor, normalize_email

log = logging.getLogger(__name__)
PLACEHOLDER_DOMAIN = "chat.invalid"
SUBJECT_CHARS = 70
POLL_LIMIT = 100
TRANSCRIPT_LIMIT = 500
PURPOSE = "chat session"
SESSION_LIFETIME = timedelta(days=7)


def sign_session_token(session_id: uuid.UUID, keyring: signing.Keyring, now: datetime) -> str:
    return signing.sign_id(PURPOSE, session_id, keyring, now, SESSION_LIFETIME)


def verify_session_token(token: str, keyring: signing.Keyring, now: datetime) -> uuid.UUID:
    """The session id; LinkRefused/LinkExpired naming what was wrong."""
    return signing.open_id(PURPOSE, token, keyring, now, names="a chat")


def code_digest(session_id: uuid.UUID, code: str) -> str:
    """What is stored of the 6-digit code mailed to a chat's address (never the code itself)."""
    return hashlib.sha256(f"chat-verify:{session_id}:{code.strip()}".encode()).hexdigest()


@dataclass
class ChatStarted:
    session_id: uuid.UUID
    token: str
    ticket_id: uuid.UUID
    ref: str
    verification: str | None = None  # code_sent | code_not_sent (a given address), None (no address)


OpenTicket = Callable[..., Any]
Mailer = Callable[[dict[str, Any]], str]  # SesEmailSender.send: {"to", "name", "subject", "text"} -> id


class ChatSessions:
    def __init__(self, db: DataApi, clock: Clock, publisher: Publisher, signing_keys: signing.Keyring, *,
                 open_ticket: OpenTicket | None = None, mailer: Mailer | None = None) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher
        self.keys = signing_keys
        self.open_ticket = open_ticket
        self.mailer = mailer

    def start(self, *, name: str, email: str | None, message: str) -> ChatStarted:
        if self.open_ticket is None:
            raise RuntimeError("ChatSessions.start needs open_ticket (helpdesk.routing.intake.open_ticket)")
        if not message.strip():
            raise errors.ValidationFailed("message: the first message must not be blank")
        if not name.strip():
            raise errors.ValidationFailed("name: must not be blank")
        given = None
        if email:
            try:
                given = normalize_email(email)
            except ValueError as exc:
                raise errors.ValidationFailed(f"email: {exc}") from None
        session_id = uuid.uuid4()
        code = f"{secrets.randbelow(1_000_000):06d}"  # mailed to the given address; only its digest is stored
        first_line = message.strip().splitlines()[0]
        subject = "Chat: " + (first_line if len(first_line) <= SUBJECT_CHARS else first_line[:SUBJECT_CHARS - 1] + "…")
        result = self.open_ticket(
            {"channel": "chat", "subject": subject, "body": message, "requester_name": name.strip(),
             "requester_email": given or f"chat-{session_id}@{PLACEHOLDER_DOMAIN}",
             "channel_thread_id": str(session_id), "inbound_message_id": f"chat:{session_id}:0",
             "metadata": {"chat": {"email_given": given is not None, "name": name.strip(),
                                   "address_verified": False if given else None,
                                   "code_sha256": code_digest(session_id, code) if given else None}}},
            actor=Actor(type="customer"))
        verification = self._mail_code(session_id, code, given, name.strip(), result.ticket.ref) if given else None
        token = sign_session_token(session_id, self.keys, self.clock.now())
        return ChatStarted(session_id, token, result.ticket.id, result.ticket.ref, verification)

    def _mail_code(self, session_id: uuid.UUID, code: str, address: str, name: str, ref: str) -> str:
        try:
            if self.mailer is None:
                raise RuntimeError("no mailer configured")
            self.mailer({"to": address, "name": name, "subject": f"Your chat verification code [{ref}]",
                         "text": f"Your verification code for the support chat is {code}.\n\n"
                                 "Enter it in the chat to show that this address is yours. If you did not start "
                                 "a chat with us, ignore this mail: nothing is shared until the code is entered."})
        except Exception as exc:  # noqa: BLE001 - the chat starts anyway, unverified
            log.warning("verification code mail for chat %s failed: %s", session_id, exc)
            return "code_not_sent"
        return "code_sent"

    def verify(self, token: str, code: str) -> dict[str, Any]:
        """Marks the chat's address verified when `code` is the one mailed to it."""
        sid = verify_session_token(token, self.keys, self.clock.now())
        row = self.db.query_one(sql.VERIFY_CHAT_ADDRESS, {"session_key": str(sid), "code_sha256": code_digest(sid, code)})
        if row is None:
            raise errors.NotFound("this chat session is not valid")
        if row["address_verified"] is None:
            raise errors.Conflict("this chat gave no email address: there is nothing to verify")
        if not row["matched"]:
            raise errors.ValidationFailed("code: this is not the code we mailed to the address given in this chat")
        return {"status": "verified"}

    def _session(self, token: str) -> tuple[uuid.UUID, dict[str, Any]]:
        sid = verify_session_token(token, self.keys, self.clock.now())
        row = self.db.query_one(sql.CHAT_SESSION, {"session_id": sid, "session_key": str(sid)})
        if row is None:
            raise errors.NotFound("this chat session is not valid")
        return sid, row

    def post(self, token: str, body: str, client_message_id: str | None = None) -> dict[str, Any]:
        """A customer message; the same client_message_id twice is stored once (a retried POST)."""
        sid, row = self._session(token)
        if row.get("ended_at") is not None:
            raise errors.Conflict("this chat has ended; start a new chat")
        inbound = f"chat:{sid}:{client_message_id or uuid.uuid4()}"
        result = receive_customer_message(
            self.db, self.clock, self.publisher, row["ticket_id"],
            {"body": body, "author_type": "customer", "author_email": row["requester_email"], "channel": "chat",
             "inbound_message_id": inbound})
        return {"status": "received", "replayed": result.replayed}

    def poll(self, token: str, after: int = 0) -> dict[str, Any]:
        sid = verify_session_token(token, self.keys, self.clock.now())
        rows = self.db.query(sql.CHAT_MESSAGES, {"session_id": sid, "session_key": str(sid), "after": max(0, after),
                                                 "limit": POLL_LIMIT})
        if not rows:
            raise errors.NotFound("this chat session is not valid")
        messages = [{"position": int(r["position"]), "author_type": r["author_type"], "author_name": r["author_name"],
                     "body": r["body"], "created_at": r["created_at"].isoformat()} for r in rows if r["position"] is not None]
        cursor = messages[-1]["position"] if messages else max(0, after)
        return {"messages": messages, "cursor": cursor, "ended": rows[0]["ended_at"] is not None,
                "status": rows[0]["status"]}

    def end(self, token: str) -> dict[str, Any]:
        """Ends the chat (idempotent); mails the transcript once when the customer gave an address."""
        sid = verify_session_token(token, self.keys, self.clock.now())
        row = self.db.query_one(sql.END_CHAT, {"session_id": sid, "session_key": str(sid), "now": self.clock.now()})
        if row is None:
            raise errors.NotFound("this chat session is not valid")
        state = row.get("transcript_state")
        if state is None:
            return {"status": "ended", "transcript": "already_handled"}
        if state == "not_requested":
            return {"status": "ended", "transcript": "not_requested"}
        return {"status": "ended", "transcript": self._mail_transcript(sid, row)}

    def _mail_transcript(self, sid: uuid.UUID, row: dict[str, Any]) -> str:
        rows = self.db.query(sql.CHAT_MESSAGES, {"session_id": sid, "session_key": str(sid), "after": 0,
                                                 "limit": TRANSCRIPT_LIMIT})
        text = transcript_text(row, [r for r in rows if r["position"] is not None])
        state, error = "sent", None
        try:
            if self.mailer is None:
                raise RuntimeError("no mailer configured")
            self.mailer({"to": row["email"], "name": row.get("name") or "",
                         "subject": f"Your chat transcript [TKT-{row['number']}]", "text": text})
        except Exception as exc:  # noqa: BLE001 - the chat still ends; the failure is recorded for an operator
            log.warning("transcript mail for chat %s failed: %s", sid, exc)
            state, error = "failed", str(exc)[:500]
        self.db.execute(sql.RECORD_TRANSCRIPT, {"session_id": sid, "state": state, "error": error})
        return state


def transcript_text(session: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    lines = [f"Transcript of your chat with support (ticket TKT-{session['number']}: {session['subject']})", ""]
    for m in messages:
        who = "You" if m["author_type"] == "customer" else (m.get("author_name") or "Support")
        lines.append(f"[{m['created_at']:%Y-%m-%d %H:%M} UTC] {who}:")
        lines.extend("  " + line for line in str(m["body"]).splitlines() or [""])
        lines.append("")
    lines.append(f"To add anything, reply to this ticket's emails or quote TKT-{session['number']}.")
    return "\n".join(lines)

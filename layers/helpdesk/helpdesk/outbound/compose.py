"""Builds the MIME of an agent's reply: threading headers, the signed Reply-To, the loop header."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from helpdesk.delivery import header_text
from helpdesk.outbound.files import OutboundFile

LOOP_HEADER = "X-Helpdesk-Loop"
MAX_REFERENCES = 20


def tagged_subject(subject: str, number: int) -> str:
    tag = f"[TKT-{number}]"
    clean = re.sub(r"\s+", " ", subject or "").strip()
    if tag.lower() in clean.lower():
        return clean if clean.lower().startswith("re:") else f"Re: {clean}"
    return f"Re: {tag} {clean}".strip()


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


class MsgIdList(str):
    """A Message-ID, In-Reply-To or References value written as an RFC 5322 msg-id list: folded
    only between ids, never as RFC 2047 encoded-words (which the stdlib's header folding writes
    for any token longer than a line, e.g. an Outlook 365 id, and which no client matches)."""

    def __new__(cls, name: str, ids: Sequence[str]) -> "MsgIdList":
        value = super().__new__(cls, " ".join(_bracket(i) for i in ids))
        value.name = name
        return value

    name: str

    def fold(self, *, policy: Any) -> str:
        lines, line = [], f"{self.name}:"
        for ident in self.split(" "):
            if len(line) > len(self.name) + 1 and len(line) + 1 + len(ident) > policy.max_line_length:
                lines.append(line)
                line = ""
            line += f" {ident}"
        lines.append(line)
        return policy.linesep.join(lines) + policy.linesep


def compose_reply(*, from_address: str, from_name: str | None, to_address: str, to_name: str | None, reply_to: str,
                  subject: str, number: int, body_text: str, body_html: str | None, message_id: str,
                  in_reply_to: str | None, references: list[str], loop_value: str, sent_at: datetime,
                  automatic: bool = False, attachments: Sequence[OutboundFile] = ()) -> EmailMessage:
    """multipart/alternative (text, and HTML when given); with attachments the alternative is the
    first part of a multipart/mixed, each file a base64 part with its name (RFC 2231 for non-ASCII)."""
    from_name, to_name = header_text(from_name), header_text(to_name)
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_address)) if from_name else from_address
    msg["To"] = formataddr((to_name, to_address)) if to_name else to_address
    msg["Reply-To"] = reply_to
    msg["Subject"] = tagged_subject(subject, number)
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = MsgIdList("Message-ID", [message_id])
    if in_reply_to:
        msg["In-Reply-To"] = MsgIdList("In-Reply-To", [in_reply_to])
    refs = [r for r in references if r][-MAX_REFERENCES:]
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    if refs:
        msg["References"] = MsgIdList("References", refs)
    msg[LOOP_HEADER] = loop_value
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(body_text)
    if body_html:
        msg.add_alternative(body_html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


__all__ = ["compose_reply", "tagged_subject", "LOOP_HEADER"]

"""What a customer's portal link shows: one ticket and the PUBLIC messages of their own conversation.

A merged ticket's link follows it to the ticket it was merged into. After an (agent-confirmed) merge
of two customers' tickets, each customer's link shows what was written in their own ticket and what
they wrote themselves, never the other customer's conversation (ticket_messages.conversation_customer_id
remembers, for each moved message, whose conversation it was)."""
from __future__ import annotations

import uuid
from typing import Any

from helpdesk import errors
from helpdesk.attachments import Attachment, parse_attachment_ref
from helpdesk.db import admin as admin_sql
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.satisfaction import RATABLE, customer_status

PUBLIC_TICKET_FIELDS = ("number", "subject", "status", "priority", "created_at", "updated_at", "resolved_at", "closed_at")
PUBLIC_MESSAGE_FIELDS = ("id", "author_type", "body", "body_truncated", "created_at", "attachments")
PUBLIC_FULL_FIELDS = ("body_full", "quoted", "body_html")  # one message in full (portal_message)
MESSAGE_LIMIT = 100


def _view_and_viewer(commands: TicketCommands, ticket_id: uuid.UUID) -> tuple[Any, str]:
    try:
        view = commands.get_ticket(ticket_id, include_internal=False, message_limit=MESSAGE_LIMIT)
        return view, str(view.ticket["requester_id"])
    except errors.Gone as exc:  # the customer follows a merged ticket to its target transparently
        row = commands.db.query_one(admin_sql.TICKET_REQUESTER, {"id": ticket_id})  # whose link this is
        view = commands.get_ticket(uuid.UUID(str(exc.extra["merged_into"])), include_internal=False,
                                   message_limit=MESSAGE_LIMIT)
        return view, str(row["customer_id"]) if row else ""


def portal_view(commands: TicketCommands, ticket_id: uuid.UUID) -> dict[str, Any]:
    """Ticket fields and own public messages; 2 Data API calls (3 for a merged ticket's link)."""
    view, viewer = _view_and_viewer(commands, ticket_id)
    return shape(view.ticket, view.messages, viewer)


def portal_message(commands: TicketCommands, ticket_id: uuid.UUID, message_id: uuid.UUID) -> dict[str, Any]:
    """One message of the link's own conversation in full (the view cuts bodies): only a message the
    portal view shows this customer, so a merge never opens another customer's message by its id."""
    view, viewer = _view_and_viewer(commands, ticket_id)
    if str(message_id) not in {str(m["id"]) for m in shape(view.ticket, view.messages, viewer)["messages"]}:
        raise errors.NotFound(f"message {message_id} is not part of this conversation")
    message = commands.get_message(uuid.UUID(str(view.ticket["id"])), message_id, include_internal=False)
    return {k: message.get(k) for k in PUBLIC_MESSAGE_FIELDS + PUBLIC_FULL_FIELDS if k != "body_truncated"}


def shape(ticket: dict[str, Any], messages: list[dict[str, Any]], viewer: str) -> dict[str, Any]:
    out = {k: ticket.get(k) for k in PUBLIC_TICKET_FIELDS}
    out["ref"] = f"TKT-{ticket['number']}"
    out["status_label"] = customer_status(ticket["status"])  # the customer's words for the status
    # the survey of the latest resolve (rate, confirm, "not solved" while resolved or closed)
    out["satisfaction"] = ticket.get("satisfaction")
    out["can_rate"] = ticket["status"] in RATABLE
    # Customers whose conversations were merged in: what they write later is theirs, not the viewer's.
    others = {str(m["conversation_customer_id"]) for m in messages if m.get("conversation_customer_id")} - {viewer}

    def own(m: dict[str, Any]) -> bool:
        author = str(m.get("author_customer_id"))
        if author == viewer:
            return True
        owner = str(m.get("conversation_customer_id") or ticket["requester_id"])
        return owner == viewer and author not in others

    out["messages"] = [{**{k: m.get(k) for k in PUBLIC_MESSAGE_FIELDS}, "attachments": public_attachments(m)}
                       for m in messages if m.get("visibility") == "public" and own(m)]
    return out


def _files(message: dict[str, Any]) -> list[Any]:
    files = message.get("attachments")
    return files if isinstance(files, list) else []


def public_attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    """What the customer sees of a message's files: name, type, size and the `ref` to download it by
    (`<message id>.<index>`); never where it is stored."""
    return [{"ref": f"{message['id']}.{index}", "filename": f.get("filename") or "attachment",
             "content_type": f.get("content_type") or "application/octet-stream", "size": f.get("size")}
            for index, f in enumerate(_files(message)) if isinstance(f, dict) and f.get("s3_key")]


def portal_attachment(commands: TicketCommands, ticket_id: uuid.UUID, attachment_ref: str) -> Attachment:
    """One file of a message the portal shows this customer (1 call: the view has the files' metadata).
    NotFound for anything else, so a link never opens another customer's or an internal note's file."""
    which = parse_attachment_ref(attachment_ref)
    if which["message_id"] is None:
        raise errors.ValidationFailed("attachment: expected '<message id>.<index>', as the portal lists it")
    view, viewer = _view_and_viewer(commands, ticket_id)
    shown = {str(m["id"]) for m in shape(view.ticket, view.messages, viewer)["messages"]}
    message = next((m for m in view.messages if str(m["id"]) == str(which["message_id"])), None)
    files = _files(message) if message is not None and str(message["id"]) in shown else []
    entry = files[which["position"]] if which["position"] < len(files) else None
    if not isinstance(entry, dict) or not entry.get("s3_key"):
        raise errors.NotFound(f"attachment {attachment_ref} is not part of this conversation")
    return Attachment(uuid.UUID(str(view.ticket["id"])), str(entry["s3_key"]), str(entry.get("filename") or "attachment"),
                      str(entry.get("content_type") or "application/octet-stream"), int(entry.get("size") or 0))

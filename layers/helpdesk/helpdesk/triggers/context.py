"""What one evaluation reads: the ticket as conditions see it and the event's place in a chain of
trigger actions (one Data API call, EVALUATION_CONTEXT). Used by the engine and the dry run."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from helpdesk.db import triggers as sql
from helpdesk.db.client import DataApi
from helpdesk.triggers import evaluate

# The body text conditions look at (the start of a long message; under the 64 KB row limit at 4 bytes a character).
BODY_CHARS = 12_000


@dataclass
class Context:
    facts: evaluate.TicketFacts
    team_address: str | None
    chain_id: uuid.UUID | None
    depth: int
    done_for_event: set[str]
    acting_for_event: set[str]  # begun for this event and not finished (a retry resumes them)
    fired_in_chain: set[str]
    fired_for_change: set[str]  # fired for another event of the same change (command)


def load_context(db: DataApi, *, ticket_id: uuid.UUID | str | None = None, number: int | None = None,
                 event_id: uuid.UUID | None = None, event_at: datetime | None = None,
                 message_id: uuid.UUID | None = None) -> Context | None:
    """The ticket as conditions see it, and the event's chain (one call). None: no such ticket."""
    row = db.query_one(sql.EVALUATION_CONTEXT, {"ticket_id": ticket_id, "number": number, "event_id": event_id,
                                                "event_at": event_at, "message_id": message_id,
                                                "body_chars": BODY_CHARS})
    if row is None:
        return None
    doc = row["ticket"]
    return Context(
        facts=evaluate.TicketFacts.from_doc(doc), team_address=doc.get("team_address"),
        chain_id=uuid.UUID(str(row["chain_id"])) if row.get("chain_id") else None, depth=int(row.get("depth") or 0),
        done_for_event={str(f["trigger_id"]) for f in row.get("event_firings") or [] if f["state"] == "done"},
        acting_for_event={str(f["trigger_id"]) for f in row.get("event_firings") or [] if f["state"] == "acting"},
        fired_in_chain={str(t) for t in row.get("chain_triggers") or []},
        fired_for_change={str(t) for t in row.get("change_triggers") or []})

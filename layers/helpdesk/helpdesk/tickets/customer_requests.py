"""A customer's list of all their requests, opened by a link mailed to their address.

From one ticket's portal the customer asks for the link (request_link); the request is an outbox
event, so the mail goes out through the outbound consumer like every mail to customers
(helpdesk.outbound.email), and only the mailbox's owner gets it. The link (helpdesk.auth.customer_link)
lists the customer's tickets, each with a fresh portal link (list_requests).
Data API calls: asking 2 (the event, marking it published; the route's rate limit adds 1); the list 1."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from helpdesk import errors
from helpdesk.auth.portal import sign_portal_token
from helpdesk.auth.signing import Keyring
from helpdesk.clock import Clock
from helpdesk.db import customer_requests as sql
from helpdesk.db import events as events_sql
from helpdesk.db.client import DataApi
from helpdesk.events.outbox import BASE_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS
from helpdesk.events.publisher import Publisher
from helpdesk.tickets.satisfaction import customer_status

log = logging.getLogger(__name__)
LIST_LIMIT = 100


def request_link(db: DataApi, clock: Clock, publisher: Publisher, ticket_id: uuid.UUID) -> None:
    """Ask for the link to be mailed to the ticket's requester (the outbox relay retries a failed publish)."""
    row = db.query_one(sql.REQUEST_LINK, {"event_id": uuid.uuid4(), "ticket_id": ticket_id, "now": clock.now()})
    if row is None:
        raise errors.NotFound("this ticket no longer exists")
    try:
        published = publisher.publish([row])
    except Exception:  # noqa: BLE001 - SNS down: the relay publishes it within minutes
        log.exception("requests link event left to the outbox relay")
        return
    if published:
        db.execute(events_sql.SETTLE_RELAY, {"now": clock.now(), "published": published, "failed": [], "dead": [],
                                             "base_backoff": BASE_BACKOFF_SECONDS, "max_backoff": MAX_BACKOFF_SECONDS})


def list_requests(db: DataApi, keyring: Keyring, clock: Clock, base_url: str, customer_id: uuid.UUID) -> dict[str, Any]:
    """The customer's requests (newest activity first, at most LIST_LIMIT), each with its portal link."""
    from helpdesk.auth.portal import portal_url

    rows = db.query(sql.LIST_FOR_CUSTOMER, {"customer_id": customer_id, "limit": LIST_LIMIT})
    now = clock.now()
    return {"items": [{"ref": f"TKT-{r['number']}", "subject": r["subject"], "status_label": customer_status(r["status"]),
                       "created_at": r["created_at"], "updated_at": r["updated_at"],
                       "portal_url": portal_url(base_url, sign_portal_token(r["id"], keyring, now))} for r in rows],
            "limit": LIST_LIMIT}

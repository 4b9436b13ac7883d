"""Signed "all my requests" links: a customer who follows one ticket's portal link asks for the list
of all their requests; the list is mailed to their address as this link, so only whoever reads that
mailbox sees it (a portal link can be forwarded; the address is what the customer proves).

The token (helpdesk.auth.signing) names the customer; it is valid for REQUESTS_LINK_LIFETIME and
lets its holder list that customer's tickets and open each one's portal."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from helpdesk.auth import signing

PURPOSE = "requests link"
REQUESTS_LINK_LIFETIME = timedelta(days=7)


def sign_requests_token(customer_id: uuid.UUID | str, keyring: signing.Keyring, now: datetime) -> str:
    return signing.sign_id(PURPOSE, customer_id, keyring, now, REQUESTS_LINK_LIFETIME)


def verify_requests_token(token: str, keyring: signing.Keyring, now: datetime) -> uuid.UUID:
    """The customer id the token names; LinkRefused/LinkExpired naming what was wrong."""
    return signing.open_id(PURPOSE, token, keyring, now, names="a customer")


def requests_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/requests.html#{token}"

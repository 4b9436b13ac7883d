"""Signed customer-portal links: no account, the link is the credential.

The token (helpdesk.auth.signing) carries the ticket uuid, the signing key's id and an expiry:
stateless (nothing stored), unguessable, bound to one ticket, valid for PORTAL_LINK_LIFETIME. A
customer keeps the link in a mailbox while the ticket is worked on; 90 days covers a long-running
ticket, and every new mail from us carries a fresh link."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from helpdesk.auth import signing

PURPOSE = "portal link"
PORTAL_LINK_LIFETIME = timedelta(days=90)


def sign_portal_token(ticket_id: uuid.UUID | str, keyring: signing.Keyring, now: datetime) -> str:
    return signing.sign_id(PURPOSE, ticket_id, keyring, now, PORTAL_LINK_LIFETIME)


def verify_portal_token(token: str, keyring: signing.Keyring, now: datetime) -> uuid.UUID:
    """The ticket id the token names; LinkRefused/LinkExpired naming what was wrong."""
    return signing.open_id(PURPOSE, token, keyring, now, names="a ticket")


def portal_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal.html#{token}"

"""Signed satisfaction-survey links (the solved mail's "good", "bad" and "it's not solved" links).

The token (helpdesk.auth.signing) names the ticket AND the survey offer (the resolve it asks about),
both inside the signature: a link can only ever act on its own ticket, and a link from an earlier
resolve cannot rate a later one (the rating statement checks the offer is the ticket's latest). It
is a credential for three things only: read the survey page, rate, and say "not solved" / "solved".
Clicking a link only opens the page (GET changes nothing: mail scanners prefetch links); the page POSTs."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.auth import signing

PURPOSE = "satisfaction survey link"
# A customer rates within days of the solved mail; four weeks leaves room for a holiday.
SURVEY_LINK_LIFETIME = timedelta(days=28)


@dataclass(frozen=True)
class SurveyLink:
    ticket_id: uuid.UUID
    offer_id: uuid.UUID


def sign_survey_token(ticket_id: uuid.UUID | str, offer_id: uuid.UUID | str, keyring: signing.Keyring,
                      now: datetime) -> str:
    payload = uuid.UUID(str(ticket_id)).bytes + uuid.UUID(str(offer_id)).bytes
    return signing.sign_token(PURPOSE, payload, keyring, now, SURVEY_LINK_LIFETIME)


def verify_survey_token(token: str, keyring: signing.Keyring, now: datetime) -> SurveyLink:
    """The ticket and offer the token names; LinkRefused/LinkExpired naming what was wrong."""
    payload = signing.open_token(PURPOSE, token, keyring, now)
    if len(payload) != 32:
        raise signing.LinkRefused(f"this {PURPOSE} does not name a ticket's survey", "malformed")
    return SurveyLink(uuid.UUID(bytes=payload[:16]), uuid.UUID(bytes=payload[16:]))


def survey_url(base_url: str, token: str, rating: str | None = None) -> str:
    """The survey page; `rating` (good, bad, not_solved) preselects the answer the page then POSTs.
    The token travels in the fragment: never sent to a server, never in an access log."""
    query = f"?answer={rating}" if rating else ""
    return f"{base_url.rstrip('/')}/satisfaction.html{query}#{token}"

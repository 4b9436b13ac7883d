"""Survey links name their ticket and their resolve inside the signature; other link kinds never
pass for one, and an expired one says so."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.auth import signing
from helpdesk.auth.customer_link import sign_requests_token, verify_requests_token
from helpdesk.auth.portal import sign_portal_token
from helpdesk.auth.survey import SURVEY_LINK_LIFETIME, sign_survey_token, survey_url, verify_survey_token

KEYS = signing.Keyring.single("survey-test-key")
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
TICKET, OFFER = uuid.uuid4(), uuid.uuid4()


def test_a_survey_link_opens_to_its_ticket_and_offer():
    link = verify_survey_token(sign_survey_token(TICKET, OFFER, KEYS, NOW), KEYS, NOW)
    assert (link.ticket_id, link.offer_id) == (TICKET, OFFER)


def test_other_kinds_of_links_are_refused():
    for token in (sign_portal_token(TICKET, KEYS, NOW), sign_requests_token(TICKET, KEYS, NOW)):
        with pytest.raises(signing.LinkRefused):
            verify_survey_token(token, KEYS, NOW)
    with pytest.raises(signing.LinkRefused):
        verify_requests_token(sign_survey_token(TICKET, OFFER, KEYS, NOW), KEYS, NOW)


def test_a_changed_ticket_or_offer_breaks_the_signature_and_old_links_expire():
    token = sign_survey_token(TICKET, OFFER, KEYS, NOW)
    key_id, expires, payload, mac = token.split(".")
    other = sign_survey_token(uuid.uuid4(), OFFER, KEYS, NOW).split(".")[2]
    with pytest.raises(signing.LinkRefused) as refused:
        verify_survey_token(".".join((key_id, expires, other, mac)), KEYS, NOW)
    assert refused.value.reason == "bad_signature"
    with pytest.raises(signing.LinkExpired):
        verify_survey_token(token, KEYS, NOW + SURVEY_LINK_LIFETIME + timedelta(seconds=1))


def test_the_url_keeps_the_token_in_the_fragment():
    url = survey_url("https://help.example.com/", "k0.1.abc.def", "good")
    assert url == "https://help.example.com/satisfaction.html?answer=good#k0.1.abc.def"

"""Validation of the command inputs: messages name what was wrong and what is allowed."""
from __future__ import annotations

import uuid

import pytest

from helpdesk.errors import ValidationFailed
from helpdesk.tickets.models import (
    MAX_BODY, MAX_SUBJECT, MAX_TAG, MAX_TAGS, Actor, NewMessage, NewTicket, normalize_email, parse_ticket_ref,
)

BASE = {"channel": "web", "subject": "Printer on fire", "body": "help", "requester_email": "Ann@Example.com"}


def ticket(**kw):
    return NewTicket.parse({**BASE, **kw})


def failure(fn, *args, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        fn(*args, **kw)
    return info.value


def test_valid_ticket_normalizes():
    t = ticket(tags=["Billing", "billing", "VIP"], participants=["B@x.org", "b@x.org", "c@y.io"])
    assert t.requester_email == "ann@example.com"
    assert t.tags == ["billing", "vip"]
    assert t.participants == ["b@x.org", "c@y.io"]
    assert t.priority == "normal"


def test_subject_at_limit_ok_over_limit_names_limit():
    assert len(ticket(subject="s" * MAX_SUBJECT).subject) == MAX_SUBJECT
    err = failure(ticket, subject="s" * (MAX_SUBJECT + 1))
    assert "subject" in err.detail and str(MAX_SUBJECT) in err.detail


def test_body_over_limit_names_limit():
    assert ticket(body="b" * MAX_BODY)
    err = failure(ticket, body="b" * (MAX_BODY + 1))
    assert "body" in err.detail and str(MAX_BODY) in err.detail
    err = failure(NewMessage.parse, {"body": "b" * (MAX_BODY + 1), "author_type": "customer"})
    assert "body" in err.detail and str(MAX_BODY) in err.detail


@pytest.mark.parametrize("subject", ["", "   ", "\n\t"])
def test_blank_subject(subject):
    err = failure(ticket, subject=subject)
    assert "subject" in err.detail


@pytest.mark.parametrize("email", ["nobody", "a@b", "a b@example.com", "@example.com", "a@@example.com",
                                   "a@example..com", "<a@example.com>", "a@-example.com", "x" * 250 + "@example.com"])
def test_malformed_email(email):
    err = failure(ticket, requester_email=email)
    assert "requester_email" in err.detail and "email" in err.detail
    assert "name@domain.tld" in err.detail  # says what is allowed


def test_malformed_participant_and_author_email():
    assert "participants" in failure(ticket, participants=["ok@example.com", "broken"]).detail
    err = failure(NewMessage.parse, {"body": "x", "author_type": "customer", "author_email": "nope"})
    assert "author_email" in err.detail


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("channel", "fax", ["email", "web", "chat", "slack", "api"]),
    ("priority", "critical", ["low", "normal", "high", "urgent"]),
])
def test_unknown_enum_values_name_allowed(field, value, allowed):
    err = failure(ticket, **{field: value})
    assert field in err.detail
    for a in allowed:
        assert a in err.detail


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("visibility", "secret", ["public", "internal"]),
    ("author_type", "robot", ["customer", "agent", "system"]),
    ("channel", "pigeon", ["email", "web", "chat", "slack", "api", "system"]),
])
def test_message_enums(field, value, allowed):
    err = failure(NewMessage.parse, {"body": "x", "author_type": "agent", field: value})
    assert field in err.detail
    for a in allowed:
        assert a in err.detail


def test_tags_limits():
    assert "tags" in failure(ticket, tags=["t"] * (MAX_TAGS + 1)).detail
    err = failure(ticket, tags=["x" * (MAX_TAG + 1)])
    assert "tags" in err.detail and str(MAX_TAG) in err.detail
    assert "tags" in failure(ticket, tags=[""]).detail


def test_unknown_field_rejected():
    err = failure(ticket, colour="red")
    assert "colour" in err.detail


def test_bad_uuid_field():
    assert "team_id" in failure(ticket, team_id="not-a-uuid").detail


def test_errors_list_is_structured():
    err = failure(NewTicket.parse, {"channel": "fax"})
    fields = {e["loc"][0] for e in err.extra["errors"]}
    assert {"channel", "subject", "body", "requester_email"} <= fields


def test_message_empty_body_rejected():
    assert "body" in failure(NewMessage.parse, {"body": "", "author_type": "customer"}).detail


def test_text_with_sql_and_html_is_kept_verbatim():
    text = "'; DROP TABLE tickets; -- <script>alert(1)</script> :param %s $$ \x00"[:-1]
    t = ticket(subject=text, body=text)
    assert t.subject == text and t.body == text


def test_normalize_email():
    assert normalize_email("  Bob.Smith+tag@Mail.Example.COM ") == "bob.smith+tag@mail.example.com"
    with pytest.raises(ValueError, match="not an email address"):
        normalize_email("bob")


def test_parse_ticket_ref():
    assert parse_ticket_ref("TKT-42") == ("number", 42)
    assert parse_ticket_ref("tkt-7") == ("number", 7)
    u = uuid.uuid4()
    assert parse_ticket_ref(str(u)) == ("id", u)
    for bad in ["42", "TKT-", "TKT-x", "ticket 4", ""]:
        err = failure(parse_ticket_ref, bad)
        assert "TKT-42" in err.detail and "UUID" in err.detail


def test_actor():
    assert Actor.system().type == "system"
    with pytest.raises(Exception):
        Actor(type="robot")

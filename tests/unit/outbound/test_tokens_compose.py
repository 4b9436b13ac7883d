from __future__ import annotations

import uuid
from datetime import datetime, timezone

from hypothesis import given, strategies as st

from helpdesk.auth.signing import Keyring
from helpdesk.intake.email.classify import Kind, classify
from helpdesk.intake.email.parse import parse_email
from helpdesk.outbound.compose import compose_reply, tagged_subject
from helpdesk.outbound.tokens import parse_reply_address, reply_address


KEYS = Keyring.single("k")
ROTATED = Keyring.parse('{"current": "k2026b", "keys": {"k2026b": "new", "k0": "k"}}')


@given(st.uuids())
def test_token_round_trip(ticket_id):
    address = reply_address(ticket_id, "Helpdesk.Test", KEYS)
    assert parse_reply_address(address, KEYS) == ticket_id
    assert parse_reply_address(address.upper(), KEYS) == ticket_id  # local parts get case-folded in transit
    assert parse_reply_address(address, Keyring.single("other")) is None


def test_reply_addresses_name_their_key_and_survive_rotation():
    ticket_id = uuid.uuid4()
    before = reply_address(ticket_id, "helpdesk.test", KEYS)
    after = reply_address(ticket_id, "helpdesk.test", ROTATED)
    assert ".k0." in before and ".k2026b." in after
    assert len(after.partition("@")[0]) <= 64  # RFC 5321 local part, with the longest key id
    assert parse_reply_address(before, ROTATED) == ticket_id == parse_reply_address(after, ROTATED)
    retired = Keyring.parse('{"current": "k2026b", "keys": {"k2026b": "new"}}')
    assert parse_reply_address(before, retired) is None and parse_reply_address(after, retired) == ticket_id


def test_tampered_tokens_are_rejected():
    address = reply_address(uuid.uuid4(), "helpdesk.test", KEYS)
    local, _, domain = address.partition("@")
    ticket, key_id, mac = local.partition("+")[2].split(".")
    for bad in (local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain, "support@helpdesk.test", "", "x+y.z@w",
                f"support+{ticket}.{mac}@{domain}",  # the earlier format without a key id
                f"support+{ticket}.k9.{mac}@{domain}"):  # another key id
        assert parse_reply_address(bad, KEYS) is None


def test_subject_tag_is_added_once():
    assert tagged_subject("Printer", 7) == "Re: [TKT-7] Printer"
    assert tagged_subject("Re: [TKT-7] Printer", 7) == "Re: [TKT-7] Printer"


def test_composed_reply_threads_and_is_recognised_as_ours():
    msg = compose_reply(from_address="support@helpdesk.test", from_name="Support", to_address="c@x.test", to_name="C",
                        reply_to="support+t.m@helpdesk.test", subject="Printer", number=3, body_text="Fixed",
                        body_html=None, message_id="msg-1@helpdesk.test", in_reply_to="c1@x.test",
                        references=["c0@x.test"], loop_value="helpdesk.test", sent_at=datetime.now(timezone.utc))
    assert msg["In-Reply-To"] == "<c1@x.test>" and msg["References"] == "<c0@x.test> <c1@x.test>"
    assert msg["Auto-Submitted"] is None  # a person's reply, not automatic mail
    assert classify(parse_email(msg.as_bytes())).kind is Kind.LOOP


# Real lengths: an Outlook 365 id is 80+ characters on its own, a Gmail id about 70.
OUTLOOK_ID = "AM0PR10MB3172B5C1B1C4A6F3E9A1B2C3D4E5F6A7B8C9@AM0PR10MB3172.EURPRD10.PROD.OUTLOOK.COM"
GMAIL_ID = "CAHk9x=abcdefghijklmnopqrstuvw+xyz0123456789ABCD_EF-g@mail.gmail.com"


def test_message_id_headers_are_msg_id_lists_folded_between_ids_never_encoded():
    refs = [f"{n}{OUTLOOK_ID}" for n in range(3)] + [GMAIL_ID]
    msg = compose_reply(from_address="support@helpdesk.test", from_name="Support", to_address="c@x.test", to_name="C",
                        reply_to="support+t.m@helpdesk.test", subject="Printer", number=3, body_text="Fixed",
                        body_html=None, message_id=f"msg-{OUTLOOK_ID}", in_reply_to=OUTLOOK_ID, references=refs,
                        loop_value="helpdesk.test", sent_at=datetime.now(timezone.utc))
    raw = msg.as_bytes()
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert "=?" not in head  # no RFC 2047 encoded-word anywhere in the headers
    assert f"\nIn-Reply-To: <{OUTLOOK_ID}>\n" in head
    assert f"\nMessage-ID: <msg-{OUTLOOK_ID}>\n" in head
    references = head.split("\nReferences:", 1)[1].split("\nX-Helpdesk-Loop:", 1)[0]
    # folded only between ids: every physical line is whole ids, continuation lines start with a space
    lines = references.split("\n")
    assert all(line.startswith(" <") and line.endswith(">") for line in lines)
    assert [i for line in lines for i in line.split()] == [f"<{r}>" for r in refs + [OUTLOOK_ID]]
    assert all(len(line) <= 78 or line.count("<") == 1 for line in ("References:" + lines[0], *lines[1:]))
    reparsed = parse_email(raw)
    assert reparsed.in_reply_to == [OUTLOOK_ID] and reparsed.references == refs + [OUTLOOK_ID]

"""The inbound consumer's threading-health metrics: each mail counted once under the layer that
threaded it (signed token, References, subject tag), as a new ticket, or as what else happened to it
(quarantined with its reason, a duplicate); read from the EMF documents the handler writes."""
from __future__ import annotations

import json

from helpdesk.outbound.tokens import reply_address

from .conftest import DOMAIN, SES_AUTHENTICATED, SIGNING_KEYS, mail


def outcomes(capsys) -> list[tuple[str, str]]:
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    found = [("InboundMail", d["outcome"]) for d in docs if "InboundMail" in d and "outcome" in d]
    found += [("MailQuarantined", d["reason"]) for d in docs if "MailQuarantined" in d and "reason" in d]
    totals = [d for d in docs if ("InboundMail" in d and "outcome" not in d)]
    assert len(totals) == len([f for f in found if f[0] == "InboundMail"])  # the alarm's total: one per mail
    return found


def test_each_mail_is_counted_under_the_layer_that_threaded_it(db, inbound, capsys):
    inbound(mail(message_id="<first@customer.test>", subject="Invoice wrong"))
    assert outcomes(capsys) == [("InboundMail", "new_ticket")]
    ticket = db.query_one("SELECT id, number FROM tickets")

    inbound(mail(message_id="<r1@customer.test>", subject="Re: Invoice", headers={"References": "<first@customer.test>"}))
    assert outcomes(capsys) == [("InboundMail", "references")]

    inbound(mail(message_id="<r2@customer.test>", subject=f"Re: [TKT-{ticket['number']}] Invoice", headers=SES_AUTHENTICATED))
    assert outcomes(capsys) == [("InboundMail", "subject_tag")]

    token = reply_address(ticket["id"], DOMAIN, SIGNING_KEYS)
    inbound(mail(frm="carol@other.test", message_id="<r3@other.test>", subject="hello", to=token), [token])
    assert outcomes(capsys) == [("InboundMail", "token")]

    inbound(mail(message_id="<r3@other.test>", frm="carol@other.test", subject="hello", to=token), [token])
    assert outcomes(capsys) == [("InboundMail", "duplicate")]


def test_a_quarantined_mail_is_counted_with_its_reason(db, inbound, capsys):
    inbound(mail(message_id="<ooo@customer.test>", subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    assert outcomes(capsys) == [("InboundMail", "quarantined"), ("MailQuarantined", "auto_reply_unmatched")]

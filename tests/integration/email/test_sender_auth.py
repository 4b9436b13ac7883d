"""Sender authentication (SES's SPF/DKIM/DMARC verdicts): a forged From cannot thread by the subject
tag or add to a closed/resolved ticket, DMARC rejections are quarantined unless allowlisted, and
colleagues at the support domain can be customers of an internal help desk."""
from __future__ import annotations

import pytest

from helpdesk.events.publisher import DeferredPublisher
from helpdesk.intake.email import EmailIntake
from helpdesk.outbound.tokens import reply_address
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor

from .conftest import DOMAIN, SES_AUTHENTICATED, SIGNING_KEYS, mail

SPOOFED = {"Authentication-Results": "amazonses.com; spf=softfail (spfCheck: domain of customer.test does not designate "
           "203.0.113.9 as permitted sender) client-ip=203.0.113.9; envelope-from=alice@customer.test; helo=evil.test; "
           "dkim=none; dmarc=none header.from=customer.test;"}
DMARC_REJECT = {"Authentication-Results": "amazonses.com; spf=fail envelope-from=alice@customer.test; dkim=fail "
                "header.i=@customer.test; dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=customer.test;"}


def _intake(db, clock, blobs, **kwargs) -> EmailIntake:
    return EmailIntake(db, clock, DeferredPublisher(), blobs, signing_keys=SIGNING_KEYS, support_domains={DOMAIN}, **kwargs)


def _tickets(db):
    return db.query("SELECT id, number, status FROM tickets ORDER BY number")


def test_a_forged_from_with_the_customers_tag_opens_a_ticket_of_its_own(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    out = intake.receive(mail(message_id="<forged@evil.test>", subject="Re: [TKT-1] Printer on fire", headers=SPOOFED),
                         envelope_recipients=[], raw_key="k2")
    assert out.action == "created" and out.ticket_id != first.ticket_id
    meta = db.query_one("SELECT metadata FROM ticket_messages WHERE inbound_message_id = 'forged@evil.test'")["metadata"]
    assert meta["unverified_match_of"] == str(first.ticket_id)
    # the same reply from the authenticated customer threads by its tag
    real = intake.receive(mail(message_id="<real@customer.test>", subject="Re: [TKT-1] Printer on fire",
                               headers=SES_AUTHENTICATED), envelope_recipients=[], raw_key="k3")
    assert real.action == "threaded" and real.layer == "subject_tag" and real.ticket_id == first.ticket_id


def test_a_forged_from_can_be_quarantined_as_unverified_sender(db, clock, blobs):
    intake = _intake(db, clock, blobs, unverified_sender="quarantine")
    intake.receive(mail(), envelope_recipients=[], raw_key="k")
    out = intake.receive(mail(message_id="<forged@evil.test>", subject="[TKT-1] reopen please"), envelope_recipients=[],
                         raw_key="k2")
    assert out.action == "quarantined" and out.classification == "unverified_sender"
    assert len(_tickets(db)) == 1
    with pytest.raises(ValueError, match="unverified_sender must be one of new_ticket, quarantine"):
        _intake(db, clock, blobs, unverified_sender="drop")


def _settle(db, clock, agent_id, ticket_id, status: str) -> None:
    """Work a ticket to resolved or closed the way agents do."""
    commands, agent = TicketCommands(db, clock), Actor(type="agent", id=agent_id, role="agent")
    commands.assign(ticket_id, agent, agent_id=agent_id)
    for step in ("in_progress", "resolved", "closed")[:2 if status == "resolved" else 3]:
        commands.transition(ticket_id, step, agent)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_only_an_authenticated_sender_or_the_signed_address_adds_to_a_settled_ticket(db, clock, intake, factories,
                                                                                      status):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    _settle(db, clock, factories.agent().id, first.ticket_id, status)
    forged = intake.receive(mail(message_id="<f@evil.test>", headers={"In-Reply-To": "<m1@customer.test>", **SPOOFED}),
                            envelope_recipients=[], raw_key="k2")
    assert forged.action == "created" and forged.ticket_id != first.ticket_id
    assert _tickets(db)[0]["status"] == status, "the settled ticket was not reopened"
    token = reply_address(first.ticket_id, DOMAIN, SIGNING_KEYS)
    by_token = intake.receive(mail(message_id="<t@customer.test>", to=token), envelope_recipients=[token], raw_key="k3")
    assert by_token.layer == "token"


def test_an_open_ticket_still_threads_by_references_without_authentication(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    out = intake.receive(mail(message_id="<r@customer.test>", headers={"In-Reply-To": "<m1@customer.test>"}),
                         envelope_recipients=[], raw_key="k2")
    assert out.action == "threaded" and out.ticket_id == first.ticket_id


def test_a_dmarc_rejection_is_quarantined_unless_the_domain_is_allowlisted(db, clock, blobs, intake):
    out = intake.receive(mail(headers=DMARC_REJECT), envelope_recipients=[], raw_key="k")
    assert out.action == "quarantined" and out.classification == "dmarc_fail"
    assert "p=reject" in out.reason and _tickets(db) == []
    allowing = _intake(db, clock, blobs, dmarc_allowlist=("customer.test",))
    assert allowing.receive(mail(message_id="<m9@customer.test>", headers=DMARC_REJECT), envelope_recipients=[],
                            raw_key="k2").action == "created"


def test_colleagues_at_the_support_domain_are_customers_when_the_setting_says_so(db, clock, blobs, intake, factories):
    colleague = mail(frm=f"dana@{DOMAIN}", message_id="<c1@helpdesk.test>")
    assert intake.receive(colleague, envelope_recipients=[], raw_key="k").action == "quarantined"  # default: ours
    internal = _intake(db, clock, blobs, support_domain_customers=True)
    out = internal.receive(mail(frm=f"dana@{DOMAIN}", message_id="<c2@helpdesk.test>"), envelope_recipients=[], raw_key="k2")
    assert out.action == "created"
    # our own addresses stay guarded: the default support address, a team's address, the loop header
    assert internal.receive(mail(frm=f"support@{DOMAIN}", message_id="<c3@helpdesk.test>"), envelope_recipients=[],
                            raw_key="k3").action == "quarantined"
    factories.team("Billing", email=f"billing@{DOMAIN}")
    assert internal.receive(mail(frm=f"billing@{DOMAIN}", message_id="<c4@helpdesk.test>"), envelope_recipients=[],
                            raw_key="k4").action == "dropped"
    assert internal.receive(mail(frm=f"dana@{DOMAIN}", message_id="<c5@helpdesk.test>", headers={"X-Helpdesk-Loop": "1"}),
                            envelope_recipients=[], raw_key="k5").action == "dropped"
    assert len(_tickets(db)) == 1


def test_through_the_local_smtp_front_verdicts_are_stamped_and_a_test_senders_kept(db, inbound, smtp_front):
    assert inbound(smtp_front(mail())) == {"batchItemFailures": []}
    # the front stamps SES's passing verdicts: the customer's tagged reply threads
    tagged = smtp_front(mail(message_id="<r1@customer.test>", subject="Re: [TKT-1] Printer on fire", body="More."))
    assert inbound(tagged) == {"batchItemFailures": []}
    assert len(_tickets(db)) == 1
    # a test sender's failing verdicts are kept (dev only): a DMARC rejection goes to quarantine
    assert inbound(smtp_front(mail(message_id="<r2@customer.test>", headers=DMARC_REJECT))) == {"batchItemFailures": []}
    [row] = db.query("SELECT reason FROM email_quarantine")
    assert row["reason"] == "dmarc_fail"
    # and a forged tag with SPF/DKIM failing opens a ticket of its own
    forged = smtp_front(mail(message_id="<f@evil.test>", subject="Re: [TKT-1] Printer on fire", headers=SPOOFED))
    assert inbound(forged) == {"batchItemFailures": []}
    assert len(_tickets(db)) == 2

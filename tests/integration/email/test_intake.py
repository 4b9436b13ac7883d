"""EmailIntake against the real PostgreSQL: threading layers, dedupe, classification, corpora."""
from __future__ import annotations

import json

import pytest

from helpdesk.auth.signing import Keyring
from helpdesk.intake.email.service import list_quarantine
from helpdesk.outbound.tokens import reply_address
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from tests.factories import FACTORY

from .conftest import DOMAIN, SES_AUTHENTICATED, SIGNING_KEYS, mail


def _messages(db, ticket_id):
    # Not SELECT *: the Data API refuses the search_tsv (tsvector) column, on Aurora as here.
    return db.query("SELECT body, inbound_message_id, author_type, visibility FROM ticket_messages "
                    "WHERE ticket_id = :t::uuid ORDER BY position", {"t": ticket_id})


def test_new_mail_creates_a_ticket_in_two_calls(db, intake):
    # routing loads its rules once per process (cached): warm it, then count a steady-state mail
    intake.receive(mail(message_id="<warm@c>", frm="warm@customer.test"), envelope_recipients=[], raw_key="w")
    db.stats.calls = 0
    out = intake.receive(mail(), envelope_recipients=["support@helpdesk.test"], raw_key="inbound/1")
    assert out.action == "created"
    assert db.stats.calls == 2
    ticket = db.query_one("SELECT subject, channel FROM tickets WHERE id = :t::uuid", {"t": out.ticket_id})
    assert ticket["subject"] == "Printer on fire" and ticket["channel"] == "email"
    [msg] = _messages(db, out.ticket_id)
    assert msg["body"] == "It is on fire." and msg["inbound_message_id"] == "m1@customer.test"


def test_new_mail_under_a_business_hours_policy_is_two_calls_with_its_deadlines(db, intake, clock):
    """The threading lookup + the create, which writes the business-time SLA deadlines itself (no follow-up)."""
    from helpdesk.sla import cache as sla_cache
    from helpdesk.sla.policies import SlaPolicies
    from helpdesk.sla.schedule_store import Schedules

    hours = {"timezone": "America/New_York", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
    schedule = Schedules(db, clock).create({"name": "new-york", "document": hours}, by=FACTORY)
    SlaPolicies(db, clock).create({"name": "business", "schedule_id": schedule["id"], "targets": {
        "first_response": {"seconds": 4 * 3600}, "resolution": {"seconds": 48 * 3600}}}, by=FACTORY)
    intake.receive(mail(message_id="<warm@c>", frm="warm@customer.test"), envelope_recipients=[], raw_key="w")

    def counted(n: int):
        db.stats.calls = 0
        out = intake.receive(mail(message_id=f"<n{n}@c>", subject=f"Printer {n}"), envelope_recipients=[], raw_key=f"k{n}")
        calls = db.stats.calls
        assert out.action == "created"
        rows = db.query("SELECT kind, due_at, warn_at, recompute_from FROM sla_targets WHERE ticket_id = :t::uuid "
                        "ORDER BY kind", {"t": out.ticket_id})
        return calls, rows

    calls, predicted = counted(1)
    assert calls == 2
    assert [r["kind"] for r in predicted] == ["first_response", "resolution"]
    assert all(r["due_at"] and r["recompute_from"] is None for r in predicted)
    sla_cache.invalidate(db)  # today's path: pending clocks, then the follow-up computes them
    calls, reference = counted(2)
    assert calls == 3 and reference == predicted


def test_redelivery_is_a_no_op(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="inbound/1")
    again = intake.receive(mail(), envelope_recipients=[], raw_key="inbound/1")
    assert again.action == "duplicate" and again.ticket_id == first.ticket_id
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 1


def test_missing_message_id_gets_a_stable_synthetic_id(db, intake):
    raw = mail(message_id=None)
    first = intake.receive(raw, envelope_recipients=[], raw_key="k")
    again = intake.receive(raw, envelope_recipients=[], raw_key="k")
    assert first.message_id.endswith("@synthetic.helpdesk.invalid")
    assert again.action == "duplicate"
    other = intake.receive(mail(message_id=None, body="different"), envelope_recipients=[], raw_key="k2")
    assert other.action == "created" and other.message_id != first.message_id


def test_the_same_message_id_from_the_same_sender_is_the_same_mail(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    # resent from the outbox (a new Date), or a copy through an alias or list that added a footer
    resent = mail(body="It is on fire.\n\n-- \nSent through the team alias").replace(
        b"Mon, 02 Mar 2026 14:00:00", b"Mon, 02 Mar 2026 14:09:00")
    again = intake.receive(resent, envelope_recipients=[], raw_key="k2")
    assert again.action == "duplicate" and again.ticket_id == first.ticket_id
    assert len(db.query("SELECT id FROM tickets")) == 1


def test_a_reused_message_id_from_another_sender_is_kept_and_threaded_by_the_other_layers(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    other = intake.receive(mail(frm="bob@elsewhere.test", subject="Another thing", body="new"),
                           envelope_recipients=[], raw_key="k2")
    assert other.action == "created" and other.message_id.endswith("@synthetic.helpdesk.invalid")
    reply = intake.receive(mail(frm="bob@elsewhere.test", message_id="<b2@elsewhere.test>", body="more",
                                headers={"In-Reply-To": "<m1@customer.test>"}),
                           envelope_recipients=[], raw_key="k3")
    assert reply.action == "threaded" and reply.ticket_id == first.ticket_id


@pytest.mark.parametrize("layer", ["in_reply_to", "references", "token", "subject_tag"])
def test_threading_layers(db, intake, layer):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    number = db.query_one("SELECT number FROM tickets")["number"]
    headers, to, subject = {}, "support@helpdesk.test", "Re: something"
    if layer == "in_reply_to":
        headers["In-Reply-To"] = "<m1@customer.test>"
    elif layer == "references":
        headers["References"] = "<unknown@x> <m1@customer.test>"
    elif layer == "token":
        to = reply_address(first.ticket_id, DOMAIN, SIGNING_KEYS)
    else:
        subject = f"Re: [TKT-{number}] Printer on fire"
        headers.update(SES_AUTHENTICATED)  # the tag threads only mail SES authenticated
    db.stats.calls = 0
    out = intake.receive(mail(message_id="<m2@customer.test>", to=to, subject=subject, headers=headers, body="More."),
                         envelope_recipients=[to], raw_key="k2")
    assert out.action == "threaded" and out.ticket_id == first.ticket_id, out
    assert db.stats.calls <= 2
    assert [m["body"] for m in _messages(db, first.ticket_id)] == ["It is on fire.", "More."]


def test_subject_tag_from_a_stranger_opens_a_new_ticket(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    out = intake.receive(mail(frm="mallory@evil.test", message_id="<x@evil>", subject="Re: [TKT-1] hi"),
                         envelope_recipients=[], raw_key="k2")
    assert out.action == "created" and out.ticket_id != first.ticket_id


def test_forged_token_is_ignored(db, intake):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    forged = reply_address(first.ticket_id, DOMAIN, Keyring.single("wrong-key"))
    out = intake.receive(mail(frm="mallory@evil.test", message_id="<y@evil>", to=forged), envelope_recipients=[forged],
                         raw_key="k2")
    assert out.action == "created" and out.ticket_id != first.ticket_id


def test_loop_header_is_dropped_without_a_call(db, intake):
    out = intake.receive(mail(headers={"X-Helpdesk-Loop": "helpdesk.test"}), envelope_recipients=[], raw_key="k")
    assert out.action == "dropped" and db.stats.calls == 0


def close(cmds: TicketCommands, agent_id, ticket_id) -> None:
    """Work a ticket to closed the way agents do (assign, start, resolve, close)."""
    agent = Actor(type="agent", id=agent_id, role="agent")
    cmds.assign(ticket_id, agent, agent_id=agent_id)
    for status in ("in_progress", "resolved", "closed"):
        cmds.transition(ticket_id, status, agent)


def test_auto_reply_is_a_system_event_and_never_reopens(db, intake, clock, factories):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    cmds = TicketCommands(db, clock)
    close(cmds, factories.agent().id, first.ticket_id)
    out = intake.receive(mail(message_id="<ooo@customer.test>", subject="Out of office", body="I am away",
                              headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<m1@customer.test>"}),
                         envelope_recipients=[], raw_key="k2")
    assert out.action == "system_event" and out.ticket_id == first.ticket_id
    ticket = cmds.get_ticket(first.ticket_id).ticket
    assert ticket["status"] == "closed"
    last = _messages(db, first.ticket_id)[-1]
    assert last["author_type"] == "system" and last["visibility"] == "internal"


def test_the_customers_reply_reopening_a_closed_ticket_takes_back_its_resolution(db, intake, clock, factories):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    cmds = TicketCommands(db, clock)
    close(cmds, factories.agent().id, first.ticket_id)
    clock.advance(days=2)
    token = reply_address(first.ticket_id, DOMAIN, SIGNING_KEYS)
    out = intake.receive(mail(message_id="<again@customer.test>", to=token, subject="Re: Printer on fire",
                              body="It is on fire again."), envelope_recipients=[token], raw_key="k2")
    assert out.action == "threaded" and out.ticket_id == first.ticket_id
    ticket = cmds.get_ticket(first.ticket_id).ticket
    assert (ticket["status"], ticket["reopen_count"]) == ("in_progress", 1)
    assert (ticket["resolved_at"], ticket["closed_at"]) == (None, None)  # open again: neither solved nor closed


def test_auto_reply_without_a_ticket_never_creates_one(db, intake):
    out = intake.receive(mail(headers={"Precedence": "bulk"}), envelope_recipients=[], raw_key="k")
    assert out.action == "quarantined"
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 0
    assert list_quarantine(db)[0]["reason"] == "auto_reply_unmatched"


@pytest.mark.parametrize("header,reason", [("X-SES-Spam-Verdict", "spam"), ("X-SES-Virus-Verdict", "virus")])
def test_spam_and_virus_are_quarantined(db, intake, header, reason):
    out = intake.receive(mail(headers={header: "FAIL"}), envelope_recipients=[], raw_key="k")
    assert out.action == "quarantined"
    [row] = list_quarantine(db)
    assert row["reason"] == reason and row["raw_key"] == "k"
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 0


def test_sender_burst_limit(db, clock, blobs):
    from helpdesk.intake.email import EmailIntake

    from helpdesk.events.publisher import DeferredPublisher

    limited = EmailIntake(db, clock, DeferredPublisher(), blobs, signing_keys=SIGNING_KEYS, support_domains={DOMAIN},
                          burst_limit=3)
    outs = [limited.receive(mail(message_id=f"<b{i}@c>", body=f"n{i}"), envelope_recipients=[], raw_key="k").action
            for i in range(5)]
    assert outs == ["created"] * 3 + ["quarantined"] * 2


def test_unparseable_mail_is_kept(db, intake, monkeypatch):
    from helpdesk.intake.email import service

    def boom(raw):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(service, "parse_email", boom)
    out = intake.receive(b"\x00garbage", envelope_recipients=[], raw_key="inbound/bad")
    again = intake.receive(b"\x00garbage", envelope_recipients=[], raw_key="inbound/bad")
    assert out.action == "quarantined" and again.action == "quarantined"
    rows = list_quarantine(db)
    assert len(rows) == 1 and rows[0]["reason"] == "unparseable" and rows[0]["raw_key"] == "inbound/bad"


def test_heuristic_is_off_by_default_and_flags_when_on(db, clock, blobs, intake):
    from helpdesk.events.publisher import DeferredPublisher
    from helpdesk.intake.email import EmailIntake

    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    off = intake.receive(mail(message_id="<h1@c>", subject="RE: Printer on fire"), envelope_recipients=[], raw_key="k")
    assert off.action == "created" and off.layer is None
    on = EmailIntake(db, clock, DeferredPublisher(), blobs, signing_keys=SIGNING_KEYS, support_domains={DOMAIN},
                     heuristic=True)
    flagged = on.receive(mail(message_id="<h2@c>", subject="AW: Printer on fire"), envelope_recipients=[], raw_key="k")
    assert flagged.action == "created" and flagged.layer == "heuristic"
    row = db.query_one("SELECT possible_followup_of FROM tickets WHERE id = :t::uuid", {"t": flagged.ticket_id})
    assert str(row["possible_followup_of"]) in (str(first.ticket_id), str(off.ticket_id))


def test_closed_long_ago_opens_a_followup_ticket(db, intake, clock, factories):
    first = intake.receive(mail(), envelope_recipients=[], raw_key="k")
    close(TicketCommands(db, clock), factories.agent().id, first.ticket_id)
    clock.advance(days=8)
    out = intake.receive(mail(message_id="<late@c>", headers={"In-Reply-To": "<m1@customer.test>", **SES_AUTHENTICATED}),
                         envelope_recipients=[], raw_key="k")
    assert out.action == "followup_created" and out.ticket_id != first.ticket_id


# -- real-world mail ----------------------------------------------------------------------------
def _zammad_cases(corpora):
    return json.loads((corpora / "zammad_mail" / "expected.json").read_text())["cases"]


def test_zammad_corpus_through_the_intake(db, intake, blobs, corpora):
    for case in _zammad_cases(corpora):
        raw = (corpora / "zammad_mail" / case["raw"]).read_bytes()
        out = intake.receive(raw, envelope_recipients=["support@helpdesk.test"], raw_key=case["id"])
        if case["id"] == "mail097":  # mail096 without its (empty) Message-ID header: the same mail
            assert out.action == "duplicate", out
            continue
        assert out.action in ("created", "quarantined", "system_event"), (case["id"], out)
        expected = case["expected"]
        if out.action != "created":
            continue
        ticket = db.query_one("SELECT t.subject, c.email FROM tickets t JOIN customers c ON c.id = t.requester_id "
                              "WHERE t.id = :t::uuid", {"t": out.ticket_id})
        assert ticket["email"] == expected["from_email"].lower(), case["id"]
        assert ticket["subject"] == (" ".join(expected["subject"].split()) or "(no subject)"), case["id"]
        rows = db.query("SELECT filename, sha256, content_id, s3_key FROM attachments WHERE ticket_id = :t::uuid",
                        {"t": out.ticket_id})
        for att in case.get("expected_attachments", []):
            if att["zammad_alternative_copy"] or att["filename"] in ("file",):
                continue
            match = [r for r in rows if r["sha256"] == att["sha256"]]
            assert match, (case["id"], att["filename"], rows)
            assert blobs.objects[match[0]["s3_key"]]
    # a bounce from mailer-daemon and a ServiceNow bulk notification never became tickets
    n = db.query_one("SELECT count(*) AS n FROM tickets")["n"]
    assert n == len(_zammad_cases(corpora)) - 3


def test_chatwoot_bounce_with_empty_from(db, intake, corpora):
    raw = (corpora / "chatwoot_autoreply" / "bounced_with_no_from.eml").read_bytes()
    out = intake.receive(raw, envelope_recipients=[], raw_key="k")
    assert out.action == "quarantined" and out.classification == "auto_reply_unmatched"
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 0


def test_routes_by_recipient_address(db, intake):
    from helpdesk.routing.config import invalidate
    from helpdesk.routing.rules import RoutingRules

    team = db.query_one("INSERT INTO teams (name, email_address) VALUES ('Orders', 'orders@helpdesk.test') RETURNING id")
    RoutingRules(db).create({"name": "orders mailbox", "team_id": team["id"],
                             "conditions": {"recipients": ["orders@helpdesk.test"]}}, by=FACTORY)
    invalidate(db)
    routed = intake.receive(mail(to="orders@helpdesk.test"), envelope_recipients=["orders@helpdesk.test"], raw_key="k")
    other = intake.receive(mail(message_id="<other@c>"), envelope_recipients=["support@helpdesk.test"], raw_key="k2")
    team_of = lambda t: db.query_one("SELECT team_id FROM tickets WHERE id = :t::uuid", {"t": t})["team_id"]  # noqa: E731
    assert str(team_of(routed.ticket_id)) == str(team["id"])
    assert str(team_of(other.ticket_id)) != str(team["id"])


def test_admin_releases_a_quarantined_mail(db, intake):
    from helpdesk import errors

    raw = mail(headers={"X-SES-Spam-Verdict": "FAIL"})
    intake.receive(raw, envelope_recipients=[], raw_key="inbound/spam")
    [row] = list_quarantine(db)
    with pytest.raises(errors.ValidationFailed):
        intake.release(row["id"], mail(message_id="<other@x>"))
    out = intake.release(row["id"], raw)
    assert out.action == "created"
    assert list_quarantine(db) == [] and len(list_quarantine(db, include_released=True)) == 1
    with pytest.raises(errors.NotFound):
        intake.release(row["id"], raw)
    assert intake.receive(raw, envelope_recipients=[], raw_key="inbound/spam").action == "duplicate"


def test_a_release_that_fails_while_processing_leaves_the_mail_unreleased(db, intake, monkeypatch):
    raw = mail(headers={"X-SES-Spam-Verdict": "FAIL"})
    intake.receive(raw, envelope_recipients=[], raw_key="inbound/spam")
    [row] = list_quarantine(db)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-release")

    monkeypatch.setattr(intake, "_receive", broken)
    with pytest.raises(RuntimeError):
        intake.release(row["id"], raw)
    assert [r["id"] for r in list_quarantine(db)] == [row["id"]]  # still listed, unreleased
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 0
    monkeypatch.undo()
    assert intake.release(row["id"], raw).action == "created"  # the retry works
    assert list_quarantine(db) == []


def test_a_release_interrupted_after_processing_is_completed_by_the_retry(db, intake, monkeypatch):
    """Processed, then the mark failed: releasing again finds the mail already received and marks it."""
    from helpdesk.db import email as email_sql

    raw = mail(headers={"X-SES-Spam-Verdict": "FAIL"})
    intake.receive(raw, envelope_recipients=[], raw_key="inbound/spam")
    [row] = list_quarantine(db)
    monkeypatch.setattr(email_sql, "RELEASE_QUARANTINE", "SELECT pg_terminate_backend(-1) FROM nowhere_table")
    with pytest.raises(Exception):
        intake.release(row["id"], raw)
    monkeypatch.undo()
    [ticket] = db.query("SELECT id FROM tickets")
    assert [r["id"] for r in list_quarantine(db)] == [row["id"]]
    again = intake.release(row["id"], raw)
    assert again.action == "duplicate" and str(again.ticket_id) == str(ticket["id"])
    assert list_quarantine(db) == [] and db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 1


def test_a_released_mail_that_still_cannot_be_a_ticket_stays_listed(db, intake):
    raw = mail(frm="", headers={"X-SES-Spam-Verdict": "FAIL"}).replace(b"From: Alice <>\r\n", b"")
    intake.receive(raw, envelope_recipients=[], raw_key="inbound/spam")
    [row] = list_quarantine(db)
    out = intake.release(row["id"], raw)
    assert out.ticket_id is None and out.action == "quarantined"
    assert [r["id"] for r in list_quarantine(db)] == [row["id"]]


def test_heuristic_setting(db, clock, blobs, monkeypatch):
    from helpdesk.config import Settings
    from helpdesk.events.publisher import DeferredPublisher
    from helpdesk.intake.email import EmailIntake

    monkeypatch.delenv("HELPDESK_EMAIL_HEURISTIC", raising=False)
    assert EmailIntake.from_settings(db, clock, DeferredPublisher(), blobs, Settings()).heuristic is False
    monkeypatch.setenv("HELPDESK_EMAIL_HEURISTIC", "1")
    assert EmailIntake.from_settings(db, clock, DeferredPublisher(), blobs, Settings()).heuristic is True


def test_a_routing_rule_tags_a_mail_ticket_and_skill_routing_follows(db, intake, clock, factories):
    """The email channel's half of tests/integration/channels/test_rule_tags_every_channel.py."""
    from helpdesk.routing.rules import RoutingRules

    team = factories.team("desk", mode="push", is_default=True)
    factories.agent("generalist", teams=[team])
    speaker = factories.agent("speaker", teams=[team], skills=["spanish"])
    RoutingRules(db, clock).create({"name": "spanish", "team_id": str(team), "conditions": {"keywords": ["hola"]},
                                    "add_tags": ["spanish"]}, by=FACTORY)
    out = intake.receive(mail(subject="Pedido", body="Hola, mi pedido no ha llegado"),
                         envelope_recipients=["support@helpdesk.test"], raw_key="inbound/es")
    ticket = db.query_one("SELECT tags, assignee_id FROM tickets WHERE id = :t::uuid", {"t": out.ticket_id})
    assert ticket == {"tags": ["spanish"], "assignee_id": str(speaker.id)}

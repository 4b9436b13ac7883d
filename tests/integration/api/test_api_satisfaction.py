"""The customer's side of a resolve, through the API and the outbound sender (moto SES): the solved
mail's signed survey links, one-click rating, "it's not solved", "solved", the portal's same answers,
the rating on the ticket and the satisfaction report."""
from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest

from helpdesk import wiring
from helpdesk.auth.portal import sign_portal_token
from helpdesk.auth.survey import sign_survey_token
from helpdesk.config import get_settings
from helpdesk.outbound.email import OutboundEmail
from tests.integration.mail_world import DOMAIN, REGION, aws  # noqa: F401 (fixture)

SURVEY_LINK = re.compile(r"https?://[^\s\"<>]+/satisfaction\.html\?answer=([a-z_]+)#([A-Za-z0-9_.-]+)")


def sent_mails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    out = []
    for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
        out.append(message_from_bytes(raw, policy=policy.default))
    return out


def survey_links(mail: Any) -> dict[str, str]:
    """answer -> token, from the survey links of a mail's text part."""
    return {m.group(1): m.group(2) for m in SURVEY_LINK.finditer(mail.get_body(("plain",)).get_content())}


def as_queued(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox event as the outbound queue delivers it."""
    return {"id": str(row["id"]), "type": row["event_type"], "ticket_id": str(row["ticket_id"]),
            "occurred_at": str(row["occurred_at"]), "payload": row["payload"]}


@pytest.fixture
def sender(db, clock, aws):  # noqa: F811
    """The outbound sender as the outbound function wires it (the API's signing keys)."""
    settings = dataclasses.replace(get_settings(), support_domain=DOMAIN, region=REGION, ses_configuration_set="")
    return OutboundEmail(db, aws["ses"], settings, clock)


@pytest.fixture
def work(api, agent, publisher):
    """work(ticket=None, to=("in_progress", "resolved")) -> (ticket, the resolve's event as queued): an
    API ticket of carol@customer.test worked and resolved by the signed-in agent."""
    client, agent_id = agent

    def run(ticket: dict[str, Any] | None = None, to=("in_progress", "resolved")):
        if ticket is None:
            created = client.post("/api/v1/tickets", {"subject": "Printer on fire", "body": "Smoke everywhere.",
                                                      "requester_email": "carol@customer.test", "requester_name": "Carol"})
            assert created.status == 201, created.body
            ticket = created.body
            assert client.post(f"/api/v1/tickets/{ticket['id']}/assign", {"agent_id": str(agent_id)}).status == 200
        for status in to:
            moved = client.post(f"/api/v1/tickets/{ticket['id']}/status", {"status": status})
            assert moved.status == 200, moved.body
        resolves = [e for e in publisher.published if e["event_type"] == "ticket.status_changed"
                    and e["payload"]["to"] == "resolved" and str(e["ticket_id"]) == ticket["id"]]
        return ticket, as_queued(resolves[-1])

    return run


def _status(db, ticket_id: str) -> str:
    return db.query_one("SELECT status FROM tickets WHERE id = :id::uuid", {"id": ticket_id})["status"]


def test_resolve_mails_once_with_signed_survey_links_and_the_rating_lands_on_the_ticket(api, agent, db, sender, work):
    ticket, event = work()
    db.stats.calls = 0
    outcome = sender.send(event)
    assert outcome.action == "sent" and db.stats.calls == 2  # claim (with the survey offer), record
    assert sender.send(event).action == "already_sent"  # the queue redelivers: still one mail
    [mail] = sent_mails()
    assert mail["To"] == "Carol <carol@customer.test>" and f"[TKT-{ticket['number']}]" in mail["Subject"]
    assert mail["Auto-Submitted"] == "auto-replied"
    text = mail.get_body(("plain",)).get_content()
    assert "We have solved your request" in text and "/portal.html#" in text
    links = survey_links(mail)
    assert set(links) == {"good", "bad", "not_solved"} and len(set(links.values())) == 1
    html = mail.get_body(("html",)).get_content()
    assert 'satisfaction.html?answer=good#' in html and "Good, I'm satisfied" in html

    token = links["good"]
    page = api.get(f"/api/v1/public/satisfaction/{token}")  # opening the link changes nothing
    assert page.status == 200 and page.body["rating"] is None and page.body["can_rate"] is True
    assert page.body["ref"] == f"TKT-{ticket['number']}" and page.body["status_label"] == "Solved"
    assert db.query_one("SELECT count(*) AS n FROM ticket_satisfaction WHERE rating IS NOT NULL")["n"] == 0

    db.stats.calls = 0
    first = api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "good"})
    assert first.status == 200 and first.body["rating"] == "good" and db.stats.calls == 1
    again = api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "good"})  # clicked twice
    assert again.status == 200 and again.body["rated_at"] == first.body["rated_at"]
    commented = api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "good", "comment": "Fast, thanks!"})
    assert commented.body["comment"] == "Fast, thanks!"

    client, _ = agent
    seen = client.get(f"/api/v1/tickets/{ticket['id']}").body["satisfaction"]
    assert seen["rating"] == "good" and seen["comment"] == "Fast, thanks!" and seen["offered_at"]
    assert db.query_one("SELECT count(*) AS n FROM ticket_satisfaction")["n"] == 1


def test_a_link_is_bound_to_its_ticket_and_its_resolve(api, db, sender, work):
    first, event = work()
    sender.send(event)
    token = survey_links(sent_mails()[0])["bad"]
    other, other_event = work()
    sender.send(other_event)
    # A token names its ticket inside the signature: editing it breaks the signature.
    key_id, expires, payload, mac = token.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "AB")
    forged = api.post(f"/api/v1/public/satisfaction/{key_id}.{expires}.{forged_payload}.{mac}/rating", {"rating": "bad"})
    assert forged.status == 403 and forged.body["code"] == "link_bad_signature"
    # A portal token (another purpose) is not a survey token.
    portal = sign_portal_token(first["id"], get_settings().signing_keys, wiring.clock().now())
    assert api.post(f"/api/v1/public/satisfaction/{portal}/rating", {"rating": "bad"}).status == 403
    assert api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "bad"}).status == 200
    ratings = {r["ticket_id"]: r["rating"] for r in db.query("SELECT ticket_id::text, rating FROM ticket_satisfaction")}
    assert ratings == {first["id"]: "bad", other["id"]: None}

    # Reopened and solved again: the old link cannot rate the new resolve.
    assert api.post(f"/api/v1/public/satisfaction/{token}/not-solved", {}).status == 200
    _, again = work(first, to=("resolved",))
    sender.send(again)
    stale = api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "good"})
    assert stale.status == 410 and "earlier" in stale.body["detail"]
    fresh = survey_links(sent_mails()[-1])["good"]
    assert fresh != token and api.post(f"/api/v1/public/satisfaction/{fresh}/rating", {"rating": "good"}).status == 200
    assert [r["rating"] for r in db.query("SELECT rating FROM ticket_satisfaction WHERE ticket_id = :id::uuid "
                                          "ORDER BY offered_at", {"id": first["id"]})] == ["bad", "good"]


def test_a_resolve_undone_and_done_again_before_its_mail_went_out_mails_once(api, db, clock, sender, work):
    """Resolved, reopened by the agent and resolved again before the outbound queue got to the first
    resolve: only the resolve that stands is mailed and offered a survey (the queue may deliver them in
    either order)."""
    ticket, earlier = work()
    clock.advance(minutes=5)
    _, later = work(ticket, to=("in_progress", "resolved"))
    assert sender.send(later).action == "sent"
    skipped = sender.send(earlier)
    assert skipped.action == "skipped" and "a later resolve" in skipped.reason
    assert len(sent_mails()) == 1
    offers = db.query("SELECT offer_id::text FROM ticket_satisfaction WHERE ticket_id = :id::uuid", {"id": ticket["id"]})
    assert offers == [{"offer_id": later["id"]}]


def test_bad_answers_are_refused_and_change_nothing(api, db, sender, work):
    ticket, event = work()
    sender.send(event)
    token = survey_links(sent_mails()[0])["good"]
    for body in ({"rating": "meh"}, {}, {"rating": "good", "comment": "x" * 5001}, {"rating": "good", "extra": 1}):
        answer = api.post(f"/api/v1/public/satisfaction/{token}/rating", body)
        assert answer.status == 422, (body, answer.body)
    assert api.post("/api/v1/public/satisfaction/not-a-token/rating", {"rating": "good"}).status == 403
    expired = sign_survey_token(ticket["id"], event["id"], get_settings().signing_keys,
                                wiring.clock().now() - timedelta(days=29))
    assert api.post(f"/api/v1/public/satisfaction/{expired}/rating", {"rating": "good"}).status == 410
    assert db.query_one("SELECT count(*) AS n FROM ticket_satisfaction WHERE rating IS NOT NULL")["n"] == 0


def test_not_solved_reopens_with_the_customers_words_once(api, db, sender, work, publisher):
    ticket, event = work()
    sender.send(event)
    token = survey_links(sent_mails()[0])["not_solved"]
    answer = api.post(f"/api/v1/public/satisfaction/{token}/not-solved", {"comment": "Still smoking."})
    assert answer.status == 200 and answer.body["reopened"] is True and answer.body["status"] == "in_progress"
    assert answer.body["status_label"] == "Open"
    twice = api.post(f"/api/v1/public/satisfaction/{token}/not-solved", {"comment": "Still smoking."})
    assert twice.status == 200 and twice.body["reopened"] is False
    bodies = [r["body"] for r in db.query("SELECT body FROM ticket_messages WHERE ticket_id = :id::uuid AND "
                                          "author_type = 'customer' ORDER BY position", {"id": ticket["id"]})]
    assert bodies == ["Smoke everywhere.", "Still smoking."]
    # Rating is for solved tickets only: while it is open again the survey refuses, naming why.
    refused = api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "bad"})
    assert refused.status == 409 and "open again" in refused.body["detail"]


def test_not_solved_without_words_on_a_closed_ticket_reopens_it(api, db, sender, work):
    ticket, event = work(to=("in_progress", "resolved", "closed"))
    sender.send(event)  # closed before the mail went out: no solved mail for a resolve already over
    assert sent_mails() == []
    token = sign_survey_token(ticket["id"], event["id"], get_settings().signing_keys, wiring.clock().now())
    answer = api.post(f"/api/v1/public/satisfaction/{token}/not-solved", {})
    assert answer.status == 200 and answer.body["reopened"] is True
    assert _status(db, ticket["id"]) in ("in_progress", "reopened", "assigned")
    assert db.query_one("SELECT body FROM ticket_messages WHERE ticket_id = :id::uuid ORDER BY position DESC LIMIT 1",
                        {"id": ticket["id"]})["body"] == "It's not solved."
    # open again, so no longer solved nor closed: the survey page the link opens says so
    page = api.get(f"/api/v1/public/satisfaction/{token}").body
    assert (page["status_label"], page["resolved_at"], page["closed_at"]) == ("Open", None, None)


def test_solved_closes_at_once_and_twice_is_harmless(api, db, sender, work):
    ticket, event = work()
    sender.send(event)
    token = survey_links(sent_mails()[0])["good"]
    answer = api.post(f"/api/v1/public/satisfaction/{token}/solved")
    assert answer.status == 200 and answer.body["status"] == "closed" and _status(db, ticket["id"]) == "closed"
    assert api.post(f"/api/v1/public/satisfaction/{token}/solved").body["status"] == "closed"
    audit = db.query_one("SELECT actor_type, to_status FROM ticket_audit WHERE ticket_id = :id::uuid "
                         "ORDER BY id DESC LIMIT 1", {"id": ticket["id"]})
    assert audit == {"actor_type": "customer", "to_status": "closed"}
    # A closed ticket can still be rated (the survey outlives the close).
    assert api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": "good"}).status == 200


def test_solved_is_refused_while_the_ticket_is_open(api, db, work):
    client_ticket, event = work()
    token = sign_survey_token(client_ticket["id"], event["id"], get_settings().signing_keys, wiring.clock().now())
    assert api.post(f"/api/v1/public/satisfaction/{token}/not-solved", {"comment": "no"}).status == 200
    refused = api.post(f"/api/v1/public/satisfaction/{token}/solved")
    assert refused.status == 409 and "nothing to confirm" in refused.body["detail"]
    assert _status(db, client_ticket["id"]) == "in_progress"


def test_portal_offers_the_same_answers(api, db, work):
    ticket, _ = work()  # no solved mail sent (e.g. the sender is behind): the portal still asks
    token = sign_portal_token(ticket["id"], get_settings().signing_keys, wiring.clock().now())
    view = api.get(f"/api/v1/portal/{token}")
    assert view.body["status_label"] == "Solved" and view.body["can_rate"] is True and view.body["satisfaction"] is None
    rated = api.post(f"/api/v1/portal/{token}/rating", {"rating": "bad", "comment": "Took a week."})
    assert rated.status == 200 and rated.body["rating"] == "bad"
    assert api.get(f"/api/v1/portal/{token}").body["satisfaction"]["comment"] == "Took a week."
    closed = api.post(f"/api/v1/portal/{token}/solved")
    assert closed.status == 200 and closed.body["status_label"] == "Closed"
    reopened = api.post(f"/api/v1/portal/{token}/not-solved", {"comment": "It broke again."})
    assert reopened.status == 200 and reopened.body["reopened"] is True
    assert api.get(f"/api/v1/portal/{token}").body["status_label"] == "Open"


def test_report_rating_rate_and_score_by_team_and_agent(api, agent, admin, db, sender, work, make_team, clock):
    client, agent_id = agent
    team = make_team("billing")
    tickets = []
    for i in range(4):
        created = client.post("/api/v1/tickets", {"subject": f"t{i}", "body": "b", "requester_email": f"c{i}@customer.test",
                                                  "team_id": str(team)})
        assert client.post(f"/api/v1/tickets/{created.body['id']}/assign", {"agent_id": str(agent_id)}).status == 200
        tickets.append(work(created.body))
    for ticket, event in tickets:
        assert sender.send(event).action == "sent"
    mails = sent_mails()
    answers = [("good", None), ("good", "Great"), ("bad", "Slow")]  # the fourth never answers
    for mail, (rating, comment) in zip(mails, answers):
        token = survey_links(mail)["good"]
        assert api.post(f"/api/v1/public/satisfaction/{token}/rating", {"rating": rating, "comment": comment}).status == 200

    lead, _ = admin
    since, until = (clock.now() - timedelta(days=1)).isoformat(), (clock.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/reports/satisfaction", query={"since": since, "until": until}).status == 403  # agents: no
    db.stats.calls = 0
    report = lead.get("/api/v1/reports/satisfaction", query={"since": since, "until": until})
    assert report.status == 200, report.body
    body = report.body
    assert (body["offered"], body["rated"], body["good"], body["bad"]) == (4, 3, 2, 1)
    assert body["rating_rate"] == 0.75 and body["score"] == round(2 / 3, 4)
    [by_team] = body["teams"]
    assert by_team["team_id"] == str(team) and by_team["team_name"].startswith("billing") and by_team["score"] == round(2 / 3, 4)
    [by_agent] = body["agents"]
    assert by_agent["agent_id"] == str(agent_id) and by_agent["rated"] == 3
    assert sorted(c["comment"] for c in body["comments"]) == ["Great", "Slow"]
    assert all(c["number"] and c["rating"] for c in body["comments"])
    assert db.stats.calls == 2  # who is calling, the report
    other = lead.get("/api/v1/reports/satisfaction", query={"since": since, "until": until, "team": str(uuid.uuid4())})
    assert other.body["offered"] == 0 and other.body["rating_rate"] is None
    assert lead.get("/api/v1/reports/satisfaction", query={"since": until, "until": since}).status == 422


def test_the_list_of_all_my_requests_is_mailed_to_the_customers_address(api, agent, db, sender, publisher, work):
    first, _ = work()
    second, _ = work()
    client, _ = agent
    # another customer's ticket never shows in the list
    client.post("/api/v1/tickets", {"subject": "Not Carol's", "body": "b", "requester_email": "dave@customer.test"})
    token = sign_portal_token(first["id"], get_settings().signing_keys, wiring.clock().now())
    db.stats.calls = 0
    asked = api.post(f"/api/v1/portal/{token}/requests-link")
    assert asked.status == 202 and db.stats.calls == 3  # rate limit, the event, marking it published
    assert "carol" not in str(asked.body)  # the answer shows no list: the mailbox gets it
    [event] = [e for e in publisher.published if e["event_type"] == "customer.requests_link"]
    assert db.query_one("SELECT published_at FROM outbox WHERE id = :id::uuid", {"id": str(event["id"])})["published_at"]
    db.stats.calls = 0
    assert sender.send(as_queued(event)).action == "sent" and db.stats.calls == 2
    assert sender.send(as_queued(event)).action == "already_sent"
    [mail] = [m for m in sent_mails() if "requests" in m["Subject"]]
    assert mail["To"] == "Carol <carol@customer.test>"
    link = re.search(r"/requests\.html#(\S+)", mail.get_body(("plain",)).get_content()).group(1)

    db.stats.calls = 0
    listed = api.get(f"/api/v1/public/customer-requests/{link}")
    assert listed.status == 200 and db.stats.calls == 1
    assert sorted(i["ref"] for i in listed.body["items"]) == sorted([f"TKT-{first['number']}", f"TKT-{second['number']}"])
    assert {i["status_label"] for i in listed.body["items"]} == {"Solved"}
    opened = api.get("/api/v1/portal/" + listed.body["items"][0]["portal_url"].split("#", 1)[1])
    assert opened.status == 200 and opened.body["ref"] == listed.body["items"][0]["ref"]
    # A portal token is not a requests link, and the request is rate-limited per ticket.
    assert api.get(f"/api/v1/public/customer-requests/{token}").status == 403
    answers = [api.post(f"/api/v1/portal/{token}/requests-link").status for _ in range(3)]
    assert answers == [202, 202, 429]

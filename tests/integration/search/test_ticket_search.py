"""Ticket search over the ticket-level documents (migration 1000): kept in step by triggers on
create, reply, merge and subject change; candidates bounded to the most recent CANDIDATES."""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.search import CANDIDATES, search_tickets
from helpdesk.tickets.commands import TicketCommands
from helpdesk.tickets.models import Actor
from helpdesk.views import Filters

AGENT = Actor(type="agent", id=uuid.UUID(int=7), role="agent")
CUSTOMER = Actor(type="customer")


@pytest.fixture
def cmds(db, clock):
    return TicketCommands(db, clock)


def create(cmds, subject: str, body: str, **kw):
    return cmds.create_ticket({"channel": "email", "subject": subject, "body": body,
                               "requester_email": "ann@example.com", **kw}).ticket


def ids(found) -> list[str]:
    return [t["id"] for t in found.items]


def test_words_may_come_from_subject_and_different_messages(db, cmds):
    ticket = create(cmds, "Refund request", "The parcel never came.")
    create(cmds, "Other", "Password reset please.")
    reply = cmds.add_message(ticket.id, {"body": "Also my password expired.", "author_type": "customer",
                                         "visibility": "public"}, CUSTOMER)
    db.stats.calls = 0
    found = search_tickets(db, "refund password")
    assert db.stats.calls == 1
    assert ids(found) == [str(ticket.id)]
    hit = found.items[0]
    assert hit["matched_message_id"] == str(reply.message.id)  # the best single-message match
    assert any(p["match"] for p in hit["snippet_parts"]) and "<b>" not in hit["snippet"]
    assert found.ranked_among == 1 and found.more_matches is False


def test_reply_subject_change_and_merge_keep_documents_current(db, cmds):
    source = create(cmds, "Printer jam", "Paper stuck in tray two.")
    target = create(cmds, "Scanner issue", "Scanner shows a blank page.")
    assert search_tickets(db, "zebra").items == []
    cmds.add_message(target.id, {"body": "The zebra label printer too.", "author_type": "customer",
                                 "visibility": "public"}, CUSTOMER)
    assert ids(search_tickets(db, "zebra")) == [str(target.id)]

    db.execute("UPDATE tickets SET subject = 'Toner empty' WHERE id = :id::uuid", {"id": source.id})
    assert ids(search_tickets(db, "toner")) == [str(source.id)]
    assert search_tickets(db, "jam").items == []  # the old subject is gone...
    assert ids(search_tickets(db, "tray")) == [str(source.id)]  # ...the body part is kept

    cmds.merge(source.id, target.id, AGENT)
    # The moved message is now part of the target's document; the merged source is never returned.
    assert ids(search_tickets(db, "tray")) == [str(target.id)]
    assert ids(search_tickets(db, "toner")) == []


def test_subject_outranks_body_and_filters_apply(db, cmds):
    body_hit = create(cmds, "Question", "I need an invoice copy.")
    subject_hit = create(cmds, "Invoice missing", "Please send it.")
    found = search_tickets(db, "invoices")  # stemmed
    assert ids(found) == [str(subject_hit.id), str(body_hit.id)]
    assert found.items[0]["rank"] > found.items[1]["rank"]
    cmds.transition(body_hit.id, "spam", AGENT)
    assert ids(search_tickets(db, "invoice", Filters(statuses=("spam",)))) == [str(body_hit.id)]
    assert ids(search_tickets(db, "invoice", Filters(statuses=("new", "open_unused")))) == [str(subject_hit.id)]
    assert search_tickets(db, "invoice", Filters(team_id=uuid.uuid4())).items == []


def test_common_word_ranks_only_the_most_recent_candidates_and_says_so(db, cmds, clock):
    old_best = create(cmds, "Battery battery battery", "battery battery")
    # CANDIDATES + 5 newer tickets that mention the word once, set-based (the triggers index them).
    db.execute("""
        WITH c AS (SELECT requester_id FROM tickets LIMIT 1),
        t AS (
            INSERT INTO tickets (id, subject, channel, requester_id, created_at, updated_at)
            SELECT gen_random_uuid(), 'Bulk ' || g, 'email', c.requester_id,
                   :at::timestamptz + g * interval '1 second', :at::timestamptz + g * interval '1 second'
            FROM generate_series(1, :n) g, c RETURNING id, created_at
        )
        INSERT INTO ticket_messages (ticket_id, author_type, visibility, channel, body, created_at)
        SELECT id, 'system', 'public', 'system', 'The battery is flat.', created_at FROM t
    """, {"at": clock.now(), "n": CANDIDATES + 5})
    found = search_tickets(db, "battery", limit=50)
    assert found.ranked_among == CANDIDATES and found.more_matches is True
    assert len(found.items) == 50 and str(old_best.id) not in ids(found)
    # Narrowing the words reaches it: it is the only ticket with the word in its subject.
    narrowed = search_tickets(db, "battery", Filters(statuses=("new",)), limit=50)
    assert narrowed.more_matches is True
    assert ids(search_tickets(db, "battery -flat")) == [str(old_best.id)]


def test_long_threads_have_a_bounded_document(db, cmds):
    # Every reply rewrites the ticket's document: past 128 kB later messages add only new words (no
    # positions), past 256 kB nothing, so a reply to a huge thread stays cheap and never overflows
    # the 1 MB tsvector limit.
    rows = db.query("""
        WITH doc AS (SELECT n, to_tsvector('simple', string_agg('w' || g, ' ')) AS v
                     FROM (VALUES (5000), (12000), (20000)) s(n), generate_series(1, s.n) g GROUP BY n),
             more AS (SELECT to_tsvector('simple', string_agg('x' || g, ' ')) AS v FROM generate_series(1, 3000) g),
             grown AS (SELECT n, doc.v AS before, more.v AS more, ticket_search_doc_append(doc.v, more.v) AS after
                       FROM doc, more)
        SELECT n, ticket_search_doc_size(before) AS before, length(after) - length(before) AS added,
               pg_column_size(after) - pg_column_size(before) AS grew, pg_column_size(strip(more)) AS stripped,
               after @@ 'x2999'::tsquery AS found
        FROM grown ORDER BY n""")
    small, large, full = rows
    assert small["before"] < 128_000 and small["added"] == 3000 and small["grew"] > small["stripped"] and small["found"]
    assert 128_000 < large["before"] < 256_000 and large["added"] == 3000 and large["grew"] <= large["stripped"]
    assert full["before"] > 256_000 and full["added"] == 0 and full["grew"] == 0 and not full["found"]

    # A full document is not rewritten by a reply (same row version), a roomy one is.
    ticket = create(cmds, "Long thread", "first")
    version = "SELECT xmin::text AS v FROM ticket_search_docs WHERE ticket_id = :t::uuid"
    before = db.query_one(version, {"t": ticket.id})["v"]
    cmds.add_message(ticket.id, {"body": "second", "author_type": "customer", "visibility": "public"}, CUSTOMER)
    grown = db.query_one(version, {"t": ticket.id})["v"]
    assert grown != before
    db.execute("""UPDATE ticket_search_docs SET doc = (SELECT to_tsvector('simple', string_agg('w' || g, ' '))
                                                      FROM generate_series(1, 20000) g)
                  WHERE ticket_id = :t::uuid""", {"t": ticket.id})
    full_version = db.query_one(version, {"t": ticket.id})["v"]
    cmds.add_message(ticket.id, {"body": "third zebra", "author_type": "customer", "visibility": "public"}, CUSTOMER)
    assert db.query_one(version, {"t": ticket.id})["v"] == full_version
    assert search_tickets(db, "zebra").items == []  # the documented trade-off


def test_bad_input_is_a_clear_error(db):
    with pytest.raises(errors.ValidationFailed, match="blank"):
        search_tickets(db, "   ")
    with pytest.raises(errors.ValidationFailed, match="limit"):
        search_tickets(db, "x", limit=51)
    assert search_tickets(db, '"unbalanced or (&|!').items == []


def test_a_prepared_search_is_always_planned_for_its_words(db, cmds, database_uri):
    # A driver that prepares the statement (the local Data API does after 5 runs) must not get a
    # generic plan: planned without the words, it would walk or GIN-scan whatever the frequency.
    import re

    import psycopg

    from helpdesk.db import search as search_sql

    create(cmds, "Invoice", "refund")
    sql = re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", search_sql.SEARCH_TICKETS)
    with psycopg.connect(database_uri, autocommit=True) as conn:
        for i in range(12):
            conn.execute(sql, {"q": "invoice" if i % 2 else f"order {i}", "limit": 20, "statuses": None,
                               "team_id": None, "assignee_mode": "any", "assignee_id": None, "tag": None,
                               "email_prefix": None, "viewer": None}, prepare=True).fetchall()
        plans = conn.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements").fetchall()
    assert plans == [(0, 12)]


def test_a_rebuild_writes_the_documents_the_triggers_keep(db, cmds):
    """ticket_search_docs_rebuild (bulk loads, repairs) and the triggers agree document for document.
    (After a merge they may not: the triggers append the moved messages to the target's end and leave
    the merged ticket's words, which search never returns; a rebuild orders by position.)"""
    first = create(cmds, "Refund request", "The parcel never came.")
    second = create(cmds, "Printer label", "Labels print blank.")
    for n in range(3):
        cmds.add_message(first.id, {"body": f"Reply {n}: still no refund for order {1000 + n}.",
                                    "author_type": "customer", "visibility": "public"}, CUSTOMER)
    documents = "SELECT ticket_id::text AS id, doc::text AS doc FROM ticket_search_docs ORDER BY ticket_id"
    kept = db.query(documents)
    assert len(kept) == 2 and all(row["doc"] for row in kept)

    db.execute("UPDATE ticket_search_docs SET doc = ''::tsvector")  # damaged, as after an import without triggers
    rebuilt = db.query_one("SELECT ticket_search_docs_rebuild() AS n")
    assert rebuilt["n"] == 2
    assert db.query(documents) == kept

"""Full-text search SQL over the ticket-level documents of 1000_ticket_search_docs.sql.

Semantics (documented in the API too):
- A ticket matches when its document (subject + every message body, internal notes included)
  matches the websearch-style query ("phrases", -excluded, or).
- Candidates are the CANDIDATES most recently updated matching tickets that pass the filters;
  they are ranked by ts_rank (a subject word weighs 1.0, a body word 0.1), ties newest first.
  When more tickets match, the response says so (`found` > CANDIDATES, exposed as ranked_among /
  more_matches): the ranking was among the most recent CANDIDATES. Bounding the candidates is what keeps a word found in half of all
  tickets fast: the planner walks the recency indexes (tickets_all_keyset, or the team/assignee
  keyset when filtered, tickets_open_recent for open statuses; assignee=none has no ordered index
  and walks tickets_all_keyset) and stops after CANDIDATES + 1
  matches; for a rare term it uses the GIN index instead. The query text is inlined (not read
  from a CTE) so the planner sees it.
- Writes: every message appends to its ticket's document (a trigger, ~0.1-0.5 ms for usual threads).
  A document keeps positions up to 128 kB and then gains only new words up to 256 kB; words that
  first appear after that (threads of thousands of distinct words) are not found (migration 1003).
- The snippet comes from a message among the ticket's latest 200 (its id is `matched_message_id`):
  one matching the whole query if any, else the one that best matches any of its words; when no
  message has any of the words, from the subject (`matched_message_id` null). The matched words are
  wrapped in MARK_START / MARK_END, two private-use characters removed from the text first, so the
  domain can split a snippet into plain text and marks (no markup ever comes from user text).
- Requester: tickets whose requester's name has every word of the query ('simple' words, any order),
  or whose email starts with the query when it contains "@", are candidates too (the REQUESTER_CANDIDATES
  most recently updated of them) and rank above tickets matched by words only.

Statuses arrive as one comma-separated text parameter: string_to_array() of a parameter is folded
to a constant at planning, so status = ANY(...) is estimated from statistics (a jsonb subquery is not).
"""
from __future__ import annotations

from helpdesk.db.views import ITEM_JSON

# The walk for a word in ~20% of tickets reads ~5 tickets per candidate (~5 us each at full scale):
# 1,000 candidates measured API p50 27 / p99 45 ms, too close to the 50 ms target on a busy host.
CANDIDATES = 500
REQUESTER_CANDIDATES = 100
SNIPPET_MESSAGES = 200
MARK_START, MARK_END = "\ue000", "\ue001"
# ts_headline's options: the marks instead of <b>...</b>.
_MARKS = f"StartSel={MARK_START}, StopSel={MARK_END}"
# User text with the mark characters taken out (they have no meaning in a message).
_UNMARKED_BODY = f"translate(left(m.body, 5000), '{MARK_START}{MARK_END}', '')"
_UNMARKED_SUBJECT = f"translate(t.subject, '{MARK_START}{MARK_END}', '')"

# websearch_to_tsquery('english', :q), folded to a constant in every custom plan; the function also
# keeps the plan serial (migration 1001: parallel workers cost more to start than the whole query)
# and makes a generic plan, which cannot see the words, never chosen (migration 1002).
_QUERY = "ticket_search_query(:q)"

_TICKET_FILTERS = """
    (:statuses::text IS NULL OR t.status = ANY (string_to_array(:statuses::text, ',')))
    AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
    AND (CASE :assignee_mode::text WHEN 'none' THEN t.assignee_id IS NULL
                                   WHEN 'agent' THEN t.assignee_id = :assignee_id::uuid ELSE true END)
    AND (:tag::text IS NULL OR t.tags @> jsonb_build_array(:tag::text))
    AND t.status <> 'merged'"""

SEARCH_TICKETS = f"""
WITH matches AS (
    SELECT t.id, t.updated_at, d.doc
    FROM tickets t JOIN ticket_search_docs d ON d.ticket_id = t.id
    WHERE d.doc @@ {_QUERY} AND {_TICKET_FILTERS}
    ORDER BY t.updated_at DESC, t.id DESC
    LIMIT {CANDIDATES + 1}
),
by_requester AS (
    SELECT t.id, t.updated_at
    FROM customers c JOIN tickets t ON t.requester_id = c.id
    WHERE (c.email LIKE :email_prefix::text
           OR to_tsvector('simple', coalesce(c.name, '')) @@ plainto_tsquery('simple', :q))
      AND {_TICKET_FILTERS}
    ORDER BY t.updated_at DESC, t.id DESC
    LIMIT {REQUESTER_CANDIDATES}
),
found AS (SELECT count(*) AS n FROM matches),
-- Any word of the query (words may be spread over a ticket's messages): picks the snippet message.
any_word AS (
    SELECT (SELECT string_agg(quote_literal(l), ' | ')
            FROM unnest(tsvector_to_array(to_tsvector('english', :q))) l)::tsquery AS query
),
ranked AS (
    SELECT c.id, c.updated_at, ts_rank(c.doc, {_QUERY}) AS rank, false AS requester_match
    FROM (SELECT * FROM matches ORDER BY updated_at DESC, id DESC LIMIT {CANDIDATES}) c
    UNION ALL
    SELECT r.id, r.updated_at, 0, true FROM by_requester r
),
top AS (
    SELECT id, max(updated_at) AS updated_at, max(rank) AS rank, bool_or(requester_match) AS requester_match
    FROM ranked GROUP BY id
    ORDER BY bool_or(requester_match) DESC, max(rank) DESC, max(updated_at) DESC, id DESC
    LIMIT :limit
)
SELECT {ITEM_JSON} || jsonb_build_object(
           'rank', round(top.rank::numeric, 6),
           'requester_match', top.requester_match,
           'snippet', CASE WHEN hit.id IS NULL THEN ts_headline('english', {_UNMARKED_SUBJECT}, {_QUERY}, '{_MARKS}')
                           ELSE (SELECT ts_headline('english', {_UNMARKED_BODY}, {_QUERY},
                                                    '{_MARKS}, MaxFragments=2, MaxWords=20, MinWords=5')
                                 FROM ticket_messages m WHERE m.id = hit.id) END,
           'matched_message_id', hit.id) AS doc,
       found.n AS found
FROM top JOIN tickets t ON t.id = top.id CROSS JOIN found
LEFT JOIN LATERAL (
    SELECT m.id FROM (SELECT m.id, m.position, m.search_tsv FROM ticket_messages m
                      WHERE m.ticket_id = t.id ORDER BY m.position DESC LIMIT {SNIPPET_MESSAGES}) m, any_word
    WHERE m.search_tsv @@ any_word.query
    ORDER BY m.search_tsv @@ {_QUERY} DESC, ts_rank(m.search_tsv, any_word.query) DESC, m.position DESC
    LIMIT 1
) hit ON true
ORDER BY top.requester_match DESC, top.rank DESC, top.updated_at DESC, t.id DESC
"""

# A ticket by its number ("TKT-7", "#7" or "7" typed into search opens it), as a search item.
TICKET_BY_NUMBER = f"""
SELECT {ITEM_JSON} || jsonb_build_object('merged_into_id', t.merged_into_id) AS doc
FROM tickets t WHERE t.number = :number::bigint
"""

# Top articles for free text: every lexeme of subject + body OR-ed into one tsquery, ranked; the snippet
# marks matches like the ticket search's (never HTML: customers see it on the contact form).
KB_SUGGEST = f"""
WITH q AS (
    SELECT (SELECT string_agg(quote_literal(l), ' | ')
            FROM (SELECT unnest(tsvector_to_array(to_tsvector('english', left(:text, 5000)))) AS l LIMIT 200) lx
           )::tsquery AS query
)
SELECT jsonb_build_object('id', a.id, 'title', a.title, 'tags', a.tags,
                          'snippet', ts_headline('english', translate(left(a.body, 3000), '{MARK_START}{MARK_END}', ''), q.query,
                                                 'MaxFragments=1, MaxWords=30, MinWords=10, {_MARKS}'),
                          'rank', round(ts_rank(a.search_tsv, q.query)::numeric, 6)) AS doc
FROM kb_articles a, q
WHERE q.query IS NOT NULL AND a.is_published AND a.search_tsv @@ q.query
ORDER BY ts_rank(a.search_tsv, q.query) DESC, a.id
LIMIT :limit
"""

"""Full-text search SQL (GIN over the generated tsvector columns of 0100_api_views_search_kb.sql).

Bounded: at most CANDIDATES subject hits and CANDIDATES message hits are ranked, then the best
:limit tickets are returned with a snippet. A subject match weighs double a body match."""
from __future__ import annotations

from helpdesk.db.views import ITEM_JSON

CANDIDATES = 2000

_TICKET_FILTERS = """
    (:statuses::jsonb IS NULL OR t.status IN (SELECT jsonb_array_elements_text(:statuses::jsonb)))
    AND (:team_id::uuid IS NULL OR t.team_id = :team_id::uuid)
    AND (CASE :assignee_mode::text WHEN 'none' THEN t.assignee_id IS NULL
                                   WHEN 'agent' THEN t.assignee_id = :assignee_id::uuid ELSE true END)
    AND t.status <> 'merged'"""

SEARCH_TICKETS = f"""
WITH q AS (SELECT websearch_to_tsquery('english', :q) AS query),
subject_hits AS (
    SELECT t.id AS ticket_id, 2 * ts_rank(t.search_tsv, q.query) AS rank, NULL::uuid AS message_id
    FROM tickets t, q WHERE t.search_tsv @@ q.query AND {_TICKET_FILTERS}
    LIMIT {CANDIDATES}
),
message_hits AS (
    SELECT m.ticket_id, ts_rank(m.search_tsv, q.query) AS rank, m.id AS message_id
    FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id, q
    WHERE m.search_tsv @@ q.query AND (:include_internal OR m.visibility = 'public') AND {_TICKET_FILTERS}
    LIMIT {CANDIDATES}
),
best AS (
    SELECT DISTINCT ON (ticket_id) ticket_id, message_id, rank, sum(rank) OVER (PARTITION BY ticket_id) AS score
    FROM (SELECT * FROM subject_hits UNION ALL SELECT * FROM message_hits) h
    ORDER BY ticket_id, (message_id IS NULL), rank DESC
),
top AS (SELECT * FROM best ORDER BY score DESC, ticket_id LIMIT :limit)
SELECT {ITEM_JSON} || jsonb_build_object(
           'rank', round(top.score::numeric, 6),
           'snippet', CASE WHEN top.message_id IS NULL THEN ts_headline('english', t.subject, q.query)
                           ELSE (SELECT ts_headline('english', left(m.body, 5000), q.query, 'MaxFragments=2, MaxWords=20, MinWords=5')
                                 FROM ticket_messages m WHERE m.id = top.message_id) END,
           'matched_message_id', top.message_id) AS doc
FROM top JOIN tickets t ON t.id = top.ticket_id, q
ORDER BY top.score DESC, t.id
"""

# Top articles for free text: every lexeme of subject + body OR-ed into one tsquery, ranked.
KB_SUGGEST = """
WITH q AS (
    SELECT (SELECT string_agg(quote_literal(l), ' | ')
            FROM (SELECT unnest(tsvector_to_array(to_tsvector('english', left(:text, 5000)))) AS l LIMIT 200) lx
           )::tsquery AS query
)
SELECT jsonb_build_object('id', a.id, 'title', a.title, 'tags', a.tags,
                          'snippet', ts_headline('english', left(a.body, 3000), q.query, 'MaxFragments=1, MaxWords=30, MinWords=10'),
                          'rank', round(ts_rank(a.search_tsv, q.query)::numeric, 6)) AS doc
FROM kb_articles a, q
WHERE q.query IS NOT NULL AND a.is_published AND a.search_tsv @@ q.query
ORDER BY ts_rank(a.search_tsv, q.query) DESC, a.id
LIMIT :limit
"""

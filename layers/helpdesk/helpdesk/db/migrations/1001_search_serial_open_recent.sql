-- Two measured fixes for ticket search at full scale (1,000,000 tickets).

-- 1. The search query text goes through this function. It is inlined and folded to a constant at
-- planning, so the planner still sees the words (walk the recency index for common ones, GIN for
-- rare ones); being PARALLEL UNSAFE, it keeps the whole statement serial. A parallel plan was chosen
-- for both kinds and starting its workers cost 10-15 ms, as much as the whole serial walk of a
-- common word (~25 ms) and ten times a rare term (~1 ms).
CREATE OR REPLACE FUNCTION ticket_search_query(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL UNSAFE
    RETURN websearch_to_tsquery('english', q);

-- 2. Open tickets newest first (status=open, or any subset of it, is the usual search filter).
-- Without it a filtered walk reads the shared recency index, where recently closed tickets
-- outnumber open ones (23,500 of the 30,000 most recently updated in the benchmark data):
-- 'login sso' with status=open took ~100 ms, with this index ~27 ms. About 15% of tickets are in
-- it; the build takes ~1 s at full scale.
CREATE INDEX IF NOT EXISTS tickets_open_recent ON tickets (updated_at DESC, id DESC)
    WHERE status IN ('new', 'assigned', 'in_progress', 'waiting_on_customer', 'reopened');

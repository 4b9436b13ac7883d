-- Ticket search must always be planned for its words: walking the recency index suits a common word,
-- the GIN index a rare one, and the wrong choice costs seconds (measured: a common word on the GIN
-- plan took 4.6-8.7 s at full scale, against ~20 ms walked). A statement a driver prepares (the
-- local Data API prepares after 5 runs; JDBC-style drivers do the same) may switch to a generic
-- plan, made without the parameter values; after five rare terms PostgreSQL did exactly that.
--
-- So ticket_search_query is now plpgsql: with a known argument (every custom plan) the planner still
-- evaluates it, an IMMUTABLE function, to a constant tsquery; with an unknown one (a generic plan) it
-- stays a call whose declared COST makes that plan far dearer than any custom plan, so PostgreSQL
-- never picks it. PARALLEL UNSAFE keeps the statement serial (see 1001).
CREATE OR REPLACE FUNCTION ticket_search_query(q text) RETURNS tsquery
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL UNSAFE COST 1000000 AS $$
BEGIN
    RETURN websearch_to_tsquery('english', q);
END $$;

-- Recompute every ticket's search document from its subject and stored message vectors: what the
-- triggers of 1000/1003 maintain row by row, in one set-based statement. For bulk loads (bench/
-- dataset.py disables the insert triggers and calls this once: far cheaper than aggregating an
-- 8,000,000-row transition table) and for an operator repairing documents after a manual import.
-- Returns the number of documents written.
CREATE OR REPLACE FUNCTION ticket_search_docs_rebuild() RETURNS bigint LANGUAGE sql AS $$
    WITH built AS (
        INSERT INTO ticket_search_docs AS d (ticket_id, doc)
        SELECT t.id,
               ticket_search_doc_append(setweight(coalesce(t.search_tsv, ''::tsvector), 'A'),
                                        (SELECT ticket_search_doc_agg(m.search_tsv ORDER BY m.position)
                                         FROM ticket_messages m WHERE m.ticket_id = t.id))
        FROM tickets t
        ON CONFLICT (ticket_id) DO UPDATE SET doc = excluded.doc
        RETURNING 1)
    SELECT count(*) FROM built
$$;

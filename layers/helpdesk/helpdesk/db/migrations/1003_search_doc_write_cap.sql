-- Bound what a reply costs on a long thread. Every message rewrites its ticket's document, and the
-- GIN index takes one entry per distinct word of the whole document, so the trigger's time grows
-- with the thread (measured at full scale: 500 distinct words 0.2 ms, 1,850 words 0.45 ms, 6,200
-- words / 97 kB 3.2 ms, 5,300 words / 200 kB 5.7 ms). The caps of 1000 (400 kB / 800 kB) allowed
-- ~20 ms per reply on a huge thread; now a document keeps positions up to 128 kB, gains only new
-- words (no positions) up to 256 kB, and then stops changing, and an unchanged document is not
-- rewritten at all (the upsert skips it), so a reply to a huge thread costs no more than a short one.
-- Trade-off, documented in helpdesk/db/search.py: words that first appear after a thread's
-- document is full are not found by ticket search.

-- Raw size of a document; pg_column_size of a stored value is its compressed size, which is never
-- larger, so the raw size is only computed when that could matter.
CREATE OR REPLACE FUNCTION ticket_search_doc_size(doc tsvector) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    size integer := pg_column_size(doc);
BEGIN
    IF size >= 64000 THEN size := pg_column_size(doc || ''::tsvector); END IF;
    RETURN size;
END $$;

CREATE OR REPLACE FUNCTION ticket_search_doc_has_room(doc tsvector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ticket_search_doc_size(doc) < 256000;

CREATE OR REPLACE FUNCTION ticket_search_doc_append(acc tsvector, more tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    size integer;
BEGIN
    IF more IS NULL THEN RETURN acc; END IF;
    size := ticket_search_doc_size(acc);
    IF size < 128000 THEN RETURN acc || more; END IF;
    IF size < 256000 THEN RETURN acc || strip(more); END IF;
    RETURN acc;
END $$;

CREATE OR REPLACE FUNCTION ticket_search_docs_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ticket_search_docs AS d (ticket_id, doc)
        SELECT n.ticket_id, ticket_search_doc_agg(n.search_tsv ORDER BY n.position)
        FROM new_messages n GROUP BY n.ticket_id
        ON CONFLICT (ticket_id) DO UPDATE SET doc = ticket_search_doc_append(d.doc, excluded.doc)
            WHERE ticket_search_doc_has_room(d.doc);
    ELSE
        -- A merge moves messages to the target ticket: the target's document gains their words.
        INSERT INTO ticket_search_docs AS d (ticket_id, doc)
        SELECT n.ticket_id, ticket_search_doc_agg(n.search_tsv ORDER BY n.position)
        FROM new_messages n JOIN old_messages o ON o.id = n.id
        WHERE o.ticket_id IS DISTINCT FROM n.ticket_id
        GROUP BY n.ticket_id
        ON CONFLICT (ticket_id) DO UPDATE SET doc = ticket_search_doc_append(d.doc, excluded.doc)
            WHERE ticket_search_doc_has_room(d.doc);
    END IF;
    RETURN NULL;
END $$;

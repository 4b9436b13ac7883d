"""SQL of the knowledge-base articles (suggestions are in helpdesk/db/search.py)."""


CREATE_ARTICLE = """
WITH a AS (
    INSERT INTO kb_articles (title, body, tags, is_published, created_at, updated_at)
    VALUES (:title, :body, :tags::jsonb, :is_published, :now::timestamptz, :now::timestamptz) RETURNING *
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, a.id::text) AS id FROM a)
SELECT to_jsonb(a) - 'search_tsv' AS doc, (SELECT count(*) FROM audited) AS audited FROM a
"""
GET_ARTICLE = "SELECT to_jsonb(a) - 'search_tsv' AS doc FROM kb_articles a WHERE a.id = :id::uuid"
# Lists show a preview, not whole bodies (a page stays under the Data API's 1 MiB).
LIST_ARTICLES = """
SELECT jsonb_build_object('id', a.id, 'title', a.title, 'tags', a.tags, 'is_published', a.is_published,
                          'preview', left(a.body, 300), 'created_at', a.created_at, 'updated_at', a.updated_at) AS doc
FROM kb_articles a
WHERE (:include_unpublished OR a.is_published)
  AND (:after_title::text IS NULL OR (a.title, a.id) > (:after_title::text, :after_id::uuid))
ORDER BY a.title, a.id LIMIT :limit
"""
UPDATE_ARTICLE = """
WITH a AS (
    UPDATE kb_articles SET
        title = CASE WHEN :set_title THEN :title::text ELSE title END,
        body = CASE WHEN :set_body THEN :body::text ELSE body END,
        tags = CASE WHEN :set_tags THEN :tags::jsonb ELSE tags END,
        is_published = CASE WHEN :set_is_published THEN :is_published::boolean ELSE is_published END,
        updated_at = :now::timestamptz
    WHERE id = :id::uuid RETURNING *
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, a.id::text) AS id FROM a)
SELECT to_jsonb(a) - 'search_tsv' AS doc, (SELECT count(*) FROM audited) AS audited FROM a
"""
DELETE_ARTICLE = """
WITH a AS (DELETE FROM kb_articles WHERE id = :id::uuid RETURNING id),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, a.id::text) AS id FROM a)
SELECT a.id, (SELECT count(*) FROM audited) AS audited FROM a
"""

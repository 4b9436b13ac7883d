"""SQL of the admin's reading and deleting of quarantined mail (helpdesk.admin.quarantine); listing,
quarantining and releasing are the email intake's (helpdesk/db/email.py)."""

GET_QUARANTINED = """
SELECT id, message_id, reason, detail, from_email, subject, raw_key, raw_bucket, metadata, created_at, released_at
FROM email_quarantine WHERE id = :id::uuid
"""

# The row goes; the raw copy stays in the raw-mail bucket until its lifecycle rule expires it, and the
# admin audit trail keeps who deleted what (sender, subject, reason, raw key).
DELETE_QUARANTINED = """
WITH q AS (
    DELETE FROM email_quarantine WHERE id = :id::uuid
    RETURNING id, message_id, reason, from_email, subject, raw_key, raw_bucket, released_at
),
-- the change's admin audit row, naming the mail deleted (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, q.id::text, to_jsonb(q)) AS id FROM q)
SELECT q.*, (SELECT count(*) FROM audited) AS audited FROM q
"""

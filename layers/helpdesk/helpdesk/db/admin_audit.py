"""SQL of the admin audit trail (helpdesk.admin.audit): who changed which setting, and what they sent."""

# A change recorded by a call of its own, after it (the admin writes whose statement does not record it).
RECORD_CHANGE = "SELECT write_admin_audit(:entry::jsonb, :now::timestamptz, :resource_id::text) AS id"

# Newest first; :before (an id) pages back.
LIST_CHANGES = """
SELECT id, occurred_at, actor_id, actor_email, actor_role, action, resource, resource_id, data
FROM admin_audit
WHERE (:resource::text IS NULL OR resource = :resource::text)
  AND (:resource_id::text IS NULL OR resource_id = :resource_id::text)
  AND (:actor_id::uuid IS NULL OR actor_id = :actor_id::uuid)
  AND (:before::bigint IS NULL OR id < :before::bigint)
ORDER BY id DESC
LIMIT :limit
"""

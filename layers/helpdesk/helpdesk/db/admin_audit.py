"""SQL of the admin audit trail (helpdesk.admin.audit): who changed which setting, and what they sent."""

RECORD_CHANGE = """
INSERT INTO admin_audit (occurred_at, actor_id, actor_email, actor_role, action, resource, resource_id, data)
VALUES (:now::timestamptz, :actor_id::uuid, :actor_email, :actor_role, :action, :resource, :resource_id::text, :data::jsonb)
RETURNING id
"""

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

"""SQL of mail templates per team and agents' signatures (helpdesk.admin.mail_templates)."""
from __future__ import annotations

# A team's own templates, {kind: row}, and whether the team exists (one call).
TEAM_TEMPLATES = """
SELECT (SELECT count(*) FROM teams WHERE id = :team_id::uuid) AS team_exists,
       (SELECT coalesce(jsonb_object_agg(mt.kind, to_jsonb(mt) - 'team_id'), '{}'::jsonb)
        FROM mail_templates mt WHERE mt.team_id = :team_id::uuid) AS templates
"""

PUT_TEMPLATE = """
WITH mt AS (
    INSERT INTO mail_templates (team_id, kind, subject, body_text, body_html, updated_at, updated_by)
    VALUES (:team_id::uuid, :kind::text, :subject::text, :body_text::text, :body_html::text, :now::timestamptz,
            :agent_id::uuid)
    ON CONFLICT (team_id, kind) DO UPDATE SET subject = EXCLUDED.subject, body_text = EXCLUDED.body_text,
        body_html = EXCLUDED.body_html, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
    RETURNING mail_templates.*
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, mt.team_id || '/' || mt.kind) AS id FROM mt)
SELECT to_jsonb(mt) - 'team_id' AS doc, (SELECT count(*) FROM audited) AS audited FROM mt
"""

DELETE_TEMPLATE = """
WITH mt AS (DELETE FROM mail_templates WHERE team_id = :team_id::uuid AND kind = :kind::text RETURNING team_id, kind),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, mt.team_id || '/' || mt.kind) AS id FROM mt)
SELECT mt.kind, (SELECT count(*) FROM audited) AS audited FROM mt
"""

GET_SIGNATURE = """
SELECT a.id AS agent_id, s.body_text, s.updated_at FROM agents a LEFT JOIN agent_signatures s ON s.agent_id = a.id
WHERE a.id = :agent_id::uuid
"""

PUT_SIGNATURE = """
INSERT INTO agent_signatures (agent_id, body_text, updated_at)
VALUES (:agent_id::uuid, :body_text::text, :now::timestamptz)
ON CONFLICT (agent_id) DO UPDATE SET body_text = EXCLUDED.body_text, updated_at = EXCLUDED.updated_at
RETURNING agent_id, body_text, updated_at
"""

DELETE_SIGNATURE = "DELETE FROM agent_signatures WHERE agent_id = :agent_id::uuid RETURNING agent_id"

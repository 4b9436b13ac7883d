"""SQL for SLA policies and schedules (admin CRUD). The sweep's and reports' statements live here too."""
from __future__ import annotations

_POLICY_COLUMNS = "id, name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at"

POLICY_INSERT = f"""
INSERT INTO sla_policies (name, position, priority, tier, team_id, channel, targets, schedule_id, is_active, created_at)
VALUES (:name, :position, :priority, :tier, :team_id::uuid, :channel, :targets::jsonb, :schedule_id::uuid, :is_active,
        :now::timestamptz)
RETURNING {_POLICY_COLUMNS}
"""

POLICY_UPDATE = f"""
UPDATE sla_policies SET name = :name, position = :position, priority = :priority, tier = :tier, team_id = :team_id::uuid,
       channel = :channel, targets = :targets::jsonb, schedule_id = :schedule_id::uuid, is_active = :is_active
WHERE id = :id::uuid
RETURNING {_POLICY_COLUMNS}
"""

POLICY_GET = f"SELECT {_POLICY_COLUMNS} FROM sla_policies WHERE id = :id::uuid"

# The order in which policies are tried (first match wins); a customer's contract policy comes first.
POLICY_LIST = f"SELECT {_POLICY_COLUMNS} FROM sla_policies ORDER BY position, name"

POLICY_DELETE = "DELETE FROM sla_policies WHERE id = :id::uuid RETURNING id"

# Which policy a ticket with these attributes would get: the same rule as CREATE_TICKET's `policy` CTE.
POLICY_MATCH = f"""
SELECT p.id, p.name, p.position, p.priority, p.tier, p.team_id, p.channel, p.targets, p.schedule_id, p.is_active,
       p.created_at, (p.id = c.sla_policy_id) IS TRUE AS contract
FROM (SELECT (SELECT sla_policy_id FROM customers WHERE email = :customer_email) AS sla_policy_id,
             coalesce((SELECT tier FROM customers WHERE email = :customer_email), :tier) AS tier) c
CROSS JOIN LATERAL (
    SELECT * FROM sla_policies p
    WHERE p.is_active AND (p.id = c.sla_policy_id OR (
          (p.priority IS NULL OR p.priority = :priority) AND (p.tier IS NULL OR p.tier = c.tier)
      AND (p.team_id IS NULL OR p.team_id = :team_id::uuid) AND (p.channel IS NULL OR p.channel = :channel)))
    ORDER BY (p.id = c.sla_policy_id) IS TRUE DESC, p.position, p.name
    LIMIT 1) p
"""

CUSTOMER_SET_POLICY = """
UPDATE customers SET sla_policy_id = :policy_id::uuid, updated_at = :now::timestamptz
WHERE id = :customer_id::uuid RETURNING id, email, tier, sla_policy_id
"""

SCHEDULE_INSERT = """
INSERT INTO schedules (name, document, created_at, updated_at) VALUES (:name, :document::jsonb, :now::timestamptz, :now::timestamptz)
RETURNING id, name, document, created_at, updated_at
"""

SCHEDULE_UPDATE = """
UPDATE schedules SET name = :name, document = :document::jsonb, updated_at = :now::timestamptz WHERE id = :id::uuid
RETURNING id, name, document, created_at, updated_at
"""

SCHEDULE_GET = "SELECT id, name, document, created_at, updated_at FROM schedules WHERE id = :id::uuid"
SCHEDULE_LIST = "SELECT id, name, document, created_at, updated_at FROM schedules ORDER BY name"

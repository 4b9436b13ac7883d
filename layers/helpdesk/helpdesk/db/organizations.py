"""SQL of organizations and of customers' own terms (helpdesk.admin.organizations, helpdesk.admin.customers).

A customer's effective terms (customers.tier, customers.sla_policy_id: what routing and the SLA match
read) are coalesce(own, organization's, default); every statement here that changes an organization's
terms, its domains or a membership rewrites the effective terms of the customers concerned in the
same statement (the insert trigger of migration 1200 does it for new customers). A domain also covers
its subdomains; customers who belong to no organization join the one a new domain names."""

CREATE_ORGANIZATION = """
WITH o AS (
    INSERT INTO organizations (name, tier, sla_policy_id, created_at, updated_at)
    VALUES (:name, :tier::text, :sla_policy_id::uuid, :now::timestamptz, :now::timestamptz)
    RETURNING *
),
domains AS (
    INSERT INTO organization_domains (domain, organization_id)
    SELECT x.domain, o.id FROM o, jsonb_array_elements_text(:domains::jsonb) AS x(domain)
    RETURNING domain
),
joined AS (
    UPDATE customers c SET organization_id = o.id, tier = coalesce(c.own_tier, o.tier, 'standard'),
        sla_policy_id = coalesce(c.own_sla_policy_id, o.sla_policy_id), updated_at = :now::timestamptz
    FROM o
    WHERE c.organization_id IS NULL AND EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(:domains::jsonb) AS x(domain)
        WHERE reverse(substring(c.email FROM '@([^@]+)$')) = reverse(x.domain)
           OR reverse(substring(c.email FROM '@([^@]+)$')) LIKE reverse(x.domain) || '.%')
    RETURNING c.id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, o.id::text) AS id FROM o)
SELECT to_jsonb(o) || jsonb_build_object(
    'domains', (SELECT coalesce(jsonb_agg(d.domain ORDER BY d.domain), '[]'::jsonb) FROM domains d),
    'member_count', (SELECT count(*) FROM joined)) AS doc, (SELECT count(*) FROM audited) AS audited
FROM o
"""

LIST_ORGANIZATIONS = """
SELECT to_jsonb(o) || jsonb_build_object(
    'domains', (SELECT coalesce(jsonb_agg(d.domain ORDER BY d.domain), '[]'::jsonb)
                FROM organization_domains d WHERE d.organization_id = o.id),
    'member_count', (SELECT count(*) FROM customers c WHERE c.organization_id = o.id)) AS doc
FROM organizations o
WHERE :q::text IS NULL OR o.name ILIKE '%' || :q::text || '%'
   OR o.id IN (SELECT organization_id FROM organization_domains WHERE domain LIKE :q::text || '%')
ORDER BY lower(o.name), o.id
LIMIT :limit
"""

GET_ORGANIZATION = """
SELECT to_jsonb(o) || jsonb_build_object(
    'domains', (SELECT coalesce(jsonb_agg(d.domain ORDER BY d.domain), '[]'::jsonb)
                FROM organization_domains d WHERE d.organization_id = o.id),
    'member_count', (SELECT count(*) FROM customers c WHERE c.organization_id = o.id)) AS doc
FROM organizations o WHERE o.id = :id::uuid
"""

# PATCH: :set_<field> says whether it was sent. With :set_domains the list replaces the old one
# (customers of a removed domain stay members: membership is edited per customer).
UPDATE_ORGANIZATION = """
WITH o AS (
    UPDATE organizations SET
        name = CASE WHEN :set_name THEN :name::text ELSE name END,
        tier = CASE WHEN :set_tier THEN :tier::text ELSE tier END,
        sla_policy_id = CASE WHEN :set_sla_policy_id THEN :sla_policy_id::uuid ELSE sla_policy_id END,
        updated_at = :now::timestamptz
    WHERE id = :id::uuid
    RETURNING *
),
removed AS (
    DELETE FROM organization_domains d USING o
    WHERE :set_domains AND d.organization_id = o.id
      AND d.domain NOT IN (SELECT jsonb_array_elements_text(:domains::jsonb))
    RETURNING d.domain
),
added AS (
    INSERT INTO organization_domains (domain, organization_id)
    SELECT x.domain, o.id FROM o, jsonb_array_elements_text(:domains::jsonb) AS x(domain)
    WHERE :set_domains AND NOT EXISTS (SELECT 1 FROM organization_domains d WHERE d.domain = x.domain AND d.organization_id = o.id)
    RETURNING domain
),
members AS (
    UPDATE customers c SET organization_id = o.id, tier = coalesce(c.own_tier, o.tier, 'standard'),
        sla_policy_id = coalesce(c.own_sla_policy_id, o.sla_policy_id), updated_at = :now::timestamptz
    FROM o
    WHERE c.organization_id = o.id
       OR (:set_domains AND c.organization_id IS NULL AND EXISTS (
           SELECT 1 FROM added x
           WHERE reverse(substring(c.email FROM '@([^@]+)$')) = reverse(x.domain)
              OR reverse(substring(c.email FROM '@([^@]+)$')) LIKE reverse(x.domain) || '.%'))
    RETURNING c.id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, o.id::text) AS id FROM o)
SELECT to_jsonb(o) || jsonb_build_object(
    'domains', CASE WHEN :set_domains
        THEN (SELECT coalesce(jsonb_agg(DISTINCT x ORDER BY x), '[]'::jsonb) FROM jsonb_array_elements_text(:domains::jsonb) x)
        ELSE (SELECT coalesce(jsonb_agg(d.domain ORDER BY d.domain), '[]'::jsonb) FROM organization_domains d WHERE d.organization_id = o.id) END,
    'member_count', (SELECT count(*) FROM members)) AS doc, (SELECT count(*) FROM audited) AS audited
FROM o
"""

# Members go back to their own terms (or the defaults); the domains go with the organization.
DELETE_ORGANIZATION = """
WITH members AS (
    UPDATE customers SET organization_id = NULL, tier = coalesce(own_tier, 'standard'), sla_policy_id = own_sla_policy_id,
        updated_at = :now::timestamptz
    WHERE organization_id = :id::uuid
    RETURNING id
),
o AS (
    DELETE FROM organizations WHERE id = :id::uuid RETURNING id
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (
    SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, o.id::text,
                             jsonb_build_object('id', o.id, 'members_released', (SELECT count(*) FROM members))) AS id
    FROM o
)
SELECT o.id, (SELECT count(*) FROM members) AS members, (SELECT count(*) FROM audited) AS audited FROM o
"""

LIST_MEMBERS = """
SELECT to_jsonb(c) || jsonb_build_object('tier_inherited', c.own_tier IS NULL,
                                         'sla_policy_inherited', c.own_sla_policy_id IS NULL) AS doc
FROM customers c
WHERE c.organization_id = :id::uuid AND (:after::text IS NULL OR c.email > :after::text)
ORDER BY c.email LIMIT :limit
"""

# A customer's own terms (NULL: inherit from the organization) and membership (NULL: none), PATCH-style;
# the effective terms follow in the same statement.
UPDATE_CUSTOMER = """
WITH next AS (
    SELECT c.id,
           CASE WHEN :set_name THEN :name::text ELSE c.name END AS name,
           CASE WHEN :set_tier THEN :tier::text ELSE c.own_tier END AS own_tier,
           CASE WHEN :set_sla_policy_id THEN :sla_policy_id::uuid ELSE c.own_sla_policy_id END AS own_sla_policy_id,
           CASE WHEN :set_organization_id THEN :organization_id::uuid ELSE c.organization_id END AS organization_id
    FROM customers c WHERE c.id = :id::uuid
),
c AS (
    UPDATE customers c SET name = n.name, own_tier = n.own_tier, own_sla_policy_id = n.own_sla_policy_id,
        organization_id = n.organization_id,
        tier = coalesce(n.own_tier, o.tier, 'standard'),
        sla_policy_id = coalesce(n.own_sla_policy_id, o.sla_policy_id),
        updated_at = :now::timestamptz
    FROM next n LEFT JOIN organizations o ON o.id = n.organization_id
    WHERE c.id = n.id
    RETURNING c.*
),
-- the change's admin audit row (migration 1257); read in full by the final SELECT
audited AS (SELECT write_admin_audit(:audit::jsonb, :now::timestamptz, c.id::text) AS id FROM c)
SELECT to_jsonb(c) || jsonb_build_object(
    'organization', (SELECT jsonb_build_object('id', o.id, 'name', o.name, 'tier', o.tier, 'sla_policy_id', o.sla_policy_id)
                     FROM organizations o WHERE o.id = c.organization_id),
    'tier_inherited', c.own_tier IS NULL, 'sla_policy_inherited', c.own_sla_policy_id IS NULL) AS doc,
    (SELECT count(*) FROM audited) AS audited
FROM c
"""

GET_CUSTOMER_TERMS = """
SELECT to_jsonb(c) || jsonb_build_object(
    'organization', (SELECT jsonb_build_object('id', o.id, 'name', o.name, 'tier', o.tier, 'sla_policy_id', o.sla_policy_id)
                     FROM organizations o WHERE o.id = c.organization_id),
    'tier_inherited', c.own_tier IS NULL, 'sla_policy_inherited', c.own_sla_policy_id IS NULL,
    'open_tickets', (SELECT count(*) FROM (SELECT 1 FROM tickets t WHERE t.requester_id = c.id
                     AND t.status NOT IN ('closed', 'merged', 'spam', 'duplicate') LIMIT 1000) x)) AS doc
FROM customers c WHERE c.id = :id::uuid
"""

# Which of these domains another organization holds (to name it in the conflict).
DOMAINS_TAKEN = """
SELECT d.domain, o.name FROM organization_domains d JOIN organizations o ON o.id = d.organization_id
WHERE d.domain IN (SELECT jsonb_array_elements_text(:domains::jsonb))
  AND (:id::uuid IS NULL OR d.organization_id <> :id::uuid)
ORDER BY d.domain
"""

# Domains that could form an organization: customers of a domain no organization lists, most first
# (:public excludes the public mail domains; the caller drops their subdomains). Reads every customer
# without an organization: an on-demand admin read, not part of a page load.
SUGGEST_ORGANIZATIONS = """
SELECT x.domain, count(*) AS customers
FROM (SELECT lower(substring(c.email FROM '@([^@]+)$')) AS domain FROM customers c
      WHERE c.organization_id IS NULL AND c.email IS NOT NULL) x
WHERE x.domain IS NOT NULL
  AND x.domain NOT IN (SELECT jsonb_array_elements_text(:public::jsonb))
  AND x.domain NOT IN (SELECT domain FROM organization_domains)
GROUP BY x.domain
HAVING count(*) >= :min_customers
ORDER BY count(*) DESC, x.domain
LIMIT :limit
"""

-- Organizations (customers grouped by email domain, with a tier and an SLA contract their members
-- inherit) and the admin audit trail (who changed which setting).
--
-- customers.tier and customers.sla_policy_id stay what every statement reads (routing by tier, the
-- SLA policy match): the customer's EFFECTIVE terms. What the customer was given themselves is kept
-- apart (own_tier, own_sla_policy_id; NULL = inherit), so the effective terms are always
--     tier = coalesce(own_tier, organization tier, 'standard')
--     sla_policy_id = coalesce(own_sla_policy_id, organization sla_policy_id)
-- written by the insert trigger below for new customers and by the organization and customer
-- statements (helpdesk/db/organizations.py) when terms or memberships change.

CREATE TABLE organizations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    tier           text CHECK (tier IN ('standard', 'premium', 'enterprise')),
    sla_policy_id  uuid REFERENCES sla_policies(id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_name ON organizations (lower(name));

-- A domain belongs to one organization; its subdomains too, unless listed themselves (longest wins).
-- Public mail domains (gmail.com...) are refused by helpdesk.organizations before they get here.
CREATE TABLE organization_domains (
    domain           text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$'),
    organization_id  uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE
);
CREATE INDEX organization_domains_org ON organization_domains (organization_id);

ALTER TABLE customers
    ADD COLUMN organization_id   uuid REFERENCES organizations(id) ON DELETE SET NULL,
    ADD COLUMN own_tier          text CHECK (own_tier IN ('standard', 'premium', 'enterprise')),
    ADD COLUMN own_sla_policy_id uuid REFERENCES sla_policies(id);
CREATE INDEX customers_organization ON customers (organization_id, email) WHERE organization_id IS NOT NULL;

-- Terms given before organizations existed were the customer's own.
UPDATE customers SET own_tier = CASE WHEN tier <> 'standard' THEN tier END, own_sla_policy_id = sla_policy_id
WHERE tier <> 'standard' OR sla_policy_id IS NOT NULL;

-- The organization an address belongs to: the longest listed domain equal to the address's domain or
-- one of its parents (a.eu.acme.com -> eu.acme.com, then acme.com; never the bare top-level label).
CREATE FUNCTION organization_for_email(address text) RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT d.organization_id
    FROM (SELECT string_to_array(lower(substring(address FROM '@([^@]+)$')), '.') AS labels) l
    CROSS JOIN LATERAL generate_series(1, coalesce(array_length(l.labels, 1), 1) - 1) i
    JOIN organization_domains d ON d.domain = array_to_string(l.labels[i:], '.')
    ORDER BY i
    LIMIT 1
$$;

-- The terms a ticket from this address gets now: the customer's (effective) terms when the customer
-- exists, else those of the organization its domain joins it to, else standard without a contract.
-- CREATE_TICKET reads the routing tier through it before the customer row is written.
CREATE FUNCTION customer_effective_terms(address text)
RETURNS TABLE (organization_id uuid, tier text, sla_policy_id uuid) LANGUAGE sql STABLE AS $$
    SELECT t.organization_id, t.tier, t.sla_policy_id FROM (
        SELECT 1 AS rank, c.organization_id, c.tier, c.sla_policy_id FROM customers c WHERE c.email = address
        UNION ALL
        SELECT 2, o.id, coalesce(o.tier, 'standard'), o.sla_policy_id FROM organizations o
        WHERE o.id = organization_for_email(address)
        UNION ALL
        SELECT 3, NULL::uuid, 'standard', NULL::uuid
    ) t ORDER BY t.rank LIMIT 1
$$;

-- Every new customer, whichever channel writes it, joins the organization of its domain and takes
-- its terms. A tier or contract written with the row (other than the defaults) is the customer's own.
CREATE FUNCTION customers_join_organization() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org organizations%ROWTYPE;
BEGIN
    IF NEW.own_tier IS NULL AND NEW.tier IS DISTINCT FROM 'standard' THEN
        NEW.own_tier := NEW.tier;
    END IF;
    NEW.own_sla_policy_id := coalesce(NEW.own_sla_policy_id, NEW.sla_policy_id);
    IF NEW.organization_id IS NULL AND NEW.email IS NOT NULL THEN
        NEW.organization_id := organization_for_email(NEW.email);
    END IF;
    IF NEW.organization_id IS NOT NULL THEN
        SELECT * INTO org FROM organizations WHERE id = NEW.organization_id;
    END IF;
    NEW.tier := coalesce(NEW.own_tier, org.tier, 'standard');
    NEW.sla_policy_id := coalesce(NEW.own_sla_policy_id, org.sla_policy_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER customers_join_organization BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_join_organization();

-- Admin audit trail: one row per change of a setting (teams, agents, schedules, SLA policies, routing
-- rules, knowledge base, Slack channels, quarantine, customers, organizations), with who made it.
CREATE TABLE admin_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL,
    actor_id     uuid,
    actor_email  text NOT NULL,
    actor_role   text NOT NULL,
    action       text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'release', 'invite')),
    resource     text NOT NULL,
    resource_id  text,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_audit_resource ON admin_audit (resource, resource_id, id);
CREATE INDEX admin_audit_actor ON admin_audit (actor_id, id);

"""Organizations and customers' terms through the API: grouping by email domain, inheritance of the
tier and SLA contract down to ticket creation (routing by tier, the SLA policy match), validation
errors naming their field, role gating and the admin audit trail."""
from __future__ import annotations

import uuid

import pytest

POLICY = {"name": "Gold contract", "position": 50, "targets": {"first_response": {"seconds": 1800, "business": False}}}


def _audit(root, resource: str) -> list[dict]:
    answer = root.get("/api/v1/admin/audit", query={"resource": resource})
    assert answer.status == 200, answer.body
    return answer.body["items"]


def _customer(client, email: str) -> dict:
    found = client.get("/api/v1/customers", query={"email": email}).body["items"]
    assert len(found) == 1, found
    return client.get(f"/api/v1/customers/{found[0]['id']}").body


def test_new_customers_of_a_domain_join_its_organization_and_inherit_its_terms(admin, create):
    root, root_id = admin
    policy = root.post("/api/v1/sla-policies", POLICY).body
    created = root.post("/api/v1/organizations", {"name": "Acme", "domains": ["Acme.COM", "@acme.io"],
                                                  "tier": "enterprise", "sla_policy_id": policy["id"]})
    assert created.status == 201, created.body
    org = created.body
    assert org["domains"] == ["acme.com", "acme.io"] and org["tier"] == "enterprise" and org["member_count"] == 0

    ticket = create(root, requester_email="Wile@acme.com")
    carol = _customer(root, "wile@acme.com")
    assert carol["organization"]["id"] == org["id"]
    assert carol["tier"] == "enterprise" and carol["tier_inherited"] is True
    assert carol["sla_policy_id"] == policy["id"] and carol["sla_policy_inherited"] is True
    # The contract reached the ticket: its SLA policy is the organization's.
    clocks = root.db.query("SELECT DISTINCT policy_id FROM sla_targets WHERE ticket_id = :id::uuid", {"id": ticket["id"]})
    assert [str(c["policy_id"]) for c in clocks] == [policy["id"]]
    # A subdomain belongs to the organization too; another company's domain and gmail do not.
    create(root, requester_email="ops@eu.acme.com")
    assert _customer(root, "ops@eu.acme.com")["organization"]["id"] == org["id"]
    create(root, requester_email="someone@notacme.com")
    create(root, requester_email="acme.fan@gmail.com")
    assert _customer(root, "someone@notacme.com")["organization"] is None
    assert _customer(root, "acme.fan@gmail.com")["tier"] == "standard"
    assert root.get(f"/api/v1/organizations/{org['id']}").body["member_count"] == 2

    [entry] = _audit(root, "organization")
    assert entry["action"] == "create" and entry["resource_id"] == org["id"] and entry["actor_id"] == str(root_id)
    assert entry["actor_email"] and entry["data"]["tier"] == "enterprise"


def test_routing_by_tier_uses_the_organizations_tier_for_a_new_address(admin, make_team, create):
    root, _ = admin
    vip = make_team("VIP")
    rule = root.post("/api/v1/routing-rules", {"name": "enterprise to VIP", "position": 1,
                                               "conditions": {"tiers": ["enterprise"]}, "team_id": str(vip)})
    assert rule.status == 201, rule.body
    root.post("/api/v1/organizations", {"name": "Globex", "domains": ["globex.example"], "tier": "enterprise"})
    # The address was never seen: its tier comes from the organization before the customer row exists.
    assert create(root, requester_email="hank@globex.example")["team_id"] == str(vip)
    assert create(root, requester_email="hank@elsewhere.example")["team_id"] != str(vip)


def test_adding_a_domain_brings_in_existing_customers_and_terms_follow_the_organization(admin, create):
    root, _ = admin
    create(root, requester_email="a@initech.example")
    create(root, requester_email="b@initech.example")
    org = root.post("/api/v1/organizations", {"name": "Initech"}).body
    assert org["member_count"] == 0
    # b has their own tier: it wins over the organization's.
    b = _customer(root, "b@initech.example")
    assert root.patch(f"/api/v1/customers/{b['id']}", {"tier": "premium"}).body["tier"] == "premium"

    patched = root.patch(f"/api/v1/organizations/{org['id']}", {"domains": ["initech.example"], "tier": "enterprise"})
    assert patched.status == 200, patched.body
    assert patched.body["domains"] == ["initech.example"] and patched.body["member_count"] == 2
    assert _customer(root, "a@initech.example")["tier"] == "enterprise"
    b = _customer(root, "b@initech.example")
    assert b["tier"] == "premium" and b["tier_inherited"] is False and b["organization"]["id"] == org["id"]

    # Back to inheriting; then the organization's tier changes and its members follow.
    assert root.patch(f"/api/v1/customers/{b['id']}", {"tier": None}).body["tier"] == "enterprise"
    root.patch(f"/api/v1/organizations/{org['id']}", {"tier": "premium"})
    assert {_customer(root, e)["tier"] for e in ("a@initech.example", "b@initech.example")} == {"premium"}
    members = root.get(f"/api/v1/organizations/{org['id']}/members").body["items"]
    assert [m["email"] for m in members] == ["a@initech.example", "b@initech.example"]

    # Deleting it leaves members with their own terms only.
    assert root.delete(f"/api/v1/organizations/{org['id']}").status == 204
    a = _customer(root, "a@initech.example")
    assert a["organization"] is None and a["tier"] == "standard"
    assert [e["action"] for e in _audit(root, "organization")] == ["delete", "update", "update", "create"]
    assert [e["data"] for e in _audit(root, "customer")] == [{"tier": None}, {"tier": "premium"}]


def test_membership_is_editable_per_customer(admin, create):
    root, _ = admin
    one = root.post("/api/v1/organizations", {"name": "One", "tier": "premium"}).body
    create(root, requester_email="x@freelance.example")
    x = _customer(root, "x@freelance.example")
    joined = root.patch(f"/api/v1/customers/{x['id']}", {"organization_id": one["id"]})
    assert joined.status == 200 and joined.body["tier"] == "premium" and joined.body["organization"]["name"] == "One"
    left = root.patch(f"/api/v1/customers/{x['id']}", {"organization_id": None})
    assert left.body["organization"] is None and left.body["tier"] == "standard"


@pytest.mark.parametrize("body, field", [
    ({"name": "P", "domains": ["gmail.com"]}, "domains"),
    ({"name": "P", "domains": ["mail.yahoo.co.uk"]}, "domains"),
    ({"name": "P", "domains": ["not a domain"]}, "domains"),
    ({"name": "P", "domains": ["bob@acme.com"]}, "domains"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "P", "tier": "gold"}, "tier"),
    ({"name": "P", "sla_policy_id": "nope"}, "sla_policy_id"),
    ({"name": "P", "colour": "red"}, "colour"),
])
def test_invalid_organizations_are_refused_naming_the_field(admin, body, field):
    root, _ = admin
    answer = root.post("/api/v1/organizations", body)
    assert answer.status == 422, answer.body
    assert answer.content_type.startswith("application/problem+json")
    assert field in [str(p) for e in answer.body["errors"] for p in e["loc"]]
    assert root.get("/api/v1/organizations").body["items"] == []
    assert _audit(root, "organization") == []


def test_conflicts_name_the_field_and_the_other_organization(admin):
    root, _ = admin
    root.post("/api/v1/organizations", {"name": "Umbrella", "domains": ["umbrella.example"]})
    taken = root.post("/api/v1/organizations", {"name": "Other", "domains": ["umbrella.example"]})
    assert taken.status == 409 and "Umbrella" in taken.body["detail"]
    assert taken.body["errors"][0]["loc"] == ["domains"]
    same_name = root.post("/api/v1/organizations", {"name": "UMBRELLA"})
    assert same_name.status == 409 and same_name.body["errors"][0]["loc"] == ["name"]
    unknown = root.post("/api/v1/organizations", {"name": "Z", "sla_policy_id": str(uuid.uuid4())})
    assert unknown.status == 422 and unknown.body["errors"][0]["loc"] == ["sla_policy_id"]
    assert [o["name"] for o in root.get("/api/v1/organizations").body["items"]] == ["Umbrella"]


def test_customer_terms_validation(admin, create):
    root, _ = admin
    create(root, requester_email="v@valid.example")
    v = _customer(root, "v@valid.example")
    bad_tier = root.patch(f"/api/v1/customers/{v['id']}", {"tier": "platinum"})
    assert bad_tier.status == 422 and "tier" in bad_tier.body["errors"][0]["loc"]
    no_org = root.patch(f"/api/v1/customers/{v['id']}", {"organization_id": str(uuid.uuid4())})
    assert no_org.status == 422 and no_org.body["errors"][0]["loc"] == ["organization_id"]
    no_policy = root.patch(f"/api/v1/customers/{v['id']}", {"sla_policy_id": str(uuid.uuid4())})
    assert no_policy.status == 422 and no_policy.body["errors"][0]["loc"] == ["sla_policy_id"]
    assert root.patch(f"/api/v1/customers/{uuid.uuid4()}", {"tier": "premium"}).status == 404
    assert _customer(root, "v@valid.example")["tier"] == "standard"
    assert _audit(root, "customer") == []


def test_agents_read_but_cannot_change_organizations_or_terms(admin, agent, create):
    root, _ = admin
    client, _ = agent
    org = root.post("/api/v1/organizations", {"name": "Readable"}).body
    assert client.get("/api/v1/organizations").status == 200
    assert client.get(f"/api/v1/organizations/{org['id']}").status == 200
    assert client.post("/api/v1/organizations", {"name": "Nope"}).status == 403
    assert client.patch(f"/api/v1/organizations/{org['id']}", {"tier": "premium"}).status == 403
    assert client.delete(f"/api/v1/organizations/{org['id']}").status == 403
    create(client, requester_email="w@who.example")
    w = _customer(client, "w@who.example")
    assert client.patch(f"/api/v1/customers/{w['id']}", {"tier": "premium"}).status == 403
    assert client.get("/api/v1/admin/audit").status == 403


def test_suggestions_are_the_domains_of_customers_without_an_organization_never_public_ones(admin, agent, create):
    root, _ = admin
    for email in ("a@stark.example", "b@stark.example", "c@stark.example", "d@wayne.example", "e@wayne.example",
                  "f@solo.example", "g@gmail.com", "h@gmail.com", "i@mail.yahoo.com", "j@mail.yahoo.com",
                  "k@listed.example", "l@listed.example"):
        create(root, requester_email=email)
    root.post("/api/v1/organizations", {"name": "Listed", "domains": ["listed.example"]})
    answer = root.get("/api/v1/organizations/suggestions")
    assert answer.status == 200, answer.body
    assert answer.body["items"] == [{"domain": "stark.example", "customers": 3}, {"domain": "wayne.example", "customers": 2}]
    assert [s["domain"] for s in root.get("/api/v1/organizations/suggestions", query={"min_customers": "1"}).body["items"]] == [
        "stark.example", "wayne.example", "solo.example"]
    client, _ = agent
    assert client.get("/api/v1/organizations/suggestions").status == 403

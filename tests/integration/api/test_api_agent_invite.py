"""Inviting an agent: in AWS a Cognito user (moto's user pool here) in the group of the agent's role,
mailed a temporary password; a second invitation is resent; locally (no user pool) nothing is sent.
Admins only, and audited."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def user_pool(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="agents", UsernameAttributes=["email"])["UserPool"]["Id"]
        for group in ("agent", "lead", "admin"):
            cognito.create_group(UserPoolId=pool, GroupName=group)
        monkeypatch.setenv("USER_POOL_ID", pool)
        yield cognito, pool


def test_invite_creates_the_cognito_user_in_the_role_group(admin, user_pool):
    root, root_id = admin
    cognito, pool = user_pool
    lead = root.post("/api/v1/agents", {"email": "Lena@Example.com", "name": "Lena", "role": "lead"}).body
    answer = root.post(f"/api/v1/agents/{lead['id']}/invite")
    assert answer.status == 200, answer.body
    assert answer.body["sent"] is True and answer.body["via"] == "cognito" and answer.body["resent"] is False
    user = cognito.admin_get_user(UserPoolId=pool, Username="lena@example.com")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "lena@example.com" and attributes["name"] == "Lena"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username="lena@example.com")["Groups"]
    assert [g["GroupName"] for g in groups] == ["lead"]
    again = root.post(f"/api/v1/agents/{lead['id']}/invite")
    assert again.status == 200 and again.body["resent"] is True
    trail = root.get("/api/v1/admin/audit", query={"resource": "agent", "actor": str(root_id)}).body["items"]
    assert [e["action"] for e in trail] == ["invite", "invite", "create"]


def test_without_a_user_pool_the_agent_signs_in_with_a_local_token(admin, monkeypatch):
    root, _ = admin
    monkeypatch.delenv("USER_POOL_ID", raising=False)
    agent = root.post("/api/v1/agents", {"email": "loc@example.com", "name": "Loc"}).body
    answer = root.post(f"/api/v1/agents/{agent['id']}/invite")
    assert answer.status == 200 and answer.body["sent"] is False and answer.body["via"] == "local"


def test_only_admins_invite_and_inactive_agents_are_refused(admin, agent):
    root, _ = admin
    client, agent_id = agent
    assert client.post(f"/api/v1/agents/{agent_id}/invite").status == 403
    root.patch(f"/api/v1/agents/{agent_id}", {"is_active": False})
    refused = root.post(f"/api/v1/agents/{agent_id}/invite")
    assert refused.status == 409 and "inactive" in refused.body["detail"]

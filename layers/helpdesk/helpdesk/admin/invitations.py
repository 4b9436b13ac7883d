"""Inviting an agent to sign in: in AWS a Cognito user in the agents' user pool (Cognito mails the
temporary password; an existing user gets the invitation again) put in the group of the agent's role,
which admits the token (the role itself is read from the agent record at each request). Without a
user pool (the local stack) nothing is sent: the agent signs in with a local token."""
from __future__ import annotations

from typing import Any

from helpdesk import errors


def invite(cognito: Any, user_pool_id: str, agent: dict[str, Any]) -> dict[str, Any]:
    if not agent.get("is_active", True):
        raise errors.Conflict(f"agent {agent['email']} is inactive: activate them before inviting")
    if not user_pool_id:
        return {"agent_id": agent["id"], "email": agent["email"], "sent": False, "via": "local",
                "detail": "no user pool in this deployment: the agent signs in with a local token"}
    attributes = [{"Name": "email", "Value": agent["email"]}, {"Name": "email_verified", "Value": "true"},
                  {"Name": "name", "Value": agent.get("name") or agent["email"]}]
    try:
        cognito.admin_create_user(UserPoolId=user_pool_id, Username=agent["email"], UserAttributes=attributes,
                                  DesiredDeliveryMediums=["EMAIL"])
        resent = False
    except cognito.exceptions.UsernameExistsException:
        try:
            cognito.admin_create_user(UserPoolId=user_pool_id, Username=agent["email"], MessageAction="RESEND",
                                      DesiredDeliveryMediums=["EMAIL"])
        except cognito.exceptions.UnsupportedUserStateException:
            raise errors.Conflict(f"{agent['email']} has already signed in: there is nothing to invite them to") from None
        resent = True
    cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=agent["email"], GroupName=agent.get("role") or "agent")
    return {"agent_id": agent["id"], "email": agent["email"], "sent": True, "via": "cognito", "resent": resent}

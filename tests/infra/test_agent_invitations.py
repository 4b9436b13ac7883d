"""The api function can invite agents into the agents' user pool, and only that: USER_POOL_ID names
the pool, and its grant is AdminCreateUser and AdminAddUserToGroup on that pool's ARN."""
from __future__ import annotations

from tests.infra.test_iam_least_privilege import as_list, function_policy
from tests.infra.test_stack_resources import _function_logical_ids


def test_api_function_invites_into_the_agents_user_pool_only(synth):
    [pool_id] = synth.resources("AWS::Cognito::UserPool")
    api = synth.template["Resources"][_function_logical_ids(synth)["api"]]["Properties"]
    assert api["Environment"]["Variables"]["USER_POOL_ID"] == {"Ref": pool_id}
    cognito = [s for s in function_policy(synth, "api") if any(a.startswith("cognito-idp:") for a in as_list(s["Action"]))]
    assert len(cognito) == 1
    assert sorted(as_list(cognito[0]["Action"])) == ["cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminCreateUser"]
    assert as_list(cognito[0]["Resource"]) == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    for name in _function_logical_ids(synth):
        if name != "api":
            assert not any(a.startswith("cognito-idp:") for s in function_policy(synth, name) for a in as_list(s["Action"]))

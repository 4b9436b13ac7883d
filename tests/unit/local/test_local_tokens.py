"""local.tokens: the signed bearer tokens standing in for Cognito ID tokens."""
from __future__ import annotations

import pytest

from local import tokens

KEY = "k" * 32


def test_a_signed_token_verifies_to_its_claims():
    token = tokens.sign(tokens.agent_claims("a1", "tom@example.com", "agent"), KEY, now=1000)
    claims = tokens.verify(token, KEY, now=1001)
    assert claims["sub"] == "a1"
    assert claims["email"] == "tom@example.com"
    assert claims["cognito:groups"] == "agent"
    assert claims["iss"] == tokens.ISSUER


@pytest.mark.parametrize("mangle, reason", [
    (lambda t: t + "x", "signature"),
    (lambda t: t.replace(".", "", 1), "header.payload.signature"),
    (lambda t: "a.b.c", "base64url"),
])
def test_tampered_tokens_are_refused_with_a_reason(mangle, reason):
    token = tokens.sign({"sub": "a1"}, KEY, now=1000)
    with pytest.raises(tokens.InvalidToken, match=reason):
        tokens.verify(mangle(token), KEY, now=1001)


def test_another_key_or_an_expired_token_is_refused():
    token = tokens.sign({"sub": "a1"}, KEY, now=1000, lifetime=60)
    with pytest.raises(tokens.InvalidToken, match="bad signature"):
        tokens.verify(token, "other-key", now=1001)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(token, KEY, now=1061)


def test_authorizer_claims_are_strings_like_api_gateway_sends():
    assert tokens.authorizer_claims({"iat": 5, "email": "a@b.c"}) == {"iat": "5", "email": "a@b.c"}

"""Sign-in providers: the local dev token (email or pasted token) and the Cognito hosted UI
(authorization code + PKCE), the latter with Cognito's two endpoints played by the test."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.slow

COGNITO_DOMAIN = "auth.helpdesk.test"


def test_unknown_agent_email_is_refused_with_the_reason(page):
    page.goto("/index.html")
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Agent email").fill("nobody@example.com")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_function("document.getElementById('status-line').dataset.kind === 'error'")
    assert "nobody@example.com" in page.inner_text("#status-line")
    assert page.locator("#nav").is_hidden()


def test_sign_in_with_a_pasted_token_and_sign_out(page, tokens):
    page.goto("/index.html")
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Bearer token").fill(tokens["admin@example.com"])
    page.get_by_role("button", name="Sign in with token").click()
    page.wait_for_selector("#nav:not([hidden])")
    assert "admin" in page.inner_text("#whoami")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Agent email").wait_for()
    assert page.evaluate("localStorage.getItem('helpdesk.token')") is None


def test_cognito_hosted_ui_code_flow_with_pkce(page, web_config, local_stack, tokens):
    redirect = f"{local_stack.url}/index.html"
    config = {**web_config, "auth": "cognito",
              "cognito": {"domain": COGNITO_DOMAIN, "clientId": "client-123", "redirectUri": redirect,
                          "scopes": ["openid", "email"]}}
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    seen: dict[str, dict] = {}

    def authorize(route):
        query = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        seen["authorize"] = query
        route.fulfill(status=302, headers={"Location": f"{query['redirect_uri']}?code=the-code"})

    def token(route):
        form = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        seen["token"] = form
        # The id token: what API Gateway's Cognito authorizer would verify; locally a stack token.
        route.fulfill(json={"id_token": tokens["admin@example.com"], "access_token": "x", "token_type": "Bearer"},
                      headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"https://{COGNITO_DOMAIN}/oauth2/authorize**", authorize)
    page.route(f"https://{COGNITO_DOMAIN}/oauth2/token", token)
    page.route(f"https://{COGNITO_DOMAIN}/logout**", lambda route: route.fulfill(body="signed out", content_type="text/plain"))

    page.goto("/index.html")
    page.wait_for_selector("body[data-ready]")
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.wait_for_selector("#nav:not([hidden])")
    page.shot("cognito-signed-in")

    authorize_query, token_form = seen["authorize"], seen["token"]
    assert authorize_query["response_type"] == "code"
    assert authorize_query["client_id"] == "client-123"
    assert authorize_query["code_challenge_method"] == "S256"
    assert token_form["grant_type"] == "authorization_code" and token_form["code"] == "the-code"
    verifier_hash = base64.urlsafe_b64encode(hashlib.sha256(token_form["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert verifier_hash == authorize_query["code_challenge"], "the PKCE verifier matches the challenge"
    assert "code=" not in page.url, "the code is removed from the address bar"
    assert "admin" in page.inner_text("#whoami")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"https://{COGNITO_DOMAIN}/logout**")
    logout = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert logout == {"client_id": "client-123", "logout_uri": redirect}

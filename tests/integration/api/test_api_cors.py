"""CORS: in AWS the workspace (CloudFront) calls API Gateway from another origin."""
from __future__ import annotations

from helpdesk.config import get_settings


def test_preflight_allows_the_web_origin_and_our_headers(api):
    origin = get_settings().web_base_url.rstrip("/")
    answer = api.call("OPTIONS", "/api/v1/tickets", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert all(h in allowed for h in ("authorization", "content-type", "idempotency-key"))


def test_other_origins_get_no_cors_grant(api):
    answer = api.call("OPTIONS", "/api/v1/tickets", headers={
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
    assert answer.headers.get("Access-Control-Allow-Origin") in (None, "")


# -- the chat widget on customers' own sites (CHAT_ALLOWED_ORIGINS) ------------------------------
SHOP = "https://shop.example.com"
CHAT_START = "/api/v1/public/chat/sessions"


def _preflight(api, path, origin):
    return api.call("OPTIONS", path, claims=None, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})


def test_chat_origins_are_allowed_on_the_chat_routes(api, monkeypatch):
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", f"{SHOP}, https://www.example.org/")
    preflight = _preflight(api, CHAT_START, SHOP)
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"] and preflight.headers["Vary"] == "Origin"

    started = api.post(CHAT_START, {"name": "Ann", "message": "Hello from the shop"}, claims=None,
                       headers={"Origin": "https://www.example.org"})
    assert started.status == 201, started.body
    assert started.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    polled = api.get(f"{CHAT_START}/{started.body['token']}/messages", claims=None, headers={"Origin": SHOP})
    assert polled.status == 200 and polled.headers["Access-Control-Allow-Origin"] == SHOP
    # Errors are readable by the widget too (here: a body that is not JSON, answered before the resolver).
    refused = api.post(CHAT_START, raw_body="name=Ann", claims=None, headers={"Origin": SHOP, "Content-Type": "text/plain"})
    assert refused.status == 415 and refused.headers["Access-Control-Allow-Origin"] == SHOP


def test_chat_origins_get_nothing_elsewhere_and_others_nothing_on_chat(api, monkeypatch):
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", SHOP)
    for path in ("/api/v1/tickets", "/api/v1/public/tickets", "/api/v1/portal/some-token"):
        assert _preflight(api, path, SHOP).headers.get("Access-Control-Allow-Origin") in (None, ""), path
    assert _preflight(api, CHAT_START, "https://evil.example.net").headers.get("Access-Control-Allow-Origin") in (None, "")
    monkeypatch.delenv("CHAT_ALLOWED_ORIGINS")
    assert _preflight(api, CHAT_START, SHOP).headers.get("Access-Control-Allow-Origin") in (None, "")


def test_the_workspace_origin_keeps_its_grant_on_chat_routes(api, monkeypatch):
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", SHOP)
    origin = get_settings().web_base_url.rstrip("/")
    answer = _preflight(api, CHAT_START, origin)
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"].lower()

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

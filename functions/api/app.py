"""Builds the API: one APIGatewayRestResolver with pydantic validation, a Router per resource under
/api/v1, error mapping (problems.py) and the OpenAPI document / Swagger UI generated from the code."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from helpdesk import errors
from helpdesk.auth import DEFAULT_RESOLVER
from helpdesk.config import get_settings

if __package__:
    from . import problems
    from .routes import (agents, customers, kb, portal, public, quarantine, queue, reports, routing_rules, search,
                         sla_admin, teams, tickets)
    from .routes import chat, slack
    from .routes import lead_reports
    from .routes import triggers  # issue 19 item 4
    from .routes import mail_templates, satisfaction  # lifecycle (issue 19 items 5-8)
    from .routes import workspace  # issue 18: the ticket page
    from .routes import lists  # issue 18: the lists (counts, unread marks)
    from .routes import admin_audit, organizations
    from .routes import live
    from .routes._shared import claims_of, services
else:  # Lambda: this directory is the code root
    import problems  # type: ignore[no-redef]
    from routes import (agents, customers, kb, portal, public, quarantine, queue, reports, routing_rules,  # type: ignore[no-redef]
                        search, sla_admin, teams, tickets)
    from routes import chat, slack  # type: ignore[no-redef]
    from routes import lead_reports  # type: ignore[no-redef]
    from routes import triggers  # type: ignore[no-redef]
    from routes import mail_templates, satisfaction  # type: ignore[no-redef]
    from routes import workspace  # type: ignore[no-redef]
    from routes import lists  # type: ignore[no-redef]
    from routes import admin_audit, organizations  # type: ignore[no-redef]
    from routes import live  # type: ignore[no-redef]
    from routes._shared import claims_of, services  # type: ignore[no-redef]

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
TITLE = "Helpdesk API"
VERSION = "1.0.0"
DOCS_PATH = f"{PREFIX}/docs"
CHAT_PATH = f"{PREFIX}/public/chat/"  # the widget's routes (routes/chat.py)
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed", "Location"]
CORS_MAX_AGE = 600
DESCRIPTION = """Help desk REST API.

**Sign-in.** Agent routes need a Cognito token (API Gateway's authorizer passes its claims; the local
stack's tokens become the same claims). The token's group (`agent`, `lead` or `admin`) admits the user;
the role (`agent` < `lead` < `admin`) comes from the agent record at request time (a change applies
within seconds). Each route names the least role it needs (403 otherwise). The agent record is found
by the token's `sub`, bound on the first sign-in with a verified email equal to the agent's address.
Public routes (`/public/...`, `/portal/{token}`) need none: the portal token is a signed link, mailed to
the customer (never returned by the web form).

**Bodies** are JSON (`application/json`, any case, or `application/<type>+json`; else 415), at most
4 MiB (413), nested at most 64 levels, with integers within ±2^63 and finite numbers (422).

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, `instance`,
plus `errors` (422 validation), `from`/`to`/`allowed` (422 invalid transition), `merged_into` (410),
and a `Retry-After` header on 429.

**Pages.** Lists are cursor-paginated: pass `next_cursor` back as `cursor`; `limit` is bounded (the
error names the range). Counts are capped: `{"value": 999, "capped": true, "display": "999+"}`.

**Idempotency.** `POST /tickets` and `POST /public/tickets` take an `Idempotency-Key` header: a retry
with the same key and body answers the original ticket (`Idempotent-Replayed: true`); the same key
with another body is 409.

**Web form honeypot.** `POST /public/tickets` has a field `website` that people never see. When it
is filled the answer is `202 {"status": "received"}` and nothing is stored or counted.
"""
ROUTERS = (tickets, queue, search, kb, teams, agents, customers, sla_admin, routing_rules, reports, public, portal,
           quarantine, chat, slack, lead_reports, triggers, satisfaction, mail_templates, workspace, organizations,
           admin_audit, lists, live)


def _signed_in(app: APIGatewayRestResolver, next_middleware: Any) -> Response:
    """Swagger UI is for signed-in agents only."""
    try:
        DEFAULT_RESOLVER.resolve(services().db, claims_of(app.current_event))
    except errors.HelpdeskError as exc:
        return problems.from_domain(exc, app.current_event.path)
    return next_middleware(app)


def build_app() -> APIGatewayRestResolver:
    # In AWS the workspace is served by CloudFront from another origin than API Gateway's.
    cors = CORSConfig(allow_origin=get_settings().web_base_url.rstrip("/"), allow_headers=CORS_ALLOW_HEADERS,
                      expose_headers=CORS_EXPOSE_HEADERS, max_age=CORS_MAX_AGE)
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    for module in ROUTERS:
        app.include_router(module.router, prefix=PREFIX)

    @app.exception_handler(errors.HelpdeskError)
    def _domain(exc: errors.HelpdeskError) -> Response:
        return problems.from_domain(exc, app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        return problems.from_request_validation(list(exc.errors()), app.current_event.path)

    @app.exception_handler(ModuleNotFoundError)
    def _missing(exc: ModuleNotFoundError) -> Response:
        if not (exc.name or "").startswith("helpdesk."):
            log.exception("import failed")
            return problems.internal(app.current_event.path)
        return problems.missing_module(exc, app.current_event.path)

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        allowed = sorted({r.method for r in app._static_routes + app._dynamic_routes if r.rule.match(path)})
        if allowed:  # a known resource, another method
            return problems.problem(405, "Method not allowed", f"{method} is not allowed here; allowed: {', '.join(allowed)}",
                                    code="method_not_allowed", instance=path, headers={"Allow": ", ".join(allowed)})
        return problems.problem(404, "Not Found", f"no route {method} {path}", code="no_route", instance=path)

    @app.exception_handler([json.JSONDecodeError, UnicodeDecodeError])
    def _bad_json(exc: Exception) -> Response:
        return problems.problem(400, "Bad request", "the request body is not valid JSON (UTF-8)", code="bad_request",
                                instance=app.current_event.path)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # botocore is imported here, not at cold start: an AWS call without an answer is a 503, not a 500.
        from botocore.exceptions import ConnectionError as BotoConnectionError, HTTPClientError

        if isinstance(exc, (BotoConnectionError, HTTPClientError)):  # connect/read timeouts, dropped connections
            return problems.unreachable(exc, app.current_event.path)
        log.exception("unhandled error")
        return problems.internal(app.current_event.path)

    @app.get(DOCS_PATH, middlewares=[_signed_in], include_in_schema=False)
    def _docs():  # no return annotation: the resolver would validate the answer against it
        return _swagger_ui(app)

    _shadowed_methods_answer_405(app)
    return app


# A request the API refuses before any database work (no identity): it takes the resolver's whole path
# (routing, validation, the error mapping) without opening a connection.
_PRIMING_REQUEST = {"resource": "/{proxy+}", "path": f"{PREFIX}/tickets", "httpMethod": "GET", "headers": {},
                    "multiValueHeaders": {}, "queryStringParameters": {"view": "mine"},
                    "multiValueQueryStringParameters": {"view": ["mine"]}, "pathParameters": None,
                    "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "GET", "path": f"/prod{PREFIX}/tickets",
                                       "stage": "prod", "requestId": "snapstart-priming", "identity": {}},
                    "body": None, "isBase64Encoded": False}


def prime(app: APIGatewayRestResolver) -> None:
    """What the first request after a SnapStart restore would otherwise build: the SDK clients (the
    Data API's, the publisher's), the models whose validators were deferred, the resolver's first pass.
    Runs before the snapshot (functions/api/handler.py). It makes no call to AWS or the database (a
    connection in a snapshot would be stale after a restore); building a client may fetch the
    function's container credentials, which botocore refreshes when they expire."""
    from helpdesk.snapstart import build_deferred_models

    services()
    build_deferred_models()
    answer = app.resolve(_PRIMING_REQUEST, None)
    if answer["statusCode"] != 401:  # anything else means the request reached further than intended
        raise RuntimeError(f"priming request answered {answer['statusCode']}: {answer.get('body')}")


def allow_chat_origins(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """CORS for the chat widget embedded on customers' own sites. The resolver's CORSConfig allows the
    workspace origin on every route; the public chat routes also answer the CHAT_ALLOWED_ORIGINS
    (preflight included). No credentials are allowed: the chat session token is the credential."""
    if not (event.get("path") or "").startswith(CHAT_PATH):
        return response
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    allowed = get_settings().chat_allowed_origins
    if not origin or (origin not in allowed and "*" not in allowed):
        return response
    grant = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": ",".join(CORS_ALLOW_HEADERS),
             "Access-Control-Expose-Headers": ",".join(CORS_EXPOSE_HEADERS),
             "Access-Control-Max-Age": str(CORS_MAX_AGE), "Vary": "Origin"}
    if "multiValueHeaders" in response:  # the resolver's REST answers; handler.py's early answers use "headers"
        multi = response["multiValueHeaders"]
        if "Access-Control-Allow-Origin" not in multi:  # else the workspace origin, answered by the resolver
            multi.update({k: [v] for k, v in grant.items()})
    else:
        response.setdefault("headers", {}).update(grant)
    return response


def _swagger_ui(app: APIGatewayRestResolver) -> Response:
    """Swagger UI (HTML; `?format=json`: the OpenAPI document; `?format=oauth2-redirect`), as Powertools'
    enable_swagger serves it. Not enable_swagger itself: it imports Powertools' OpenAPI pydantic models
    (~70 ms) when the route is registered, a cost every cold start would pay for a page agents rarely open."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.models import Server

    query = app.current_event.query_string_parameters or {}
    if query.get("format") == "oauth2-redirect":
        return Response(200, "text/html", swagger_ui.generate_oauth2_redirect_html())
    servers = [Server(url=app._get_base_path() or "/")]
    spec = app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION, servers=servers)
    spec = spec.replace("</", "<\\/")  # keeps a "</script>" inside the spec from closing the page's script tag
    if query.get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, spec)
    assets = Path(swagger_ui.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return Response(200, "text/html", swagger_ui.generate_swagger_html(spec, js, css, None, None, False))


def _shadowed_methods_answer_405(app: APIGatewayRestResolver) -> None:
    """A literal path like /agents/me also matches /agents/<agent_id>: without this, PATCH /agents/me
    would reach the agent-id route and answer 422 instead of 405 for a method the path lacks."""
    statics: dict[str, set[str]] = {}
    for route in app._static_routes:
        statics.setdefault(route.path, set()).add(route.method)
    for path, methods in statics.items():
        shadowed = sorted({r.method for r in app._dynamic_routes if r.rule.match(path)} - methods)
        if not shadowed:
            continue
        allowed = ", ".join(sorted(methods))

        def not_allowed(allowed: str = allowed):
            return problems.problem(405, "Method not allowed",
                                    f"{app.current_event.http_method} is not allowed here; allowed: {allowed}",
                                    code="method_not_allowed", instance=app.current_event.path, headers={"Allow": allowed})

        app.route(path, method=shadowed, include_in_schema=False)(not_allowed)


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "code": {"type": "string"},
    },
    "additionalProperties": True,
}


def openapi_document(app: APIGatewayRestResolver | None = None) -> dict[str, Any]:
    """The OpenAPI document of the routes above, with the problem+json error answers added."""
    app = app or build_app()
    doc = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            if "204" in responses:
                responses["204"].pop("content", None)  # no body, no content type
            responses["422"] = {"description": "Validation failed or invalid transition", "content": problem_ref}
            responses["default"] = {"description": "Error (problem+json)", "content": problem_ref}
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    return doc

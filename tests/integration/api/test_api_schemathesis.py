"""Schemathesis, driven by the committed docs/openapi.json, against the API served over WSGI: every
operation gets generated requests (valid and invalid); no answer may be a 5xx or fall outside the
documented responses (status, content type, body schema).

The WSGI adapter (conftest.wsgi_app) turns each HTTP request into the API Gateway REST proxy event
the Lambda gets, here with the claims of a signed-in admin, as the Cognito authorizer would add them."""
from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency (requirements-dev.txt)")
from hypothesis import HealthCheck, settings  # noqa: E402


from .conftest import wsgi_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ADMIN_EMAIL = "schemathesis-admin@example.com"
ADMIN_CLAIMS = {"sub": "st", "email": ADMIN_EMAIL, "email_verified": "true", "cognito:groups": "admin"}

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,  # noqa: E402
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance, unsupported_method)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, unsupported_method]

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
schema.app = wsgi_app(ADMIN_CLAIMS)
# Swagger UI is HTML by design (not part of the JSON API contract).
schema = schema.exclude(path="/api/v1/docs")


@pytest.fixture
def served(api, db, monkeypatch):
    """The API wired to this test's database (the api fixture), with the admin the claims name."""
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "helpdesk-attachments-schemathesis")
    db.execute("INSERT INTO agents (email, name, role) VALUES (:e, 'Admin', 'admin')", {"e": ADMIN_EMAIL})


@pytest.mark.slow
@schema.parametrize()
# derandomize: CI sees the same cases every run (a new finding fails on the change that caused it).
@settings(max_examples=10, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_document(case, served):
    # Not positive_data_acceptance: a schema-valid body can still be refused on purpose (an email
    # that is not one, a reference to a team that does not exist): 422 with a problem document.
    case.call_and_validate(checks=CHECKS)

"""The one error mapping: each domain error's status, content type and extra members."""
from __future__ import annotations

import json

import pytest

from functions.api import problems
from helpdesk import errors
from helpdesk.auth import Unauthenticated


@pytest.mark.parametrize("exc, status", [
    (Unauthenticated("x"), 401), (errors.Forbidden("x"), 403), (errors.NotFound("x"), 404),
    (errors.Gone("x", merged_into="abc"), 410), (errors.Conflict("x"), 409), (errors.ValidationFailed("x"), 422),
    (errors.InvalidTransition("x", **{"from": "new", "to": "closed", "allowed": ["assigned"]}), 422),
    (errors.PayloadTooLarge("x"), 413), (errors.RateLimited("x", retry_after=30), 429),
    (errors.UniqueViolation("dup", "23505"), 409), (errors.DatabaseUnavailable("down"), 503),
    (errors.OutcomeUnknown("no answer"), 503),
    (errors.DatabaseError("boom SELECT secret", "XX000"), 500),
])
def test_status_and_problem_json(exc, status):
    response = problems.from_domain(exc, "/api/v1/x")
    body = json.loads(response.body)
    assert response.status_code == status == body["status"]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert body["instance"] == "/api/v1/x" and body["type"].endswith(exc.code) and body["title"]
    if status == 410:
        assert body["merged_into"] == "abc"
    if status == 429:
        assert response.headers["Retry-After"] == "30"
    if status == 503:  # transient: the caller is told when to come back
        assert response.headers["Retry-After"] == str(problems.DATABASE_RETRY_AFTER_SECONDS)
    if isinstance(exc, errors.OutcomeUnknown):  # and that a write may already have been applied
        assert "may have been applied" in body["detail"]
    if status == 500:
        assert "SELECT" not in body["detail"]  # SQL stays in the logs


def test_transition_problem_names_from_to_allowed():
    body = json.loads(problems.from_domain(errors.InvalidTransition("no", **{"from": "new", "to": "closed", "allowed": ["assigned"]})).body)
    assert (body["from"], body["to"], body["allowed"]) == ("new", "closed", ["assigned"])


def test_request_validation_errors():
    bad_json = problems.from_request_validation([{"type": "json_invalid", "loc": ["body"], "msg": "bad"}])
    assert bad_json.status_code == 400
    r = problems.from_request_validation([{"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 100", "input": "500"}])
    body = json.loads(r.body)
    assert r.status_code == 422 and body["detail"] == "query.limit: Input should be less than or equal to 100"
    assert "input" not in body["errors"][0]  # never echo what was sent


def test_an_aws_call_without_an_answer_is_a_503_with_retry_after():
    from botocore.exceptions import ReadTimeoutError

    response = problems.unreachable(ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"), "/api/v1/x")
    body = json.loads(response.body)
    assert response.status_code == 503 == body["status"]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == str(problems.DATABASE_RETRY_AFTER_SECONDS)

"""A write whose answer is lost (a read timeout after the statement ran) is not sent again by the
client: the caller gets a 503 problem with Retry-After, and repeating the request with its
Idempotency-Key finds the ticket that was created, not a second one."""
from __future__ import annotations

from botocore.exceptions import ReadTimeoutError

from helpdesk import wiring
from helpdesk.db.client import reads_only
from tests.conftest import make_data_api


class AnswerLost:
    """The rds-data client, except that the answer to the first write is lost after the write ran."""

    def __init__(self, client) -> None:
        self.client = client
        self.lost = 0

    def __getattr__(self, name: str):
        return getattr(self.client, name)

    def execute_statement(self, **request):
        response = self.client.execute_statement(**request)
        if not self.lost and not reads_only(request["sql"]):
            self.lost += 1
            raise ReadTimeoutError(endpoint_url="https://rds-data.us-east-1.amazonaws.com")
        return response


def test_a_lost_answer_is_a_503_and_the_retry_with_its_key_finds_the_one_ticket(agent, ticket_body, db,
                                                                                  rds_data_client, monkeypatch):
    client, _ = agent
    losing = AnswerLost(rds_data_client)
    monkeypatch.setattr(wiring, "data_api", lambda: make_data_api(losing))
    first = client.post("/api/v1/tickets", ticket_body(), headers={"Idempotency-Key": "lost-1"})
    assert first.status == 503 and first.content_type == "application/problem+json"
    assert first.body["code"] == "outcome_unknown" and "may have been applied" in first.body["detail"]
    assert int(first.headers["Retry-After"]) > 0
    assert losing.lost == 1
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 1  # it ran once, and only once

    again = client.post("/api/v1/tickets", ticket_body(), headers={"Idempotency-Key": "lost-1"})
    assert again.status == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert db.query_one("SELECT count(*) AS n FROM tickets")["n"] == 1


def test_an_aws_call_without_an_answer_is_a_503_not_a_500(agent, monkeypatch):
    client, _ = agent

    def no_answer(settings=None):
        raise ReadTimeoutError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")

    monkeypatch.setattr(wiring, "clock", no_answer)  # any collaborator a route builds from AWS
    answer = client.get("/api/v1/tickets")
    assert answer.status == 503 and answer.content_type == "application/problem+json"
    assert answer.body["code"] == "upstream_unavailable" and int(answer.headers["Retry-After"]) > 0

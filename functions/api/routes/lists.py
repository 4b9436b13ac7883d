"""The agent workspace's lists: the navigation's counts per view, and unread marks (issue 18)."""
from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from helpdesk.views import Views

from ._shared import ViewCountsOut, caller, services

router = Router()


@router.get("/views/counts", summary="How many tickets each view lists for me (capped like the views' counts)",
            description="The same counts come with a view's page for one call less: GET /tickets?counts=true.")
def view_counts() -> ViewCountsOut:
    agent_id = caller(router).require_agent()
    svc = services()
    counts = Views(svc.db, svc.clock).counts(agent_id)
    return ViewCountsOut(**{name: count.as_dict() for name, count in counts.items()})


@router.post("/tickets/<ticket_ref>/seen", summary="I opened this ticket: its customer messages so far are read for me",
             responses={204: {"description": "recorded"}})
def mark_seen(ticket_ref: str):
    agent_id = caller(router).require_agent()
    svc = services()
    Views(svc.db, svc.clock).mark_seen(agent_id, ticket_ref)
    return Response(204, None, None)

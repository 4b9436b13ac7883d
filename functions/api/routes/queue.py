"""Pull assignment: claim the next ticket of my team(s) (SKIP LOCKED in the routing module)."""
from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from ._shared import TicketOut, caller, services, ticket_json

router = Router()


def assignment(svc):
    """helpdesk.routing.assignment.Assignment (the routing engineer's module), built per request."""
    from helpdesk.routing.assignment import Assignment

    return Assignment(svc.db, svc.clock, svc.publisher)


@router.post("/queue/next", summary="Claim the next ticket of my team (204 when the queue is empty)",
             responses={200: {"description": "the claimed ticket", "content": {"application/json": {"model": TicketOut}}},
                        204: {"description": "nothing to claim"}})
def claim_next():
    agent_id = caller(router).require_agent()
    ticket = assignment(services()).claim_next_ticket(agent_id)
    if ticket is None:
        return Response(204, None, None)
    return Response(200, content_types.APPLICATION_JSON, ticket_json(ticket))

"""Mail templates per team (admins) and agents' signatures (an agent their own, an admin anyone's):
helpdesk.admin.mail_templates. The outbound sender uses them for every mail it writes."""
from __future__ import annotations

import uuid
from typing import Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk import errors
from helpdesk.admin.mail_templates import MailTemplates, SignatureIn, TemplateIn

from ._shared import Doc, ItemsOut, caller, services

router = Router()
Kind = Literal["acknowledgement", "reply_footer", "solved", "csat"]


def _templates() -> MailTemplates:
    svc = services()
    return MailTemplates(svc.db, svc.clock)


@router.get("/teams/<team_id>/mail-templates",
            summary="The team's mail templates, each its own or the default (is_default), with its placeholders")
def list_templates(team_id: uuid.UUID) -> ItemsOut:
    caller(router, "lead")
    return ItemsOut(items=_templates().list(team_id))


@router.put("/teams/<team_id>/mail-templates/<kind>",
            summary="Set one of the team's mail templates (text, optional HTML and subject; {{placeholders}} checked)")
def put_template(team_id: uuid.UUID, kind: Kind, body: TemplateIn) -> Doc:
    template = _templates().put(team_id, kind, body, by=caller(router, "admin"))
    return Doc(**template)


@router.delete("/teams/<team_id>/mail-templates/<kind>", summary="Back to the default template of this kind",
               responses={204: {"description": "the default applies again"}})
def reset_template(team_id: uuid.UUID, kind: Kind) -> Response[None]:
    _templates().reset(team_id, kind, by=caller(router, "admin"))
    return Response(204, None, None)


def _may_edit_signature(agent_id: uuid.UUID) -> None:
    who = caller(router)
    if who.agent_id != agent_id and not who.has_role("admin"):
        raise errors.Forbidden("an agent sets their own signature; another agent's needs role admin")


@router.get("/agents/<agent_id>/signature", summary="An agent's signature under their public replies (null: none)")
def get_signature(agent_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_templates().signature(agent_id))


@router.put("/agents/<agent_id>/signature", summary="Set an agent's signature (their own, or anyone's as admin)")
def put_signature(agent_id: uuid.UUID, body: SignatureIn) -> Doc:
    _may_edit_signature(agent_id)
    return Doc(**_templates().put_signature(agent_id, body))


@router.delete("/agents/<agent_id>/signature", summary="Remove an agent's signature",
               responses={204: {"description": "removed"}})
def delete_signature(agent_id: uuid.UUID) -> Response[None]:
    _may_edit_signature(agent_id)
    _templates().delete_signature(agent_id)
    return Response(204, None, None)

"""Slack: the Events API endpoint (public; Slack's request signature is the credential) and the
admin list of connected support channels. The adapter is helpdesk.intake.slack."""
from __future__ import annotations

import json
import logging
import uuid
from types import SimpleNamespace
from typing import Optional

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ConfigDict, Field

from helpdesk import errors
from helpdesk.auth import Unauthenticated

from ._shared import ApiModel, Doc, ItemsOut, caller, open_ticket, services, settings

router = Router()
USERS_INFO_TIMEOUT = 1.5
log = logging.getLogger(__name__)


def _slack() -> SimpleNamespace:
    """The Slack adapter (helpdesk.intake.slack) and the Slack Web API client (helpdesk.delivery.slack),
    imported on the first Slack request rather than on every cold start of the API."""
    from helpdesk.delivery import DeliveryError
    from helpdesk.delivery import slack as client
    from helpdesk.intake import slack as intake

    return SimpleNamespace(intake=intake, client=client, DeliveryError=DeliveryError)


class SlackAck(ApiModel):
    model_config = ConfigDict(extra="allow")

    ok: bool = True
    action: Optional[str] = None
    challenge: Optional[str] = None


@router.post("/channels/slack/events",
             summary="Slack Events API (public: Slack's v0 request signature; 401 problem for a bad or missing "
                     "signature, a timestamp outside 5 minutes, or a replayed request)")
def slack_events() -> SlackAck:
    event = router.current_event
    body = event.decoded_body or ""
    slack = _slack()
    svc = services()
    now = svc.clock.now()
    try:
        secret = slack.client.slack_secret(settings()).value()
    except slack.DeliveryError as exc:
        raise Unauthenticated(f"Slack requests cannot be verified: {exc}") from None
    signature = event.headers.get("X-Slack-Signature")
    slack.intake.verify_request(str(secret.get("signing_secret") or ""),
                                event.headers.get("X-Slack-Request-Timestamp"), body, signature, now)
    slack.intake.record_signature(svc.db, str(signature), now)
    envelope = json.loads(body)
    if not isinstance(envelope, dict):
        raise errors.ValidationFailed("the Slack request body must be a JSON object")
    if envelope.get("type") == "url_verification":
        return SlackAck(challenge=str(envelope.get("challenge") or ""))
    retry = event.headers.get("X-Slack-Retry-Num")
    # Slack wants an answer within 3 seconds (else it retries, which is harmless): keep the optional lookup short.
    api = slack.client.slack_api(settings(), timeout=USERS_INFO_TIMEOUT) if secret.get("bot_token") else None
    intake = slack.intake.SlackIntake(
        svc.db, svc.clock, svc.publisher,
        lambda new, actor: open_ticket(svc, new, actor=actor, idempotency_key=None, scope="slack"),
        user_email=api.user_email if api else None)
    outcome = intake.handle(envelope)
    log.info("slack event", extra={"event_id": envelope.get("event_id"), "retry": retry, "action": outcome.action,
                                   "reason": outcome.reason})
    return SlackAck(action=outcome.action, reason=outcome.reason or None, ticket_id=outcome.ticket_id,
                    number=outcome.number)


class SlackChannelIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = Field(default=None, max_length=200)
    team_id: Optional[uuid.UUID] = Field(default=None, description="tickets from this channel go to this team")


@router.get("/channels/slack/channels", summary="Connected Slack support channels (admin)")
def list_slack_channels() -> ItemsOut:
    caller(router, "admin")
    return ItemsOut(items=_slack().intake.list_channels(services().db))


@router.put("/channels/slack/channels/<channel_id>",
            summary="Connect a Slack channel: its top-level messages open tickets (admin)")
def connect_slack_channel(channel_id: str, body: SlackChannelIn) -> Doc:
    svc = services()
    channel = _slack().intake.connect_channel(svc.db, svc.clock, channel_id, caller(router, "admin"), name=body.name,
                                              team_id=body.team_id)
    return Doc(**channel)


@router.delete("/channels/slack/channels/<channel_id>", summary="Disconnect a Slack channel (admin)",
               responses={204: {"description": "disconnected"}})
def disconnect_slack_channel(channel_id: str):
    svc = services()
    _slack().intake.disconnect_channel(svc.db, svc.clock, channel_id, caller(router, "admin"))
    return Response(204, None, None)

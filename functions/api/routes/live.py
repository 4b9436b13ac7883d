"""Live updates: where a page subscribes (helpdesk.push). Read once when a page opens; the updates
themselves come over the Event API's WebSocket, not from here. `realtime` is null when push is not
configured: the page then polls slowly."""
from __future__ import annotations

from typing import Optional

from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.push import channels
from helpdesk.push.access import PRESENCE_HEARTBEAT_SECONDS, PRESENCE_TTL_SECONDS, customer_channel

from ._shared import ApiModel, caller, services, settings

router = Router()
FALLBACK_POLL_SECONDS = 60  # only while the WebSocket is down


class AgentLiveOut(ApiModel):
    realtime: Optional[str] = None
    own_channel: str
    team_channels: list[str]
    presence_heartbeat_seconds: int = PRESENCE_HEARTBEAT_SECONDS
    presence_ttl_seconds: int = PRESENCE_TTL_SECONDS
    fallback_poll_seconds: int = FALLBACK_POLL_SECONDS


class CustomerLiveOut(ApiModel):
    realtime: Optional[str] = None
    channel: str
    fallback_poll_seconds: int = FALLBACK_POLL_SECONDS


@router.get("/live", summary="Where the signed-in agent's pages subscribe for live updates")
def agent_live() -> AgentLiveOut:
    who = caller(router)
    team_ids = []
    if who.agent_id is not None:
        from helpdesk.admin.agents import Agents  # the agent record names their teams

        team_ids = Agents(services().db, services().clock).get(who.agent_id).get("team_ids") or []
    return AgentLiveOut(realtime=settings().push_realtime_endpoint or None, own_channel=channels.agent(who.sub).path,
                        team_channels=[channels.team(t).path for t in team_ids])


def _customer_live(token: str) -> CustomerLiveOut:
    channel = customer_channel(token, settings().signing_keys, services().clock.now())
    return CustomerLiveOut(realtime=settings().push_realtime_endpoint or None, channel=channel.path)


@router.get("/public/chat/sessions/<token>/live", summary="Web chat: where the visitor's widget subscribes for live updates")
def chat_live(token: str) -> CustomerLiveOut:
    return _customer_live(token)


@router.get("/portal/<token>/live", summary="Portal: where the customer's page subscribes for live updates")
def portal_live(token: str) -> CustomerLiveOut:
    return _customer_live(token)

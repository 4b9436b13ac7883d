"""Builds the TriggerEngine from Settings (the notifier function and the local stack use this)."""
from __future__ import annotations

from helpdesk import wiring
from helpdesk.config import Settings, get_settings
from helpdesk.delivery.slack import SlackApi, SlackSecret
from helpdesk.triggers.deliver import TriggerDelivery
from helpdesk.triggers.engine import TriggerEngine


def engine_from_settings(settings: Settings | None = None) -> TriggerEngine:
    settings = settings or get_settings()
    clock = wiring.clock(settings)
    slack = None
    if settings.slack_secret_arn:  # without a bot token, Slack posts are refused (recorded), never retried
        secret = SlackSecret(wiring.aws_client("secretsmanager", settings), settings.slack_secret_arn)
        slack = SlackApi(secret.bot_token, base_url=settings.slack_api_base_url)
    delivery = TriggerDelivery(ses_client=wiring.aws_client("ses", settings), clock=clock,
                               support_domain=settings.support_domain, signing_keys=settings.signing_keys,
                               web_base_url=settings.web_base_url, configuration_set=settings.ses_configuration_set,
                               slack=slack)
    return TriggerEngine(wiring.data_api(), clock, delivery, publisher=wiring.publisher(settings),
                         web_base_url=settings.web_base_url)

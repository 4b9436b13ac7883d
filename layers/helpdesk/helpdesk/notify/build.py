"""Builds the Notifier from Settings (the notifier function and the local stack use this)."""
from __future__ import annotations

from helpdesk import wiring
from helpdesk.config import Settings, get_settings
from helpdesk.notify.notifier import Notifier
from helpdesk.delivery.ses import SesEmailSender
from helpdesk.delivery.slack import SlackSecret
from helpdesk.notify.senders import SlackDmSender


def notifier_from_settings(settings: Settings | None = None) -> Notifier:
    settings = settings or get_settings()
    senders: dict = {"email": SesEmailSender(
        wiring.aws_client("ses", settings),
        from_address=f"Helpdesk <notifications@{settings.support_domain}>",
        configuration_set=settings.ses_configuration_set)}
    if settings.slack_secret_arn:  # without a bot token, Slack DMs are simply not a channel
        secret = SlackSecret(wiring.aws_client("secretsmanager", settings), settings.slack_secret_arn)
        senders["slack"] = SlackDmSender(secret.bot_token, base_url=settings.slack_api_base_url)
    return Notifier(wiring.data_api(), wiring.clock(settings), senders, web_base_url=settings.web_base_url)

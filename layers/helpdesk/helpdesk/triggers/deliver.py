"""How a trigger's messages leave: mail to the requester (threaded like our replies: the ticket's team
address, the signed Reply-To, the portal link), mail to agents (the notifier's automatic mail), and a
post in a Slack channel. The clients are helpdesk.delivery's; each raises DeliveryError.
"""
from __future__ import annotations

from typing import Any

from helpdesk.auth.portal import portal_url, sign_portal_token
from helpdesk.clock import Clock
from helpdesk.delivery import DeliveryError
from helpdesk.delivery.ses import SesEmailSender, send_raw_mail
from helpdesk.delivery.slack import SlackApi
from helpdesk.outbound.compose import compose_reply
from helpdesk.outbound.email import portal_footer
from helpdesk.outbound.html import render_html
from helpdesk.outbound.tokens import reply_address
from helpdesk.triggers.evaluate import TicketFacts


class TriggerDelivery:
    def __init__(self, *, ses_client: Any, clock: Clock, support_domain: str, signing_keys: Any, web_base_url: str,
                 configuration_set: str = "", slack: SlackApi | None = None) -> None:
        self.ses = ses_client
        self.clock = clock
        self.domain = support_domain.lower()
        self.signing_keys = signing_keys
        self.web_base_url = web_base_url
        self.configuration_set = configuration_set
        self.slack = slack
        self.agent_mail = SesEmailSender(ses_client, from_address=f"Helpdesk <notifications@{self.domain}>",
                                         configuration_set=configuration_set)

    def mail_requester(self, facts: TicketFacts, *, team_address: str | None, subject: str, body: str,
                       message_id: str) -> str:
        """One mail to the ticket's requester; their answer threads into the ticket (signed Reply-To)."""
        if not facts.requester_email:
            raise DeliveryError("the requester has no email address", retryable=False)
        if not facts.requester_email.isascii():
            raise DeliveryError("the requester's address has a non-ASCII local part, which SES does not send to",
                                retryable=False)
        token = sign_portal_token(facts.id, self.signing_keys, self.clock.now())
        text = body + portal_footer(portal_url(self.web_base_url, token))
        from_address = team_address or f"support@{self.domain}"
        mail = compose_reply(
            from_address=from_address, from_name=facts.team_name or "Support", to_address=facts.requester_email,
            to_name=facts.requester_name, reply_to=reply_address(facts.id, self.domain, self.signing_keys),
            subject=subject, number=facts.number, body_text=text, body_html=render_html(text, title=f"TKT-{facts.number}"),
            message_id=message_id, in_reply_to=None, references=[], loop_value=self.domain, sent_at=self.clock.now(),
            automatic=True)
        return send_raw_mail(self.ses, source=from_address, to=facts.requester_email, data=mail.as_bytes(),
                             configuration_set=self.configuration_set)

    def mail_agent(self, *, to: str, name: str | None, subject: str, body: str) -> str:
        return self.agent_mail.send({"to": to, "name": name, "subject": subject, "text": body})

    def post_slack(self, channel: str, text: str) -> str:
        if self.slack is None:
            raise DeliveryError("Slack is not configured (no bot token): the post was not made", retryable=False)
        answer = self.slack.call("chat.postMessage", {"channel": channel, "text": text, "unfurl_links": False,
                                                      "unfurl_media": False})
        return str(answer.get("ts") or "")

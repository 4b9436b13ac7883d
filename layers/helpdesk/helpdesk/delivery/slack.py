"""The Slack Web API with the bot token (Secrets Manager), used for ticket threads and agent DMs."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache
from typing import Any, Callable

from helpdesk.delivery import DeliveryError
from helpdesk.tls import client_context

# Slack errors about this recipient or message; everything else (rate limits, outages, a bad or
# revoked token: an operator fixes it and redrives the DLQ) is retried.
PERMANENT_ERRORS = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "is_archived",
                    "msg_too_long", "no_text", "invalid_blocks", "not_in_channel", "restricted_action"}


class SlackApi:
    """Slack Web API calls with the bot token: JSON POST for writes, form POST for reads."""

    def __init__(self, token: Callable[[], str], *, base_url: str = "https://slack.com/api/", timeout: float = 5.0) -> None:
        self.token = token
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def call(self, method: str, payload: dict[str, Any], *, form: bool = False) -> dict[str, Any]:
        if form:  # users.info and other read methods take form arguments
            data = urllib.parse.urlencode(payload).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(payload).encode()
            content_type = "application/json; charset=utf-8"
        request = urllib.request.Request(self.base_url + method, data=data, method="POST", headers={
            "Content-Type": content_type, "Authorization": f"Bearer {self.token()}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=client_context()) as response:  # noqa: S310 - https or the local stub
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"Slack {method} HTTP {exc.code}", retryable=exc.code == 429 or exc.code >= 500
                                or exc.code in (401, 403)) from exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc
        if not answer.get("ok"):
            error = str(answer.get("error") or "unknown_error")
            raise DeliveryError(f"Slack {method}: {error}", retryable=error not in PERMANENT_ERRORS)
        return answer

    def post_in_thread(self, channel: str, thread_ts: str, text: str) -> str:
        answer = self.call("chat.postMessage", {"channel": channel, "thread_ts": thread_ts, "text": text,
                                                "unfurl_links": False, "unfurl_media": False})
        return str(answer.get("ts") or "")

    def user_email(self, user_id: str) -> str | None:
        """The email on the user's Slack profile (needs the users:read.email scope), or None."""
        answer = self.call("users.info", {"user": user_id}, form=True)
        email = ((answer.get("user") or {}).get("profile") or {}).get("email")
        return str(email) if email else None


class SlackSecret:
    """The bot token from Secrets Manager ({"bot_token", "signing_secret"}), cached for a few minutes
    so a warm Lambda does not call Secrets Manager per message, yet picks up a rotation."""

    def __init__(self, secrets_client: Any, secret_arn: str, *, ttl_seconds: float = 300.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.secrets = secrets_client
        self.secret_arn = secret_arn
        self.ttl = ttl_seconds
        self.now = now
        self._cached: tuple[float, dict[str, Any]] | None = None

    def value(self) -> dict[str, Any]:
        if self._cached and self.now() - self._cached[0] < self.ttl:
            return self._cached[1]
        try:
            doc = json.loads(self.secrets.get_secret_value(SecretId=self.secret_arn)["SecretString"])
        except Exception as exc:  # noqa: BLE001
            raise DeliveryError(f"Slack secret {self.secret_arn} unavailable: {exc}", retryable=True) from exc
        if not isinstance(doc, dict) or not doc.get("bot_token"):
            raise DeliveryError(f"Slack secret {self.secret_arn} has no bot_token", retryable=True)
        self._cached = (self.now(), doc)
        return doc

    def bot_token(self) -> str:
        return str(self.value()["bot_token"])


@lru_cache(maxsize=4)
def _secret(secret_arn: str) -> SlackSecret:
    from helpdesk import wiring

    return SlackSecret(wiring.aws_client("secretsmanager"), secret_arn)


def slack_secret(settings: Any) -> SlackSecret:
    if not settings.slack_secret_arn:
        raise DeliveryError("Slack is not configured: SLACK_SECRET_ARN is empty", retryable=True)
    return _secret(settings.slack_secret_arn)


def slack_api(settings: Any, *, timeout: float = 5.0) -> SlackApi:
    return SlackApi(slack_secret(settings).bot_token, base_url=settings.slack_api_base_url, timeout=timeout)

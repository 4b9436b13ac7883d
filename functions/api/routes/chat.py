"""Web chat (public, no login): start a session (one ticket), post messages, poll public messages
after a cursor, end (transcript by email when the customer gave an address). The session token
returned by start is the credential. Rate-limited like the public form. Adapter: helpdesk.intake.chat."""
from __future__ import annotations

from typing import Annotated, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ConfigDict, Field

from helpdesk import wiring
from helpdesk.auth.ratelimit import Limit, RateLimiter
from helpdesk.tickets.models import normalize_email
from helpdesk.views import MAX_MESSAGE_POSITION

from ._shared import ApiModel, Doc, open_ticket, services, settings, source_ip

router = Router()
STARTS_PER_IP_PER_HOUR = 20
STARTS_PER_EMAIL_PER_HOUR = 10
MESSAGES_PER_SESSION_PER_HOUR = 120
MESSAGES_PER_IP_PER_HOUR = 600
VERIFY_ATTEMPTS_PER_SESSION_PER_HOUR = 5  # a 6-digit code: 5 guesses an hour cannot find it
POLL_INTERVAL_MS = 3000


class ChatStartIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: Optional[str] = Field(default=None, max_length=254, description="for the transcript; optional")
    message: str = Field(min_length=1, max_length=20_000)
    website: Optional[str] = Field(default=None, max_length=500, description="honeypot: leave empty")


class ChatStartOut(ApiModel):
    status: str
    token: Optional[str] = None
    ref: Optional[str] = None
    poll_interval_ms: int = POLL_INTERVAL_MS
    verification: Optional[str] = Field(default=None, description="code_sent: enter the code mailed to the address "
                                        "(POST .../verify); until then agents see the address as unverified")


class ChatVerifyIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$", description="the 6-digit code mailed to the chat's address")


class ChatMessageIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20_000)
    client_message_id: Optional[str] = Field(default=None, max_length=100,
                                             description="the same id twice is stored once (safe retries)")


class ChatMessagesOut(ApiModel):
    messages: list[Doc]
    cursor: int
    ended: bool
    status: str


def _chat_intake():
    """helpdesk.intake.chat, imported on the first chat request rather than on every cold start."""
    from helpdesk.intake import chat

    return chat


def _mailer():
    from helpdesk.delivery.ses import SesEmailSender  # only for a transcript or an address's verification code

    cfg = settings()
    sender = SesEmailSender(wiring.aws_client("ses", cfg), from_address=f"Support <support@{cfg.support_domain}>",
                            configuration_set=cfg.ses_configuration_set)
    return sender.send


def _chat(with_mailer: bool = False):
    svc = services()
    return _chat_intake().ChatSessions(svc.db, svc.clock, svc.publisher, settings().signing_keys,
                        open_ticket=lambda new, actor: open_ticket(svc, new, actor=actor, idempotency_key=None, scope="chat"),
                        mailer=_mailer() if with_mailer else None)


@router.post("/public/chat/sessions", summary="Web chat: start a conversation (one ticket; rate-limited)",
             responses={201: {"description": "started", "content": {"application/json": {"model": ChatStartOut}}},
                        202: {"description": "received (honeypot filled: nothing stored)",
                              "content": {"application/json": {"model": ChatStartOut}}},
                        429: {"description": "too many requests (Retry-After)"}})
def start_chat(body: ChatStartIn) -> Response[ChatStartOut]:
    if body.website:  # honeypot filled: a bot
        return Response(202, content_types.APPLICATION_JSON, ChatStartOut(status="received").model_dump())
    limits = [Limit(f"chat-ip:{source_ip(router)}", STARTS_PER_IP_PER_HOUR)]
    if body.email:
        try:
            limits.append(Limit(f"chat-sender:{normalize_email(body.email)}", STARTS_PER_EMAIL_PER_HOUR))
        except ValueError:
            pass  # the adapter names the bad address
    svc = services()
    RateLimiter(svc.db, svc.clock).hit(limits)
    started = _chat(with_mailer=bool(body.email)).start(name=body.name, email=body.email, message=body.message)
    out = ChatStartOut(status="started", token=started.token, ref=started.ref, verification=started.verification)
    return Response(201, content_types.APPLICATION_JSON, out.model_dump())


@router.post("/public/chat/sessions/<token>/messages", summary="Web chat: the customer writes (rate-limited)",
             responses={201: {"description": "received", "content": {"application/json": {"model": Doc}}}})
def post_chat_message(token: str, body: ChatMessageIn) -> Response[Doc]:
    svc = services()
    sid = _chat_intake().verify_session_token(token, settings().signing_keys, svc.clock.now())
    RateLimiter(svc.db, svc.clock).hit([Limit(f"chat-session:{sid}", MESSAGES_PER_SESSION_PER_HOUR),
                                        Limit(f"chat-msg-ip:{source_ip(router)}", MESSAGES_PER_IP_PER_HOUR)])
    return Response(201, content_types.APPLICATION_JSON, _chat().post(token, body.body, body.client_message_id))


@router.get("/public/chat/sessions/<token>/messages",
            summary="Web chat: public messages after `after` (a cursor: pass back `cursor`)")
def poll_chat(token: str, after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_POSITION)] = 0) -> ChatMessagesOut:
    return ChatMessagesOut(**_chat().poll(token, after))


@router.post("/public/chat/sessions/<token>/verify",
             summary="Web chat: the visitor proves the address they gave with the code mailed to it (rate-limited)")
def verify_chat_address(token: str, body: ChatVerifyIn) -> Doc:
    svc = services()
    sid = _chat_intake().verify_session_token(token, settings().signing_keys, svc.clock.now())
    RateLimiter(svc.db, svc.clock).hit([Limit(f"chat-verify:{sid}", VERIFY_ATTEMPTS_PER_SESSION_PER_HOUR)])
    return Doc(**_chat().verify(token, body.code))


@router.post("/public/chat/sessions/<token>/end",
             summary="Web chat: the customer leaves; the transcript is mailed once if they gave an email")
def end_chat(token: str) -> Doc:
    return Doc(**_chat(with_mailer=True).end(token))

"""Quarantined inbound mail (spam and virus verdicts, rate-limited senders, unmatched automatic
mail, unparseable or unusable mail): admins list it and release what is a real customer's mail.

Admin only, both routes: quarantined mail can be malware or phishing, and releasing one opens a
ticket from a sender the filters rejected, which is a deployment-wide decision rather than a queue
lead's. Releasing reads the raw copy from S3 (the row's raw_bucket/raw_key; RAW_MAIL_BUCKET when
the row names no bucket) and processes it as a person's mail, without the spam verdict and the
sender burst limit."""
from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic_core import to_jsonable_python

from helpdesk import errors, wiring
from helpdesk.tickets.commands import TicketCommands

from ._shared import ApiModel, Doc, TicketOut, audit, caller, services, settings, ticket_json

router = Router()
MAX_LIMIT = 200
Reason = Literal["spam", "virus", "rate_limited", "auto_reply_unmatched", "unparseable", "error"]


def _email_intake() -> SimpleNamespace:
    """The email intake (helpdesk.intake.email: .s3 and .service), imported on first use: MIME parsing,
    HTML cleaning and classification cost ~35 ms of imports that only these admin routes need, so
    they stay out of every cold start."""
    from helpdesk.intake.email import s3, service

    return SimpleNamespace(s3=s3, service=service)


class QuarantinePageOut(ApiModel):
    items: list[Doc]
    has_more: bool
    next_cursor: None = None  # the list is newest first and bounded by `limit`; no cursor yet


class ReleaseOut(ApiModel):
    quarantine_id: uuid.UUID
    action: str
    reason: str
    ticket: TicketOut


@router.get("/admin/quarantine", summary="Quarantined inbound mail, newest first (admin)")
def list_quarantined(reason: Annotated[Reason | None, Query(description="only this quarantine reason")] = None,
                     include_released: Annotated[bool, Query(description="also mail already released")] = False,
                     limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> QuarantinePageOut:
    caller(router, "admin")
    # One row more than asked says whether there is more without a count query.
    rows = _email_intake().service.list_quarantine(services().db, limit=limit + 1, reason=reason,
                                                   include_released=include_released)
    return QuarantinePageOut(items=to_jsonable_python(rows[:limit]), has_more=len(rows) > limit)


@router.post("/admin/quarantine/<quarantine_id>/release",
             summary="Release a quarantined mail: it becomes a ticket (or a message on its ticket) (admin)",
             description="Reads the raw mail from S3 and processes it as a person's mail. Errors (problem+json): 404 "
                         "unknown id, 409 already released, 410 the raw mail is gone from S3, 422 an unparseable "
                         "mail or one that cannot become a ticket, 503 S3 or the raw-mail/attachments bucket "
                         "unavailable (Retry-After).")
def release(quarantine_id: uuid.UUID) -> Response[ReleaseOut]:
    who = caller(router, "admin")
    svc = services()
    config = settings()
    email = _email_intake()
    s3 = wiring.aws_client("s3", config)
    # S3 trouble raises MailStorageUnavailable: problems.py answers 503 with Retry-After.
    intake = email.s3.s3_email_intake(svc.db, svc.clock, svc.publisher, config, s3)
    outcome = email.s3.release_from_s3(intake, s3, quarantine_id, default_bucket=config.raw_mail_bucket or None)
    if outcome.ticket_id is None:
        # The mail parsed but could not become a ticket even without its verdict (e.g. no usable From).
        raise errors.ValidationFailed(f"the released mail did not become a ticket: {outcome.action} ({outcome.reason})",
                                      action=outcome.action)
    view = TicketCommands(svc.db, svc.clock, svc.publisher).get_ticket(outcome.ticket_id, message_limit=0)
    released = ReleaseOut(quarantine_id=quarantine_id, action=outcome.action, reason=outcome.reason,
                          ticket=TicketOut(**ticket_json(view.ticket)))
    audit(who, "release", "quarantine", quarantine_id, {"ticket_id": str(outcome.ticket_id), "action": outcome.action})
    return Response(200, content_types.APPLICATION_JSON, released.model_dump(mode="json"))


@router.get("/admin/quarantine/<quarantine_id>",
            summary="Read a quarantined mail safely: headers, its text and attachment names (never its HTML) (admin)")
def read_quarantined(quarantine_id: uuid.UUID) -> Doc:
    caller(router, "admin")
    from helpdesk.admin import quarantine

    config = settings()
    mail = quarantine.read(services().db, wiring.aws_client("s3", config), quarantine_id,
                           default_bucket=config.raw_mail_bucket or None)
    return Doc(**to_jsonable_python(mail))


@router.delete("/admin/quarantine/<quarantine_id>", summary="Delete a quarantined mail (admin)",
               responses={204: {"description": "deleted"}})
def delete_quarantined(quarantine_id: uuid.UUID):
    from helpdesk.admin import quarantine

    svc = services()
    quarantine.delete(svc.db, svc.clock, quarantine_id, caller(router, "admin"))
    return Response(204, None, None)

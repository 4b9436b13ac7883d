"""SLA report (the sla engineer's helpdesk.sla.reports.sla_report): leads and admins."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal, Optional, Union

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime

from helpdesk import errors

from ._shared import Doc, caller, services
from .lead_reports import CSV_RESPONSE, answer

router = Router()
MAX_DAYS = 366


def report(db, **kw):
    from helpdesk.sla.reports import sla_report

    return sla_report(db, **kw)


@router.get("/reports/sla", summary="First response / resolution p50, p95, mean (business time) and breach rate per team",
            responses=CSV_RESPONSE)
def sla(since: Annotated[AwareDatetime, Query()], until: Annotated[AwareDatetime, Query()],
        team: Annotated[Optional[uuid.UUID], Query()] = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response[Union[Doc, str]]:  # noqa: A002 - the query parameter
    from helpdesk.insight.reports import sla_csv

    caller(router, "lead")
    if until <= since:
        raise errors.ValidationFailed("until must be after since")
    if (until - since).days > MAX_DAYS:
        raise errors.ValidationFailed(f"the period is at most {MAX_DAYS} days")
    svc = services()
    return answer(report(svc.db, since=since, until=until, now=svc.clock.now(), team_id=team), format, sla_csv,
                  f"sla_{since.date().isoformat()}_{until.date().isoformat()}")

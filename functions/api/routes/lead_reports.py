"""The leads' operations reports (helpdesk.insight.reports): volume over time, backlog and age, per
agent; each as JSON or, with format=csv, as a CSV download. Leads and admins."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal, Optional, Union

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime

from ._shared import Doc, caller, services

router = Router()
Format = Literal["json", "csv"]
CSV_RESPONSE = {200: {"description": "the report (JSON, or CSV with format=csv)",
                      "content": {"application/json": {"model": Doc}, "text/csv": {"schema": {"type": "string"}}}}}


def answer(report: dict, fmt: str, to_csv, filename: str) -> Response:
    """The report as JSON, or as a CSV attachment."""
    if fmt == "csv":
        return Response(200, "text/csv; charset=utf-8", to_csv(report),
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return Response(200, content_types.APPLICATION_JSON, report)


def _span(since, until) -> str:
    return f"{since.date().isoformat()}_{until.date().isoformat()}"


@router.get("/reports/volume", summary="Tickets created per day, week or month: total, by channel, by team",
            description="Spam, duplicates and merged tickets are left out. Periods are local to `timezone` (IANA); "
                        "day covers at most 92 days, week and month 366.", responses=CSV_RESPONSE)
def volume(since: Annotated[AwareDatetime, Query()], until: Annotated[AwareDatetime, Query()],
           unit: Annotated[Literal["day", "week", "month"], Query()] = "day",
           timezone: Annotated[str, Query(max_length=64)] = "UTC",
           team: Annotated[Optional[uuid.UUID], Query()] = None,
           format: Annotated[Format, Query()] = "json") -> Response[Union[Doc, str]]:  # noqa: A002 - the query parameter's name
    from helpdesk.insight.reports import volume_csv, volume_report

    caller(router, "lead")
    report = volume_report(services().db, since=since, until=until, unit=unit, timezone=timezone, team_id=team)
    return answer(report, format, volume_csv, f"volume_{unit}_{_span(since, until)}")


@router.get("/reports/backlog", summary="Tickets in flight now by team and status, the backlog and its age",
            description="The backlog is our turn: in flight but not waiting on the customer. Ages are wall-clock "
                        "seconds since creation.", responses=CSV_RESPONSE)
def backlog(team: Annotated[Optional[uuid.UUID], Query()] = None,
            format: Annotated[Format, Query()] = "json") -> Response[Union[Doc, str]]:  # noqa: A002
    from helpdesk.insight.reports import backlog_csv, backlog_report

    caller(router, "lead")
    svc = services()
    now = svc.clock.now()
    report = backlog_report(svc.db, now=now, team_id=team)
    return answer(report, format, backlog_csv, f"backlog_{now.date().isoformat()}")


@router.get("/reports/agents", summary="Per agent: handled, solved, reopen rate, first response and resolution",
            description="Tickets created in the period, by current assignee; first response and resolution in "
                        "business seconds (waiting on the customer subtracted; p50, p95, mean). At most 366 days.",
            responses=CSV_RESPONSE)
def agents(since: Annotated[AwareDatetime, Query()], until: Annotated[AwareDatetime, Query()],
           team: Annotated[Optional[uuid.UUID], Query()] = None,
           format: Annotated[Format, Query()] = "json") -> Response[Union[Doc, str]]:  # noqa: A002
    from helpdesk.insight.reports import agents_csv, agents_report

    caller(router, "lead")
    svc = services()
    report = agents_report(svc.db, since=since, until=until, now=svc.clock.now(), team_id=team)
    return answer(report, format, agents_csv, f"agents_{_span(since, until)}")

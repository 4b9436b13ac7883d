"""The Reports page's operations sections (web/js/views/operations.js) as a lead sees them: volume,
backlog and per-agent tables with the team's and agent's figures, CSV downloads, accessibility."""
from __future__ import annotations

import csv
import io


def _worked_ticket(make_ticket, admin_api, workspace, subject: str) -> dict:
    ticket = make_ticket(workspace.team_id, subject, "for the reports")
    admin_api.call("POST", f"/tickets/{ticket['id']}/assign", {"agent_id": workspace.agent_id})
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "in_progress"})
    admin_api.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "answer", "visibility": "public"})
    admin_api.call("POST", f"/tickets/{ticket['id']}/status", {"status": "resolved"})
    return ticket


def test_operations_reports_show_volume_backlog_and_agents(page, a11y, sign_in, workspace, make_ticket, admin_api):
    _worked_ticket(make_ticket, admin_api, workspace, "Solved for the report")
    make_ticket(workspace.team_id, "Still waiting in the queue", "backlog")  # pull team: stays new, unassigned

    sign_in(page, "admin@example.com", "#/reports")
    page.locator("#agents-report table").wait_for()
    page.shot("operations-reports")

    volume = page.locator("#volume-report")
    assert volume.locator("svg.chart[role='img']").count() == 1
    team_row = volume.locator("table tbody tr", has_text=workspace.team_name)
    assert team_row.locator("td").first.inner_text() == "2"  # two tickets created in the period

    backlog = page.locator("#backlog-report table tbody tr", has_text=workspace.team_name)
    cells = backlog.locator("td").all_inner_texts()
    # In flight, New, Assigned, In progress, Reopened, Waiting, Backlog, Unassigned: the queued ticket only
    assert cells[:8] == ["1", "1", "0", "0", "0", "0", "1", "1"], cells
    assert cells[8] != "—"  # its age
    assert page.locator("#backlog-report tbody tr").last.locator("th").inner_text() == "All teams"

    agent = page.locator("#agents-report table tbody tr", has_text="Browser QA Agent")
    agent_cells = agent.filter(has_text=workspace.team_name.split()[-1]).locator("td").all_inner_texts()
    assert agent_cells[:3] == ["1", "1", "0.0%"], agent_cells  # handled, solved, reopen rate
    assert agent_cells[3] != "—"  # first response p50
    assert agent_cells[-1] == "—"  # satisfaction: arrives with the ratings

    assert a11y.unlabelled(page) == []
    contrast = a11y.contrast(page)
    assert contrast["failures"] == [], contrast["failures"][:5]


def test_each_operations_report_downloads_as_csv(page, sign_in, workspace, make_ticket, admin_api):
    _worked_ticket(make_ticket, admin_api, workspace, "Solved for the CSV")
    make_ticket(workspace.team_id, "Queued for the CSV", "backlog")
    sign_in(page, "admin@example.com", "#/reports")
    page.locator("#agents-report table").wait_for()
    expected = {"#volume-report": "period,breakdown,name,tickets", "#backlog-report": "team,in_flight,new,assigned",
                "#agents-report": "agent,email,handled,solved,reopened,reopen_rate"}
    for section, header in expected.items():
        with page.expect_download() as download:
            page.locator(f"{section} button.csv-download").click()
        text = open(download.value.path(), encoding="utf-8").read()
        rows = list(csv.reader(io.StringIO(text)))
        assert ",".join(rows[0]).startswith(header), (section, rows[0])
        assert any(workspace.team_name in row or any(workspace.agent_email == c for c in row) for row in rows[1:]), section
    with page.expect_download() as download:
        page.get_by_role("button", name="Download SLA CSV").click()
    sla = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sla[0][0] == "team" and sla[-1][0] == "All teams"
    assert any(row[0] == workspace.team_name for row in sla)

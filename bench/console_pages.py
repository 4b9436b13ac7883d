"""The API requests each admin console page makes on its first load (web/js/admin/*.js), for
bench/bench_console.py to count their Data API calls. tests/e2e/browser/test_admin_console.py checks
that the pages request exactly these, so the two cannot drift apart."""
from __future__ import annotations

# Section -> the GET requests its first load makes (path, query), in web/js/admin/*.js. Teams and
# agents named on a page come from the workspace's directory, loaded once at sign-in.
PAGES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "teams": [("/schedules", {}), ("/teams", {})],
    "agents": [("/agents", {"include_inactive": "true"})],
    "schedules": [("/schedules", {})],
    "sla": [("/schedules", {}), ("/teams", {}), ("/sla-policies", {})],
    "routing": [("/teams", {}), ("/routing-rules", {})],
    "kb": [("/kb/articles", {"include_unpublished": "true", "limit": "100"})],
    "slack": [("/channels/slack/channels", {})],
    "quarantine": [("/admin/quarantine", {"limit": "100"})],
    "customers": [("/sla-policies", {}), ("/organizations", {"limit": "500"})],
    "organizations": [("/sla-policies", {}), ("/organizations", {"limit": "500"})],
    "audit": [("/admin/audit", {"limit": "50"})],
}
ONCE_PER_VISIT = [("/docs", {"format": "json"})]

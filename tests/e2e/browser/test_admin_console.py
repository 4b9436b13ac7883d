"""The admin console in a real browser against the local stack: every page by role (admins all,
leads their teams and the knowledge base, agents none), forms that show the API's errors next to
their fields, the checks computed by the server (open hours, SLA preview, routing dry run), the
quarantine read as text, organizations, and the audit trail naming who changed what."""
from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage

import pytest

from tests.e2e.browser.test_accessibility import _assert_good

pytestmark = pytest.mark.slow

ADMIN = "admin@example.com"
LEAD = "tara@example.com"  # a seeded lead (local/seed.py)
SECTIONS = ["Teams", "Agents", "Schedules", "SLA policies", "Routing rules", "Knowledge base", "Slack channels",
            "Email quarantine", "Customers", "Organizations", "Audit trail"]


def open_section(page, name: str) -> None:
    page.locator(".admin-nav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_selector(f"h1#admin-heading:has-text('{name}')" if name != "Teams" else "h1#admin-heading")
    page.wait_for_function("!document.querySelector('.admin-content') || document.querySelector('.admin-content').children.length > 1")


def field(page, form: str, name: str):
    """The field wrapper of `name` in a form: its control, and its error paragraph."""
    return page.locator(f"{form} .field[data-field='{name}']")


def test_every_page_is_there_for_admins_and_accessible(page, a11y, sign_in):
    sign_in(page, ADMIN, "#/admin")
    nav = page.locator(".admin-nav a")
    nav.first.wait_for()
    assert nav.all_inner_texts() == SECTIONS
    for name in SECTIONS:
        open_section(page, name)
        page.wait_for_timeout(150)  # lists load after the heading
        _assert_good(page, a11y, f"admin {name}")
        page.shot(name.lower().replace(" ", "-"))


def test_leads_see_their_teams_and_the_knowledge_base_agents_see_nothing(page, sign_in, workspace, browser, local_stack):
    sign_in(page, LEAD, "#/admin")
    page.locator(".admin-nav a").first.wait_for()
    assert page.locator(".admin-nav a").all_inner_texts() == ["Teams", "Knowledge base"]
    assert page.inner_text("h1#admin-heading") == "My teams"
    assert page.locator("#new-team").count() == 0  # leads read team settings, admins change them
    page.locator("#team-list, .admin-list .empty").first.wait_for()

    agent_context = browser.new_context(base_url=local_stack.url)
    try:
        tab = agent_context.new_page()
        sign_in(tab, workspace.agent_email, "#/admin")
        assert tab.locator("#nav a", has_text="Admin").count() == 0
        tab.wait_for_selector("#admin-forbidden")
    finally:
        agent_context.close()


def test_team_form_shows_schema_and_api_errors_next_to_fields_and_the_audit_names_the_admin(page, sign_in):
    name = f"Console team {uuid.uuid4().hex[:6]}"
    sign_in(page, ADMIN, "#/admin/teams")
    page.locator("#new-team").click()
    form = "#team-form"
    # Empty name: refused by the rule the API's schema declares, before anything is sent.
    page.locator(f"{form} button[type=submit]").click()
    name_field = field(page, form, "name")
    name_field.locator(".field-error").wait_for()
    assert name_field.locator(".field-error").inner_text() == "Field required"
    assert name_field.locator("input").get_attribute("aria-invalid") == "true"
    # A bad address: the API's answer (422, loc body.email_address) is shown next to that field.
    name_field.locator("input").fill(name)
    field(page, form, "email_address").locator("input").fill("not an address")
    page.locator(f"{form} button[type=submit]").click()
    email_error = field(page, form, "email_address").locator(".field-error")
    email_error.wait_for()
    assert "not an email address" in email_error.inner_text()
    assert name_field.locator(".field-error").is_hidden()
    page.shot("team-errors")
    field(page, form, "email_address").locator("input").fill(f"{uuid.uuid4().hex[:6]}@example.com")
    field(page, form, "assignment_mode").locator("select").select_option("pull")
    page.locator(f"{form} button[type=submit]").click()
    page.locator("#team-list tr", has_text=name).wait_for()
    assert "Pull" in page.locator("#team-list tr", has_text=name).inner_text()

    open_section(page, "Audit trail")
    row = page.locator("#audit-list tbody tr").first
    row.wait_for()
    assert "admin@example.com (admin)" in row.inner_text() and "Create team" in row.inner_text() and name in row.inner_text()


def test_organizations_group_customers_by_domain_and_refuse_public_domains(page, sign_in, make_ticket):
    domain = f"org{uuid.uuid4().hex[:6]}.example"
    sign_in(page, ADMIN, "#/admin/organizations")
    page.locator("#new-organization").click()
    form = "#organization-form"
    field(page, form, "name").locator("input").fill(f"Org {domain}")
    field(page, form, "domains").locator("input").fill(f"{domain}, gmail.com")
    field(page, form, "tier").locator("select").select_option("enterprise")
    page.locator(f"{form} button[type=submit]").click()
    error = field(page, form, "domains").locator(".field-error")
    error.wait_for()
    assert "public mail domain" in error.inner_text()
    field(page, form, "domains").locator("input").fill(domain)
    page.locator(f"{form} button[type=submit]").click()
    row = page.locator("#organization-list tr", has_text=domain)
    row.wait_for()
    assert "Enterprise" in row.inner_text()

    make_ticket(None, "From a member", "hello", requester_email=f"wile@{domain}")
    page.reload()
    row = page.locator("#organization-list tr", has_text=domain)
    row.get_by_role("button", name="Members").click()
    member = page.locator("#member-list tr", has_text=f"wile@{domain}")
    member.wait_for()
    assert "Enterprise" in member.inner_text()

    # The customer's own tier wins over the organization's.
    open_section(page, "Customers")
    page.locator("#customer-q").fill(f"wile@{domain}")
    page.get_by_role("button", name="Find").click()
    page.locator("#customer-list tr", has_text=domain).get_by_role("button", name="Edit").click()
    field(page, "#customer-form", "tier").locator("select").select_option("premium")
    page.locator("#customer-form button[type=submit]").click()
    page.locator("#customer-list tr", has_text="Premium (own)").wait_for()


def test_schedule_week_grid_with_lunch_break_and_the_open_hours_check(page, sign_in):
    sign_in(page, ADMIN, "#/admin/schedules")
    page.locator("#new-schedule").click()
    # The standard week: 09:00-12:00 and 13:00-17:00 on weekdays; the server computes the next 7 days.
    table = page.locator("#open-hours-table")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 7
    texts = rows.all_inner_texts()
    weekdays = [t for t in texts if not t.startswith(("Saturday", "Sunday"))]
    assert weekdays and all("09:00–12:00, 13:00–17:00" in t for t in weekdays), texts
    assert all("closed" in t for t in texts if t.startswith(("Saturday", "Sunday")))
    # A bad time zone: the error is shown next to the field, from the server's schedule check.
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.locator("#check-open-hours").click()
    error = page.locator("#schedule-form .field-error:not([hidden])")
    error.wait_for()
    assert "Mars/Olympus" in error.inner_text()
    assert page.get_by_label("Time zone").get_attribute("aria-invalid") == "true"
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Name", exact=True).fill(f"Berlin {uuid.uuid4().hex[:6]}")
    page.get_by_label("Holidays", exact=True).fill("2030-12-25")
    page.locator("#schedule-form button[type=submit]").click()
    page.locator("#schedule-list tr", has_text="Europe/Berlin").first.wait_for()


@pytest.fixture
def cleanup(admin_api):
    """Settings a test creates that would change other tests' tickets (the stack is shared): deleted after."""
    paths: list[str] = []
    yield paths
    for path in paths:
        admin_api.call("DELETE", path, expect=(204, 404))


def test_sla_policy_with_preview_and_routing_dry_run(page, sign_in, admin_api, cleanup):
    name = f"Console urgent {uuid.uuid4().hex[:6]}"
    sign_in(page, ADMIN, "#/admin/sla")
    page.locator("#new-policy").click()
    form = "#policy-form"
    field(page, form, "name").locator("input").fill(name)
    field(page, form, "position").locator("input").fill("0")
    field(page, form, "priority").locator("select").select_option("urgent")
    field(page, form, "channel").locator("select").select_option("chat")  # no other test's tickets
    # A target below the API's minimum (60 s) is refused next to its field.
    field(page, form, "targets.first_response.seconds").locator("input").fill("0.001")
    page.locator(f"{form} button[type=submit]").click()
    error = field(page, form, "targets.first_response.seconds").locator(".field-error")
    error.wait_for()
    assert "greater than or equal to 60" in error.inner_text()
    field(page, form, "targets.first_response.seconds").locator("input").fill("2")
    field(page, form, "targets.first_response.business").locator("input").uncheck()
    page.locator(f"{form} button[type=submit]").click()
    page.locator("#policy-list tr", has_text=name).wait_for()
    cleanup += [f"/sla-policies/{p['id']}" for p in admin_api.call("GET", "/sla-policies")["items"] if p["name"] == name]

    preview = "#sla-preview-form"
    field(page, preview, "priority").locator("select").select_option("urgent")
    field(page, preview, "channel").locator("select").select_option("chat")
    page.locator(f"{preview} button[type=submit]").click()
    result = page.locator("#sla-preview-result")
    result.locator("li[data-kind='first_response']").wait_for()
    assert name in result.inner_text() and "2h 0m in calendar time" in result.inner_text()

    open_section(page, "Routing rules")
    dry = "#dry-run-form"
    field(page, dry, "recipients").locator("input").fill("billing@example.com")
    page.locator(f"{dry} button[type=submit]").click()
    page.locator("#dry-run-result").wait_for()
    page.wait_for_function("document.getElementById('dry-run-result').textContent.includes('Billing')")
    assert "Billing address" in page.inner_text("#dry-run-result")


def test_quarantine_reads_mail_as_text_then_deletes_it(page, sign_in, local_stack):
    marker = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = "Mallory <mallory@phish.test>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Verify your account {marker}"
    mail["Message-ID"] = f"<{marker}@phish.test>"
    mail["X-SES-Spam-Verdict"] = "FAIL"
    mail.set_content(f"plain {marker}")
    mail.add_alternative(f"<p>Click <a href='https://evil.test'>here</a> {marker}<img src=x onerror=alert(1)></p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)

    sign_in(page, ADMIN, "#/admin/quarantine")
    row = page.locator("#quarantine-list tr", has_text=marker)
    for _ in range(30):
        if row.count():
            break
        time.sleep(0.5)
        page.get_by_role("button", name="Show").click()
    row.get_by_role("button", name="Read").click()
    article = page.locator("article.quarantined-mail")
    article.wait_for()
    assert f"Verify your account {marker}" in article.locator("h2").inner_text()
    assert marker in article.locator("pre.mail-text").inner_text()
    assert article.locator("a, img, script, iframe").count() == 0
    page.shot("quarantine-read")
    page.confirm_answer = True  # the page's confirm() (answered by the page fixture)
    article.get_by_role("button", name="Delete").click()
    page.wait_for_function(f"!document.getElementById('quarantine-list') || !document.getElementById('quarantine-list').textContent.includes('{marker}')")
    assert not page.problems.dialogs


def test_agents_invite_shows_a_local_token_and_kb_drafts_publish(page, sign_in, admin_api, cleanup):
    email = f"new.{uuid.uuid4().hex[:6]}@example.com"
    sign_in(page, ADMIN, "#/admin/agents")
    page.locator("#new-agent").click()
    form = "#agent-form"
    field(page, form, "email").locator("input").fill(email)
    field(page, form, "name").locator("input").fill("New Agent")
    field(page, form, "capacity").locator("input").fill("5000")
    page.locator(f"{form} button[type=submit]").click()
    error = field(page, form, "capacity").locator(".field-error")
    error.wait_for()
    assert "less than or equal to 1000" in error.inner_text()
    field(page, form, "capacity").locator("input").fill("4")
    page.locator(f"{form} button[type=submit]").click()
    row = page.locator("#agent-list tr", has_text=email)
    row.wait_for()
    row.get_by_role("button", name="Invite").click()
    token = page.get_by_label("Local sign-in token")
    token.wait_for()
    assert token.input_value().count(".") == 2

    open_section(page, "Knowledge base")
    title = f"Reset a password {uuid.uuid4().hex[:6]}"
    page.locator("#new-article").click()
    field(page, "#article-form", "title").locator("input").fill(title)
    field(page, "#article-form", "body").locator("textarea").fill("Use the link on the sign-in page.")
    page.locator("#article-form button[type=submit]").click()
    row = page.locator("#article-list tr", has_text=title)
    row.wait_for()
    assert "draft" in row.inner_text()
    cleanup.append(f"/kb/articles/{row.get_attribute('data-id')}")
    row.get_by_role("button", name="Edit").click()
    field(page, "#article-form", "is_published").locator("input").check()
    page.locator("#article-form button[type=submit]").click()
    page.wait_for_function(f"[...document.querySelectorAll('#article-list tr')].some(r => r.textContent.includes('{title}') && r.textContent.includes('published'))")


def test_each_page_requests_what_the_console_benchmark_counts(page, sign_in):
    """bench/bench_console.py counts Data API calls per page from bench/console_pages.PAGES: the pages
    must request exactly those (the API schema once per visit)."""
    from urllib.parse import parse_qsl, urlsplit

    from bench.console_pages import ONCE_PER_VISIT, PAGES

    requested: list[tuple[str, dict[str, str]]] = []

    def record(request) -> None:
        url = urlsplit(request.url)
        if url.path.startswith("/api/v1/") and not url.path.startswith("/api/v1/dev/"):
            requested.append((url.path.removeprefix("/api/v1"), dict(parse_qsl(url.query))))

    sign_in(page, ADMIN)
    page.wait_for_load_state("networkidle")
    page.on("request", record)
    seen_schema = []
    for section, expected in PAGES.items():
        requested.clear()
        page.evaluate(f"window.location.hash = '#/admin/{section}'")
        page.wait_for_selector("h1#admin-heading")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(200)
        seen_schema += [r for r in requested if r in ONCE_PER_VISIT]
        pages_requests = [r for r in requested if r not in ONCE_PER_VISIT]
        key = lambda r: (r[0], sorted(r[1].items()))  # noqa: E731
        assert sorted(pages_requests, key=key) == sorted(expected, key=key), section
    assert seen_schema == ONCE_PER_VISIT


def test_suggested_organizations_come_from_customers_domains(page, sign_in, make_ticket):
    domain = f"sug{uuid.uuid4().hex[:6]}.example"
    for who in ("ann", "bob"):
        make_ticket(None, "Hello", "from a company", requester_email=f"{who}@{domain}")
    make_ticket(None, "Hello", "from gmail", requester_email=f"{uuid.uuid4().hex[:6]}@gmail.com")
    sign_in(page, ADMIN, "#/admin/organizations")
    page.locator("#suggest-organizations").click()
    row = page.locator("#suggestion-list tr", has_text=domain)
    row.wait_for()
    assert "2" in row.inner_text()
    assert page.locator("#suggestion-list tr", has_text="gmail.com").count() == 0
    row.get_by_role("button", name=f"Create an organization for {domain}").click()
    created = page.locator("#organization-list tr", has_text=domain)
    created.wait_for()
    assert created.locator("td").nth(4).inner_text() == "2"

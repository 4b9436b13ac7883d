// Operations reports for leads (issue 23), shown on the Reports page below the SLA report: volume
// over time by channel and team, the backlog and its age, and per agent. Each figure comes from the
// API (GET /reports/volume, /reports/backlog, /reports/agents); each section downloads as CSV
// (the same endpoint with format=csv).
import { groupedBarChart } from "../charts.js";
import { h, render } from "../dom.js";
import { formatDuration } from "../format.js";

const dash = "—";
const dur = (v) => (v === null || v === undefined ? dash : formatDuration(v));
const pct = (v) => (v === null || v === undefined ? dash : `${(v * 100).toFixed(1)}%`);
const num = (v) => (v === null || v === undefined ? dash : String(v));

function localTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** A button that downloads `path` with format=csv (the API needs the bearer token, so no plain link).
 * `query` is an object, or a function giving it at click time. */
export function csvButton(ctx, path, query, filename, label = "Download CSV") {
  const button = h("button", { type: "button", class: "csv-download" }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const current = typeof query === "function" ? query() : query;
      const text = await ctx.api.request("GET", path, { query: { ...current, format: "csv" }, headers: { Accept: "text/csv" } });
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = h("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      button.after(h("p", { class: "error", role: "alert" }, `The CSV download failed: ${err.message}`));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function table(caption, headers, rows) {
  return h("div", { class: "table-scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h("table", { class: "ops-table" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map(([head, ...cells]) => h("tr", {}, h("th", { scope: "row" }, head),
        cells.map((c) => h("td", {}, c)))))));
}

function section(id, title, ...children) {
  return h("section", { class: "ops-report", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title), ...children);
}

function failed(id, title, err) {
  const text = err.status === 403 ? "Reports are for leads and admins." : `This report failed: ${err.message}`;
  return section(id, title, h("p", { class: "error" }, text));
}

export async function volumeSection(ctx, { since, until, unit }) {
  const query = { since, until, unit, timezone: localTimeZone() };
  let report;
  try {
    report = await ctx.api.get("/reports/volume", query);
  } catch (err) {
    return failed("volume-report", "Volume", err);
  }
  const periods = report.periods || [];
  const sumOf = (row) => row.reduce((a, b) => a + b, 0);
  return section("volume-report", `Volume by ${unit} (${report.timezone})`,
    csvButton(ctx, "/reports/volume", query, `volume-${unit}.csv`),
    h("figure", {}, h("figcaption", {}, `Tickets created per ${unit} (spam, duplicates and merged tickets left out)`),
      groupedBarChart({ title: `Tickets created per ${unit}`, series: [{ name: "tickets", className: "bar-a" }],
        groups: periods.map((p, i) => ({ label: p, values: [{ series: "tickets", value: report.total[i] }] })) })),
    table(`Tickets per ${unit} by channel`, [unit[0].toUpperCase() + unit.slice(1), "All", ...report.by_channel.map((c) => c.channel)],
      periods.map((p, i) => [p, num(report.total[i]), ...report.by_channel.map((c) => num(c.tickets[i]))])
        .concat([["Total", num(sumOf(report.total)), ...report.by_channel.map((c) => num(c.sum))]])),
    table(`Tickets per ${unit} by team`, ["Team", "Total", ...periods],
      report.by_team.map((t) => [t.team_name, num(t.sum), ...t.tickets.map(num)])));
}

export async function backlogSection(ctx) {
  let report;
  try {
    report = await ctx.api.get("/reports/backlog");
  } catch (err) {
    return failed("backlog-report", "Backlog", err);
  }
  const rows = report.teams.concat([{ team_name: "All teams", ...report.overall }]);
  return section("backlog-report", "Backlog now (our turn: not waiting on the customer)",
    csvButton(ctx, "/reports/backlog", {}, "backlog.csv"),
    report.teams.length ? h("figure", {}, h("figcaption", {}, "Backlog age by team (wall-clock time since the ticket was opened)"),
      groupedBarChart({ title: "Backlog age by team", formatValue: formatDuration,
        series: [{ name: "median", className: "bar-a" }, { name: "oldest", className: "bar-b" }],
        groups: report.teams.map((t) => ({ label: t.team_name, values: [
          { series: "median", value: t.p50_age_seconds }, { series: "oldest", value: t.oldest_age_seconds }] })) }))
      : h("p", { class: "empty" }, "Nothing in flight."),
    table("Tickets in flight and backlog age by team",
      ["Team", "In flight", "New", "Assigned", "In progress", "Reopened", "Waiting on customer", "Backlog", "Unassigned",
        "Oldest", "Age p50", "Age p95", "Over 1 day", "Over 3 days", "Over 7 days"],
      rows.map((r) => [r.team_name, num(r.in_flight), num(r.new), num(r.assigned), num(r.in_progress), num(r.reopened),
        num(r.waiting_on_customer), num(r.backlog), num(r.unassigned), dur(r.oldest_age_seconds), dur(r.p50_age_seconds),
        dur(r.p95_age_seconds), num(r.older_than_1d), num(r.older_than_3d), num(r.older_than_7d)])));
}

/** The satisfaction cell: ratings arrive with the ticket-lifecycle issue (the API's `satisfaction`). */
export function satisfactionCell(agent) {
  const s = agent.satisfaction;
  if (s === null || s === undefined) return dash;
  if (typeof s === "number") return pct(s);
  return s.score !== undefined ? pct(s.score) : dash;
}

export async function agentsSection(ctx, { since, until }) {
  const query = { since, until };
  let report;
  try {
    report = await ctx.api.get("/reports/agents", query);
  } catch (err) {
    return failed("agents-report", "Agents", err);
  }
  if (!report.agents.length) return section("agents-report", "Agents", h("p", { class: "empty" }, "No assigned tickets in this period."));
  return section("agents-report", "Agents (tickets opened in the period, by current assignee)",
    csvButton(ctx, "/reports/agents", query, "agents.csv"),
    table("Per agent: workload, reopen rate, first response and resolution (business time, waiting excluded)",
      ["Agent", "Handled", "Solved", "Reopen rate", "First response p50", "p95", "mean", "Resolution p50", "p95", "mean",
        "Satisfaction"],
      report.agents.map((a) => [a.agent_name, num(a.handled), num(a.solved), pct(a.reopen_rate),
        dur(a.first_response.p50), dur(a.first_response.p95), dur(a.first_response.mean),
        dur(a.resolution.p50), dur(a.resolution.p95), dur(a.resolution.mean), satisfactionCell(a)])));
}

/** The three sections into `container`, for the period the SLA report shows (ISO instants): volume
 * per day up to 92 days (the API's limit), per week beyond. */
export async function renderOperationsReports(container, ctx, period) {
  const days = (new Date(period.until) - new Date(period.since)) / 86400000;
  const unit = days <= 92 ? "day" : "week";
  render(container, h("p", {}, "Loading operations reports…"));
  const parts = await Promise.all([volumeSection(ctx, { ...period, unit }), backlogSection(ctx), agentsSection(ctx, period)]);
  render(container, ...parts);
}

// SLA report: first response and resolution p50/p95 by team, and breach rate, from
// GET /reports/sla (helpdesk.sla.reports.sla_report). Charts are inline SVG plus a table.
import { groupedBarChart } from "../charts.js";
import { field, h, render } from "../dom.js";
import { formatDuration } from "../format.js";
import { csvButton, renderOperationsReports } from "./operations.js";
import { satisfactionReport } from "./reports-satisfaction.js";

function pick(obj, names) {
  if (!obj || typeof obj !== "object") return null;
  for (const name of names) {
    if (obj[name] !== undefined && obj[name] !== null) return Number(obj[name]);
  }
  return null;
}

/** Normalise the report's per-team rows whatever the exact nesting ({teams: [...]} or keyed). */
export function teamRows(report, teamName) {
  let rows = [];
  if (Array.isArray(report)) rows = report;
  else if (report && Array.isArray(report.teams)) rows = report.teams;
  else if (report && report.teams && typeof report.teams === "object") rows = Object.entries(report.teams).map(([id, r]) => ({ team_id: id, ...r }));
  return rows.map((r) => {
    const fr = r.first_response || r.first_response_seconds || {};
    const res = r.resolution || r.resolution_seconds || {};
    let breach = pick(r, ["breach_rate"]);
    if (breach === null && r.breaches) breach = pick(r.breaches, ["rate", "breach_rate"]);
    if (breach === null && r.breached !== undefined && r.tickets) breach = Number(r.breached) / Math.max(1, Number(r.tickets));
    return {
      team: r.team_name || r.name || (r.team && r.team.name) || teamName(r.team_id) || "No team",
      frP50: pick(fr, ["p50", "p50_seconds", "median"]),
      frP95: pick(fr, ["p95", "p95_seconds"]),
      frMean: pick(fr, ["mean", "mean_seconds", "avg"]),
      frCount: pick(fr, ["count", "n"]),
      resP50: pick(res, ["p50", "p50_seconds", "median"]),
      resP95: pick(res, ["p95", "p95_seconds"]),
      resMean: pick(res, ["mean", "mean_seconds", "avg"]),
      resCount: pick(res, ["count", "n"]),
      breachRate: breach,
    };
  });
}

const pct = (v) => `${(v * 100).toFixed(1)}%`;
const dur = (v) => formatDuration(v);

function isoDate(d) {
  return d.toISOString().slice(0, 10);
}

export async function renderReports(main, ctx) {
  document.title = "Reports · Helpdesk";
  const today = new Date();
  const since = h("input", { type: "date", name: "since", value: isoDate(new Date(today.getTime() - 30 * 86400000)) });
  const until = h("input", { type: "date", name: "until", value: isoDate(new Date(today.getTime() + 86400000)) });
  const output = h("div", { class: "report-output", "aria-live": "polite" });
  const operations = h("div", { class: "operations-output" });
  const period = () => ({ since: new Date(`${since.value}T00:00:00Z`).toISOString(),
    until: new Date(`${until.value}T00:00:00Z`).toISOString() });

  const satisfaction = satisfactionReport(ctx);

  async function show() {
    render(output, h("p", {}, "Loading report…"));
    let report;
    try {
      report = await ctx.api.get("/reports/sla", period());
    } catch (err) {
      if (err.status === 403) {
        render(output, h("div", { class: "notice", id: "report-forbidden" },
          h("h2", {}, "Reports are for leads and admins"),
          h("p", {}, "Ask a team lead or an admin for the SLA report.")));
        return;
      }
      if (err.status === 404 || err.status >= 500 || err.status === 0) {
        render(output, h("div", { class: "notice", id: "report-unavailable" },
          h("h2", {}, "Reports not available"),
          h("p", {}, "This deployment does not serve the SLA report yet (GET /api/v1/reports/sla answered "
            + `${err.status || "nothing"}: ${err.message}). Tickets and SLA clocks work; reports appear once the endpoint exists.`)));
        return;
      }
      render(output, h("p", { class: "error" }, `The report failed: ${err.message}`));
      return;
    }
    const rows = teamRows(report, (id) => (id ? ctx.teamName(id) : null));
    const overall = report && report.overall ? teamRows({ teams: [{ team_name: "All teams", ...report.overall }] }, () => null) : [];
    if (!rows.length) {
      render(output, h("p", { class: "empty" }, "No tickets in this period."));
      return;
    }
    const series = [{ name: "p50", className: "bar-a" }, { name: "p95", className: "bar-b" }];
    render(output,
      h("figure", {}, h("figcaption", {}, "First response time by team (business time)"),
        groupedBarChart({ title: "First response time by team", series, formatValue: dur,
          groups: rows.map((r) => ({ label: r.team, values: [{ series: "p50", value: r.frP50 }, { series: "p95", value: r.frP95 }] })) })),
      h("figure", {}, h("figcaption", {}, "Resolution time by team (business time, excluding time waiting on the customer)"),
        groupedBarChart({ title: "Resolution time by team", series, formatValue: dur,
          groups: rows.map((r) => ({ label: r.team, values: [{ series: "p50", value: r.resP50 }, { series: "p95", value: r.resP95 }] })) })),
      h("figure", {}, h("figcaption", {}, "SLA breach rate by team"),
        groupedBarChart({ title: "SLA breach rate by team", series: [{ name: "breach rate", className: "bar-c" }], formatValue: pct, maxValue: 1,
          groups: rows.map((r) => ({ label: r.team, values: [{ series: "breach rate", value: r.breachRate }] })) })),
      h("table", { class: "report-table" },
        h("caption", {}, "SLA figures by team"),
        h("thead", {}, h("tr", {}, ["Team", "First response p50", "p95", "mean", "Resolution p50", "p95", "mean", "Breach rate"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.concat(overall).map((r) => h("tr", {},
          h("th", { scope: "row" }, r.team),
          [r.frP50, r.frP95, r.frMean, r.resP50, r.resP95, r.resMean].map((v) => h("td", {}, v === null || Number.isNaN(v) ? "—" : dur(v))),
          h("td", {}, r.breachRate === null || Number.isNaN(r.breachRate) ? "—" : pct(r.breachRate)))))));
  }

  const showAll = () => Promise.all([show(), renderOperationsReports(operations, ctx, period()),
    satisfaction.show(period().since, period().until)]);
  const form = h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); showAll(); } },
    field("From", since), field("Until", until), h("button", { type: "submit", class: "primary" }, "Show report"),
    csvButton(ctx, "/reports/sla", period, "sla.csv", "Download SLA CSV"));
  render(main, h("h1", { id: "page-title" }, "Reports"), form,
    h("section", { "aria-labelledby": "sla-title" }, h("h2", { id: "sla-title" }, "SLA"), output), operations,
    satisfaction.element);
  await showAll();
}

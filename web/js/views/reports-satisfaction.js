// The satisfaction section of the reports page (GET /reports/satisfaction,
// helpdesk.tickets.satisfaction.satisfaction_report): rating rate (rated / surveys offered) and score
// (share of good ratings) overall, by team and by the agent who solved the ticket, and the latest
// comments. Its own section so other report sections stay independent of it.
import { groupedBarChart } from "../charts.js";
import { h, render } from "../dom.js";
import { formatDateTime } from "../format.js";

const pct = (v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? "—" : `${(Number(v) * 100).toFixed(1)}%`);

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function figuresTable(caption, firstColumn, rows) {
  return h("table", { class: "report-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, [firstColumn, "Surveys", "Rated", "Rating rate", "Good", "Bad", "Score"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, r.label),
      h("td", {}, String(r.offered)), h("td", {}, String(r.rated)), h("td", {}, pct(r.rating_rate)),
      h("td", {}, String(r.good)), h("td", {}, String(r.bad)), h("td", {}, pct(r.score))))));
}

/** {element, show(sinceIso, untilIso)}: the section and how to (re)load it for a period. */
export function satisfactionReport(ctx) {
  const output = h("div", { class: "satisfaction-output", "aria-live": "polite" });
  const element = h("section", { class: "satisfaction-report", "aria-labelledby": "satisfaction-title" },
    h("h2", { id: "satisfaction-title" }, "Customer satisfaction"), output);

  async function show(since, until) {
    render(output, h("p", {}, "Loading satisfaction…"));
    let report;
    try {
      report = await ctx.api.get("/reports/satisfaction", { since, until });
    } catch (err) {
      render(output, h("p", { class: err.status === 403 ? "notice" : "error", id: "satisfaction-error" },
        err.status === 403 ? "The satisfaction report is for leads and admins." : `The satisfaction report failed: ${err.message}`));
      return;
    }
    if (!report.offered) {
      render(output, h("p", { class: "empty", id: "satisfaction-empty" }, "No satisfaction surveys were sent in this period."));
      return;
    }
    const teams = report.teams.map((r) => ({ ...r, label: r.team_name || (r.team_id ? ctx.teamName(r.team_id) : null) || "No team" }));
    const agents = report.agents.map((r) => ({ ...r, label: r.agent_name || "No agent" }));
    render(output,
      h("p", { id: "satisfaction-summary" },
        `Score ${pct(report.score)} (${report.good} good, ${report.bad} bad) from ${plural(report.rated, "rating")}; `
        + `${pct(report.rating_rate)} of ${plural(report.offered, "survey")} answered.`),
      h("figure", {}, h("figcaption", {}, "Satisfaction score by team (share of good ratings)"),
        groupedBarChart({ title: "Satisfaction score by team", series: [{ name: "score", className: "bar-a" }], formatValue: pct, maxValue: 1,
          groups: teams.map((r) => ({ label: r.label, values: [{ series: "score", value: r.score }] })) })),
      figuresTable("Satisfaction by team", "Team", teams),
      figuresTable("Satisfaction by agent (who solved the ticket)", "Agent", agents),
      h("h3", {}, "Latest comments"),
      report.comments.length
        ? h("ul", { class: "satisfaction-comments", id: "satisfaction-comments" }, report.comments.map((c) => h("li", {},
          h("strong", {}, c.rating === "good" ? "Good" : "Bad"), ` · TKT-${c.number} · `,
          h("time", { datetime: c.rated_at }, formatDateTime(c.rated_at)), h("blockquote", {}, c.comment))))
        : h("p", { class: "empty" }, "No comments in this period."));
  }

  return { element, show };
}

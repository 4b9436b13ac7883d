// The admin console (#/admin/<section>): settings pages by role. Admins see every section; leads
// see their teams and the knowledge base (and Reports in the main navigation). The API enforces the
// same roles (403); the console only leaves out what the role cannot use.
import { h, render } from "../dom.js";
import { renderTeams, renderAgents, renderKb, renderSlack } from "./people.js";
import { renderSchedules } from "./schedules.js";
import { renderSla } from "./sla.js";
import { renderRouting } from "./routing.js";
import { renderQuarantine } from "./quarantine.js";
import { renderCustomers, renderOrganizations } from "./customers.js";
import { renderAudit } from "./audit.js";
import { mayUse } from "./page.js";

export const SECTIONS = [
  { id: "teams", label: "Teams", role: "lead", render: renderTeams },
  { id: "agents", label: "Agents", role: "admin", render: renderAgents },
  { id: "schedules", label: "Schedules", role: "admin", render: renderSchedules },
  { id: "sla", label: "SLA policies", role: "admin", render: renderSla },
  { id: "routing", label: "Routing rules", role: "admin", render: renderRouting },
  { id: "kb", label: "Knowledge base", role: "lead", render: renderKb },
  { id: "slack", label: "Slack channels", role: "admin", render: renderSlack },
  { id: "quarantine", label: "Email quarantine", role: "admin", render: renderQuarantine },
  { id: "customers", label: "Customers", role: "admin", render: renderCustomers },
  { id: "organizations", label: "Organizations", role: "admin", render: renderOrganizations },
  { id: "audit", label: "Audit trail", role: "admin", render: renderAudit },
];

/** The "Admin" entry of the main navigation, for leads and admins only. */
export function adminNavEntry(ctx) {
  const list = document.querySelector("#nav ul");
  const existing = list.querySelector("[data-route='admin']");
  if (existing) existing.parentElement.remove();
  if (!mayUse(ctx, "lead")) return;
  list.append(h("li", {}, h("a", { href: "#/admin", "data-route": "admin" }, "Admin")));
}

export async function renderAdmin(main, ctx, path) {
  const [sectionId, ...rest] = (path || "").split("/");
  const visible = SECTIONS.filter((s) => mayUse(ctx, s.role));
  if (!visible.length) {
    document.title = "Admin · Helpdesk";
    render(main, h("h1", {}, "Admin"), h("p", { class: "notice", id: "admin-forbidden" },
      "The admin console is for leads and admins. Ask an admin if you need a setting changed."));
    return;
  }
  const section = visible.find((s) => s.id === sectionId) || visible[0];
  document.title = `${section.label} · Admin · Helpdesk`;
  const content = h("section", { class: "admin-content", "aria-labelledby": "admin-heading" });
  render(main, h("div", { class: "admin" },
    h("nav", { class: "admin-nav", "aria-label": "Admin sections" }, h("ul", {}, visible.map((s) =>
      h("li", {}, h("a", { href: `#/admin/${s.id}`, "aria-current": s === section ? "page" : null }, s.label))))),
    content));
  await section.render(content, ctx, rest.join("/"));
}

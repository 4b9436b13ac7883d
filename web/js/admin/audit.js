// The admin audit trail: who changed which setting, when, and what they sent (GET /admin/audit).
import { h, render } from "../dom.js";
import { formatDateTime } from "../format.js";
import { adminTable, labelOf, queryEnum } from "./forms.js";
import { heading, itemsOf } from "./page.js";

export async function renderAudit(root, ctx) {
  const resources = await queryEnum(ctx, "/api/v1/admin/audit", "resource");
  const resource = h("select", { id: "audit-resource", name: "resource" }, h("option", { value: "" }, "Every setting"),
    resources.map((r) => h("option", { value: r }, labelOf(r))));
  const listEl = h("div", { class: "admin-list" });
  const more = h("div", {});
  render(root, heading("Audit trail"),
    h("p", { class: "muted" }, "Every change of a setting, newest first, with who made it and what they sent."),
    h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); load(); } },
      h("div", { class: "field" }, h("label", { for: resource.id }, "Setting"), resource),
      h("button", { type: "submit" }, "Show")),
    listEl, more);

  let rows = [];
  async function load(before) {
    const page = await ctx.api.get("/admin/audit", { resource: resource.value, before, limit: 50 });
    rows = before ? rows.concat(itemsOf(page)) : itemsOf(page);
    render(listEl, adminTable("Admin changes", [
      { label: "When", value: (e) => formatDateTime(e.occurred_at) },
      { label: "Who", value: (e) => `${e.actor_email} (${e.actor_role})` },
      { label: "Change", value: (e) => `${labelOf(e.action)} ${labelOf(e.resource).toLowerCase()}` },
      { label: "Which", value: (e) => (e.resource === "team" ? ctx.teamName(e.resource_id) : e.resource === "agent" ? ctx.agentName(e.resource_id) : e.resource_id || "—") },
      { label: "Sent", value: (e) => h("code", { class: "audit-data" }, JSON.stringify(e.data)) },
    ], rows, { id: "audit-list", empty: "No changes recorded yet." }));
    render(more, page.next_cursor ? h("button", { type: "button", onclick: () => load(page.next_cursor) }, "Older changes") : null);
  }
  await load();
}

// SLA policies: tried in order (position, then name), the first whose conditions all hold applies
// (a customer's or organization's contract policy wins); targets in business hours or calendar time.
// The preview asks the server which policy and deadlines a ticket created now would get.
import { h, render } from "../dom.js";
import { formatDateTime, formatDuration } from "../format.js";
import { adminForm, apiSchemas, enumOptions } from "./forms.js";
import { crudPage, itemsOf, remove } from "./page.js";

const TARGETS = [["first_response", "First response"], ["next_reply", "Next reply"], ["resolution", "Resolution"], ["reopen", "Reopen"]];

export async function renderSla(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const [schedules, teams] = await Promise.all([ctx.api.get("/schedules").then(itemsOf), ctx.api.get("/teams").then(itemsOf)]);
  const scheduleName = (id) => (schedules.find((s) => s.id === id) || {}).name || "the ticket team's";
  const any = (v) => v || "any";
  const previewSlot = h("section", { class: "sla-preview", "aria-labelledby": "sla-preview-heading" });
  await crudPage(root, ctx, {
    title: "SLA policies", noun: "policy", label: (p) => p.name || "policy",
    intro: "Tried in order; the first policy whose conditions all hold gives a new ticket its targets. A customer's or organization's contract policy comes first.",
    load: async () => itemsOf(await ctx.api.get("/sla-policies")).sort((a, b) => a.position - b.position || a.name.localeCompare(b.name)),
    columns: [
      { label: "Order", value: (p) => String(p.position) },
      { label: "Name", value: (p) => h("span", {}, p.name, p.is_active ? null : h("span", { class: "status" }, " inactive")) },
      { label: "When", value: (p) => `priority ${any(p.priority)}, tier ${any(p.tier)}, team ${p.team_id ? ctx.teamName(p.team_id) : "any"}, channel ${any(p.channel)}` },
      { label: "Targets", value: (p) => TARGETS.filter(([k]) => p.targets && p.targets[k]).map(([k, label]) =>
        `${label} ${formatDuration(p.targets[k].seconds)} ${p.targets[k].business === false ? "calendar" : "business"}`).join("; ") },
      { label: "Hours", value: (p) => scheduleName(p.schedule_id) },
    ],
    createSchema: "SlaPolicyIn", updateSchema: "SlaPolicyIn",
    fields: (p) => [
      { name: "name", label: "Name", value: p && p.name },
      { name: "position", label: "Order (lower is tried first)", type: "number", value: p ? p.position : 100 },
      { name: "priority", label: "Priority", type: "select", nullable: true, value: p && p.priority, options: enumOptions(schemas, "SlaPolicyIn", "priority", { blank: "Any" }) },
      { name: "tier", label: "Customer tier", type: "select", nullable: true, value: p && p.tier, options: enumOptions(schemas, "SlaPolicyIn", "tier", { blank: "Any" }) },
      { name: "team_id", label: "Team", type: "select", nullable: true, value: p && p.team_id, options: [["", "Any"], ...teams.map((t) => [t.id, t.name])] },
      { name: "channel", label: "Channel", type: "select", nullable: true, value: p && p.channel, options: enumOptions(schemas, "SlaPolicyIn", "channel", { blank: "Any" }) },
      ...TARGETS.flatMap(([k, label]) => [
        { name: `targets.${k}.seconds`, label: `${label} target (hours; empty: none)`, type: "hours", value: p && p.targets && p.targets[k] && p.targets[k].seconds },
        { name: `targets.${k}.business`, label: `${label}: count business hours only (off: calendar time)`, type: "checkbox",
          value: !(p && p.targets && p.targets[k] && p.targets[k].business === false) },
      ]),
      { name: "schedule_id", label: "Business hours", type: "select", nullable: true, value: p && p.schedule_id,
        options: [["", "The ticket team's schedule"], ...schedules.map((s) => [s.id, s.name])] },
      { name: "is_active", label: "Active", type: "checkbox", value: p ? p.is_active : true },
    ],
    // A target without a duration is no target.
    prepare: (body) => {
      const targets = {};
      for (const [k] of TARGETS) {
        const t = body.targets && body.targets[k];
        if (t && t.seconds !== null && t.seconds !== undefined) targets[k] = t;
      }
      return { ...body, targets };
    },
    create: (body) => ctx.api.post("/sla-policies", body),
    update: (p, body) => ctx.api.put(`/sla-policies/${p.id}`, body),
    remove: (p) => remove(ctx, `/sla-policies/${p.id}`),
  });
  root.append(previewSlot);
  renderPreview(previewSlot, ctx, schemas, teams);
}

function renderPreview(slot, ctx, schemas, teams) {
  const result = h("div", { id: "sla-preview-result", "aria-live": "polite" });
  const { form } = adminForm(ctx, {
    id: "sla-preview-form", schema: "DeadlinePreviewIn", submitLabel: "Preview",
    fields: [
      { name: "priority", label: "Priority", type: "select", value: "normal", options: enumOptions(schemas, "DeadlinePreviewIn", "priority") },
      { name: "channel", label: "Channel", type: "select", value: "email", options: enumOptions(schemas, "DeadlinePreviewIn", "channel") },
      { name: "tier", label: "Customer tier", type: "select", value: "standard", options: enumOptions(schemas, "DeadlinePreviewIn", "tier") },
      { name: "team_id", label: "Team", type: "select", nullable: true, options: [["", "None"], ...teams.map((t) => [t.id, t.name])] },
      { name: "customer_email", label: "Customer email (optional: a known customer's contract and tier)", type: "email", nullable: true },
    ],
    submit: (body) => ctx.api.post("/sla-policies/preview", body),
    onSaved: (preview) => render(result, previewResult(preview)),
  });
  render(slot, h("h2", { id: "sla-preview-heading" }, "Preview: a ticket created now"), form, result);
}

function previewResult(preview) {
  if (!preview.policy) return h("p", { class: "notice" }, "No active policy applies: the ticket would get no SLA clock.");
  const rows = Object.entries(preview.deadlines);
  return h("div", {},
    h("p", {}, `Policy “${preview.policy.name}”${preview.policy.contract ? " (contract)" : ""} applies at ${formatDateTime(preview.at)}.`),
    rows.length ? h("ul", {}, rows.map(([kind, d]) => h("li", { dataset: { kind } },
      `${kind.replace(/_/g, " ")}: due ${formatDateTime(d.due_at)} (${formatDuration(d.seconds)} in ${d.business ? "business hours" : "calendar time"}), warning ${formatDateTime(d.warn_at)}`)))
      : h("p", {}, "It sets no first-response or resolution target."));
}

// Routing rules: tried in order, the first whose conditions all hold sends the ticket to its team
// (none matched: the default team). The dry run asks the server which rule and team a ticket would get.
import { h, render } from "../dom.js";
import { adminForm, apiSchemas, enumOptions } from "./forms.js";
import { crudPage, itemsOf, patch, remove } from "./page.js";

const CONDITIONS = [
  ["channels", "Channels", "checks"], ["recipients", "Support addresses written to", "list"],
  ["keywords", "Words or phrases in subject or body", "list"], ["tiers", "Customer tiers", "checks"],
  ["tags", "Any of these tags", "list"], ["priorities", "Priorities", "checks"],
];

export async function renderRouting(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const teams = itemsOf(await ctx.api.get("/teams"));
  const teamOptions = teams.map((t) => [t.id, t.name]);
  const describe = (c) => CONDITIONS.filter(([k]) => c && c[k] && c[k].length).map(([k, label]) => `${label}: ${c[k].join(", ")}`).join("; ") || "every ticket";
  await crudPage(root, ctx, {
    title: "Routing rules", noun: "rule", label: (r) => r.name || "rule",
    intro: "Tried in order; the first rule whose conditions all hold (any value within a list) sends the ticket to its team.",
    load: async () => itemsOf(await ctx.api.get("/routing-rules")).sort((a, b) => a.position - b.position || a.name.localeCompare(b.name)),
    columns: [
      { label: "Order", value: (r) => String(r.position) },
      { label: "Name", value: (r) => h("span", {}, r.name, r.is_active ? null : h("span", { class: "status" }, " inactive")) },
      { label: "When", value: (r) => describe(r.conditions) },
      { label: "Team", value: (r) => ctx.teamName(r.team_id) },
    ],
    createSchema: "RuleIn", updateSchema: "RuleUpdate",
    fields: (r) => [
      { name: "name", label: "Name", value: r && r.name },
      { name: "position", label: "Order (lower is tried first; empty: last)", type: "number", nullable: !r, value: r && r.position },
      { name: "team_id", label: "Send to team", type: "select", value: r && r.team_id, options: [["", "Choose a team"], ...teamOptions] },
      ...CONDITIONS.map(([k, label, type]) => ({
        name: `conditions.${k}`, label, type, value: r ? r.conditions[k] : [],
        options: type === "checks" ? enumOptions(schemas, "RuleConditions", k) : undefined,
        hint: type === "list" ? "Comma-separated; empty: any." : null,
      })),
      { name: "is_active", label: "Active", type: "checkbox", value: r ? r.is_active : true },
    ],
    prepare: (body) => (body.position === null ? (({ position, ...rest }) => rest)(body) : body),
    create: (body) => ctx.api.post("/routing-rules", body),
    update: (r, body) => patch(ctx, `/routing-rules/${r.id}`, body),
    remove: (r) => remove(ctx, `/routing-rules/${r.id}`),
  });
  const slot = h("section", { class: "dry-run", "aria-labelledby": "dry-run-heading" });
  root.append(slot);
  const result = h("div", { id: "dry-run-result", "aria-live": "polite" });
  const { form } = adminForm(ctx, {
    id: "dry-run-form", schema: "Intake", submitLabel: "Dry run",
    fields: [
      { name: "channel", label: "Channel", type: "select", value: "email", options: enumOptions(schemas, "Intake", "channel") },
      { name: "subject", label: "Subject", value: "" },
      { name: "body", label: "Body", type: "textarea", rows: 3, value: "" },
      { name: "recipients", label: "Written to (support addresses)", type: "list", value: [] },
      { name: "requester_email", label: "Customer email (their tier, or their organization's)", type: "email", nullable: true },
      { name: "tier", label: "Or this tier", type: "select", nullable: true, options: enumOptions(schemas, "Intake", "tier", { blank: "From the customer" }) },
      { name: "tags", label: "Tags", type: "list", value: [] },
      { name: "priority", label: "Priority", type: "select", value: "normal", options: enumOptions(schemas, "Intake", "priority") },
    ],
    submit: (body) => ctx.api.post("/routing-rules/dry-run", body),
    onSaved: (answer) => render(result, h("p", { class: "notice" },
      answer.rule ? `Rule “${answer.rule.name}” matches: the ticket goes to ${ctx.teamName(answer.team_id)}.`
        : answer.team_id ? `No rule matches: the ticket goes to the default team, ${ctx.teamName(answer.team_id)}.`
          : "No rule matches and there is no default team: the ticket waits unrouted.",
      ` Customer tier: ${answer.tier}.`)),
  });
  render(slot, h("h2", { id: "dry-run-heading" }, "Dry run: where would this ticket go?"), form, result);
}

// Customers (their own tier and SLA contract, their organization) and organizations (customers
// grouped by email domain; members inherit the organization's tier and contract unless they have
// their own).
import { announce, h, render } from "../dom.js";
import { adminForm, adminTable, apiSchemas, enumOptions, labelOf } from "./forms.js";
import { crudPage, heading, itemsOf, patch, remove } from "./page.js";

async function loadTerms(ctx) {
  const [policies, organizations] = await Promise.all([
    ctx.api.get("/sla-policies").then(itemsOf), ctx.api.get("/organizations", { limit: 500 }).then(itemsOf)]);
  return { policies, organizations };
}

const policyName = (policies, id) => (id ? (policies.find((p) => p.id === id) || {}).name || "a policy" : "—");

export async function renderCustomers(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const { policies, organizations } = await loadTerms(ctx);
  const q = h("input", { type: "search", id: "customer-q", name: "q", autocomplete: "off", placeholder: "name@company.com" });
  const listEl = h("div", { class: "admin-list" });
  const formSlot = h("div", { class: "admin-form-slot" });
  render(root, heading("Customers"),
    h("p", { class: "muted" }, "Find a customer by email to set their own tier or SLA contract (empty: inherit their organization's) or move them to another organization."),
    h("form", { class: "inline-form", role: "search", onsubmit: (e) => { e.preventDefault(); search(); } },
      h("div", { class: "field" }, h("label", { for: q.id }, "Email or its beginning"), q),
      h("button", { type: "submit", class: "primary" }, "Find")),
    formSlot, listEl);

  let found = [];
  async function search() {
    const text = q.value.trim();
    if (text.length < 2) {
      render(listEl, h("p", { class: "empty" }, "Type at least 2 characters of the address."));
      return;
    }
    try {
      found = itemsOf(await ctx.api.get("/customers", text.includes("@") && !text.endsWith("@") ? { email: text } : { q: text }));
      if (!found.length && text.includes("@")) found = itemsOf(await ctx.api.get("/customers", { q: text }));
    } catch (err) {
      render(listEl, h("p", { class: "error" }, err.message));
      return;
    }
    render(listEl, adminTable("Customers", [
      { label: "Email", value: (c) => c.email_display || c.email },
      { label: "Name", value: (c) => c.name || "—" },
      { label: "Tier", value: (c) => `${labelOf(c.tier)}${c.own_tier ? " (own)" : c.organization_id ? " (organization's)" : ""}` },
      { label: "Contract", value: (c) => `${policyName(policies, c.sla_policy_id)}${c.own_sla_policy_id ? " (own)" : ""}` },
      { label: "Organization", value: (c) => (organizations.find((o) => o.id === c.organization_id) || {}).name || "—" },
      { label: "Actions", value: (c) => h("button", { type: "button", onclick: () => edit(c), "aria-label": `Edit ${c.email}` }, "Edit") },
    ], found, { id: "customer-list", empty: "No customer with that address." }));
  }

  function edit(c) {
    const { form } = adminForm(ctx, {
      id: "customer-form", schema: "CustomerPatch", submitLabel: "Save changes",
      fields: [
        { name: "name", label: "Name", value: c.name },
        { name: "tier", label: "Own tier", type: "select", nullable: true, value: c.own_tier,
          options: enumOptions(schemas, "CustomerPatch", "tier", { blank: "Inherit (organization's, else standard)" }) },
        { name: "sla_policy_id", label: "Own SLA contract", type: "select", nullable: true, value: c.own_sla_policy_id,
          options: [["", "Inherit (organization's, else by the ordered policies)"], ...policies.map((p) => [p.id, p.name])] },
        { name: "organization_id", label: "Organization", type: "select", nullable: true, value: c.organization_id,
          options: [["", "None"], ...organizations.map((o) => [o.id, o.name])] },
      ],
      submit: (body) => patch(ctx, `/customers/${c.id}`, body),
      onSaved: async (saved) => { render(formSlot); announce(`Saved ${saved.email}: tier ${saved.tier}.`); await search(); },
      extraButtons: [h("button", { type: "button", onclick: () => render(formSlot) }, "Cancel")],
    });
    render(formSlot, h("h2", {}, `Edit ${c.email_display || c.email}`), form);
    form.querySelector("input, select").focus();
  }
}

export async function renderOrganizations(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const policies = itemsOf(await ctx.api.get("/sla-policies"));
  const membersSlot = h("div", { class: "admin-form-slot", id: "organization-members" });
  const page = await crudPage(root, ctx, {
    title: "Organizations", noun: "organization", label: (o) => o.name || "organization",
    intro: "Customers are grouped by their email domain (subdomains too): a new customer of a listed domain joins, and members inherit the tier and SLA contract unless they have their own. Public mail domains such as gmail.com never form organizations.",
    load: async () => itemsOf(await ctx.api.get("/organizations", { limit: 500 })),
    columns: [
      { label: "Name", value: (o) => o.name },
      { label: "Domains", value: (o) => (o.domains || []).join(", ") || "—" },
      { label: "Tier", value: (o) => labelOf(o.tier || "standard") },
      { label: "SLA contract", value: (o) => policyName(policies, o.sla_policy_id) },
      { label: "Members", value: (o) => String(o.member_count) },
    ],
    createSchema: "OrganizationIn", updateSchema: "OrganizationPatch",
    fields: (o) => [
      { name: "name", label: "Name", value: o && o.name },
      { name: "domains", label: "Email domains", type: "list", value: o ? o.domains : [], hint: "Comma-separated, e.g. acme.com, acme.co.uk." },
      { name: "tier", label: "Tier", type: "select", nullable: true, value: o && o.tier, options: enumOptions(schemas, "OrganizationIn", "tier", { blank: "Standard (default)" }) },
      { name: "sla_policy_id", label: "SLA contract", type: "select", nullable: true, value: o && o.sla_policy_id,
        options: [["", "None (the ordered policies apply)"], ...policies.map((p) => [p.id, p.name])] },
    ],
    create: (body) => ctx.api.post("/organizations", body),
    update: (o, body) => patch(ctx, `/organizations/${o.id}`, body),
    remove: (o) => remove(ctx, `/organizations/${o.id}`),
    rowActions: (o) => [h("button", { type: "button", onclick: () => members(o), "aria-label": `Members of ${o.name}` }, "Members")],
  });
  root.append(membersSlot, suggestions(ctx, () => page.refresh()));

  async function members(o) {
    const items = itemsOf(await ctx.api.get(`/organizations/${o.id}/members`, { limit: 200 }));
    render(membersSlot, h("h2", { tabindex: "-1", id: "members-heading" }, `Members of ${o.name}`),
      adminTable(`Members of ${o.name}`, [
        { label: "Email", value: (c) => c.email },
        { label: "Name", value: (c) => c.name || "—" },
        { label: "Tier", value: (c) => `${labelOf(c.tier)}${c.tier_inherited ? "" : " (own)"}` },
        { label: "Contract", value: (c) => `${policyName(policies, c.sla_policy_id)}${c.sla_policy_inherited ? "" : " (own)"}` },
      ], items, { id: "member-list", empty: "No customers yet: they join when they first write from a listed domain." }),
      items.length === 200 ? h("p", { class: "muted" }, "Showing the first 200 by email.") : null);
    membersSlot.querySelector("h2").focus();
  }
}

/** Domains of customers in no organization (never public mail domains), each one click from an organization. */
function suggestions(ctx, refresh) {
  const out = h("div", { id: "organization-suggestions" });
  async function show() {
    const items = itemsOf(await ctx.api.get("/organizations/suggestions", { min_customers: 2 }));
    render(out, adminTable("Suggested organizations", [
      { label: "Domain", value: (s) => s.domain },
      { label: "Customers", value: (s) => String(s.customers) },
      { label: "Actions", value: (s) => h("button", { type: "button", "aria-label": `Create an organization for ${s.domain}`, onclick: async () => {
        try {
          await ctx.api.post("/organizations", { name: s.domain, domains: [s.domain] });
          announce(`Created organization ${s.domain}: its ${s.customers} customers joined.`);
          await refresh();
          await show();
        } catch (err) { ctx.showError(err, "Create organization"); }
      } }, "Create organization") },
    ], items.map((s) => ({ ...s, id: s.domain })), { id: "suggestion-list", empty: "No domain has two or more customers outside an organization." }));
  }
  return h("section", { class: "suggestions-section", "aria-labelledby": "suggestions-heading" },
    h("h2", { id: "suggestions-heading" }, "Suggested from customers' domains"),
    h("p", { class: "muted" }, "Company domains with customers in no organization yet (public mail domains are never suggested)."),
    h("button", { type: "button", id: "suggest-organizations", onclick: () => show().catch((err) => ctx.showError(err, "Suggestions")) }, "Suggest organizations"),
    out);
}

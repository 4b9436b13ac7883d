// What the console's pages share: the role check, the heading, and the list-plus-form page of a
// resource (a table of what exists, "New", "Edit" and "Delete", one form at a time).
import { announce, h, render } from "../dom.js";
import { adminForm, adminTable } from "./forms.js";

const RANK = { agent: 0, lead: 1, admin: 2 };

export function mayUse(ctx, least) {
  return RANK[(ctx.me && ctx.me.role) || "agent"] >= RANK[least];
}

/** A page heading with the id the section is labelled by. */
export function heading(text) {
  return h("h1", { id: "admin-heading" }, text);
}

export function itemsOf(data) {
  return Array.isArray(data) ? data : (data && data.items) || [];
}

export const patch = (ctx, path, body) => ctx.api.request("PATCH", path, { body });
export const remove = (ctx, path) => ctx.api.request("DELETE", path);

/**
 * A resource page. `spec`: {title, noun, intro, load() -> items, columns, fields(item|null) -> field
 * specs, createSchema, updateSchema, create(body), update(item, body), remove(item)?, canEdit,
 * after(root, items)?: extra content under the list}.
 */
export async function crudPage(root, ctx, spec) {
  const listEl = h("div", { class: "admin-list" });
  const formSlot = h("div", { class: "admin-form-slot" });
  const canEdit = spec.canEdit !== false;
  const newButton = canEdit && spec.create
    ? h("button", { type: "button", class: "primary", id: `new-${spec.noun.replace(/\s+/g, "-")}`, onclick: () => openForm(null) }, `New ${spec.noun}`)
    : null;
  render(root, heading(spec.title), spec.intro ? h("p", { class: "muted" }, spec.intro) : null,
    newButton ? h("div", { class: "button-row" }, newButton) : null, formSlot, listEl);

  let items = [];
  async function refresh() {
    items = await spec.load();
    const actions = canEdit ? [{
      label: "Actions",
      value: (item) => h("div", { class: "button-row" },
        spec.update ? h("button", { type: "button", onclick: () => openForm(item), "aria-label": `Edit ${spec.label(item)}` }, "Edit") : null,
        spec.remove ? h("button", { type: "button", onclick: () => del(item), "aria-label": `Delete ${spec.label(item)}` }, "Delete") : null,
        spec.rowActions ? spec.rowActions(item, refresh) : null),
    }] : [];
    render(listEl, adminTable(spec.title, [...spec.columns, ...actions], items, { id: `${spec.noun.replace(/\s+/g, "-")}-list` }));
    if (spec.after) await spec.after(listEl, items, refresh);
  }

  async function del(item) {
    if (!window.confirm(`Delete ${spec.label(item)}?`)) return;
    try {
      await spec.remove(item);
      announce(`Deleted ${spec.label(item)}.`);
      await refresh();
    } catch (err) {
      ctx.showError(err, "Delete");
    }
  }

  async function openForm(item) {
    const fields = await spec.fields(item);
    const title = item ? `Edit ${spec.label(item)}` : `New ${spec.noun}`;
    const { form } = adminForm(ctx, {
      id: `${spec.noun.replace(/\s+/g, "-")}-form`,
      schema: item ? spec.updateSchema : spec.createSchema,
      fields,
      submitLabel: item ? "Save changes" : `Create ${spec.noun}`,
      prepare: spec.prepare,
      submit: (body) => (item ? spec.update(item, body) : spec.create(body)),
      onSaved: async (saved) => {
        render(formSlot);
        announce(`${item ? "Saved" : "Created"} ${spec.label(saved || item || {})}.`);
        await refresh();
        if (spec.saved) await spec.saved(saved, formSlot);
      },
      extraButtons: [h("button", { type: "button", onclick: () => render(formSlot) }, "Cancel")],
    });
    render(formSlot, h("h2", {}, title), form);
    const first = form.querySelector("input:not([readonly]), select, textarea");
    if (first) first.focus();
  }

  await refresh();
  return { refresh, openForm };
}

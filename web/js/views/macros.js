// Macros: the agent's own saved replies and the shared ones (leads and admins manage those). A macro
// is a reply (with placeholders) that may also set status, priority, tags and assignee; it is applied
// from the reply box of a ticket.
import { announce, field, h, render } from "../dom.js";
import { plainMessage } from "../problems.js";

const PLACEHOLDERS = [
  ["{{requester.name}}", "the requester's name"],
  ["{{requester.first_name}}", "the requester's first name"],
  ["{{ticket.ref}}", "the ticket's reference (TKT-42)"],
  ["{{agent.name}}", "your name"],
];
const STATUSES = [["", "No status change"], ["in_progress", "In progress"], ["waiting_on_customer", "Waiting on customer"], ["resolved", "Resolved"]];
const PRIORITIES = [["", "No priority change"], ["low", "low"], ["normal", "normal"], ["high", "high"], ["urgent", "urgent"]];

function tagList(text) {
  return text.split(/[\s,]+/).map((t) => t.trim().toLowerCase()).filter(Boolean);
}

export async function renderMacros(main, ctx) {
  document.title = "Macros · Helpdesk";
  render(main, h("h1", { id: "page-title" }, "Macros"), h("p", { class: "muted", "aria-busy": "true" }, "Loading macros…"));
  const canShare = ["lead", "admin"].includes(ctx.me.role);
  const listBox = h("div", { class: "macro-lists" });
  const formBox = h("section", { class: "card macro-form-box", "aria-labelledby": "macro-form-title" });
  let macros = [];

  async function load() {
    const answer = await ctx.api.get("/macros");
    macros = (answer && answer.items) || [];
    drawLists();
  }

  function drawLists() {
    const section = (title, items, editable) => h("section", { "aria-label": title },
      h("h2", {}, title),
      items.length ? h("ul", { class: "macro-list" }, items.map((m) => h("li", { class: "macro-item" },
        h("strong", {}, m.name), " ",
        h("span", { class: "muted small" }, [m.body ? (m.visibility === "internal" ? "note" : "reply") : null, m.set_status,
          m.set_priority, ...(m.add_tags || []).map((t) => `+${t}`), ...(m.remove_tags || []).map((t) => `−${t}`),
          m.assign_to_me ? "assign to who applies it" : null,
          m.assign_agent_id ? `assign to ${ctx.agentName(m.assign_agent_id)}` : null].filter(Boolean).join(" · ")),
        editable ? h("span", { class: "button-row" },
          h("button", { type: "button", class: "small", onclick: () => drawForm(m) }, `Edit ${m.name}`),
          h("button", { type: "button", class: "small", onclick: () => remove(m) }, `Delete ${m.name}`)) : null)))
        : h("p", { class: "muted" }, "None yet."));
    render(listBox,
      section("My macros", macros.filter((m) => !m.shared), true),
      section("Shared macros", macros.filter((m) => m.shared), canShare));
  }

  async function remove(macro) {
    if (!window.confirm(`Delete the macro “${macro.name}”?`)) return;
    try {
      await ctx.api.del(`/macros/${macro.id}`);
      announce(`Macro “${macro.name}” deleted.`);
      await load();
      drawForm(null);
    } catch (err) {
      announce(`Not deleted: ${plainMessage(err)}`, "error");
    }
  }

  function drawForm(macro) {
    const editing = Boolean(macro);
    const name = h("input", { type: "text", name: "name", required: true, maxlength: 120, value: macro ? macro.name : "" });
    const body = h("textarea", { name: "body", rows: 6, maxlength: 20000 });
    body.value = macro && macro.body ? macro.body : "";
    const internal = h("input", { type: "checkbox", name: "internal", checked: Boolean(macro && macro.visibility === "internal") });
    const status = h("select", { name: "set_status" }, STATUSES.map(([v, l]) => h("option", { value: v }, l)));
    status.value = (macro && macro.set_status) || "";
    const priority = h("select", { name: "set_priority" }, PRIORITIES.map(([v, l]) => h("option", { value: v }, l)));
    priority.value = (macro && macro.set_priority) || "";
    const addTags = h("input", { type: "text", name: "add_tags", value: macro ? (macro.add_tags || []).join(", ") : "" });
    const removeTags = h("input", { type: "text", name: "remove_tags", value: macro ? (macro.remove_tags || []).join(", ") : "" });
    const assignee = h("select", { name: "assign" },
      h("option", { value: "" }, "No assignment change"),
      h("option", { value: "me" }, "The agent who applies it"),
      [...ctx.agents.values()].sort((a, b) => String(a.name || a.email).localeCompare(String(b.name || b.email)))
        .map((a) => h("option", { value: a.id }, a.name || a.email)));
    assignee.value = macro ? (macro.assign_to_me ? "me" : macro.assign_agent_id || "") : "";
    const shared = h("input", { type: "checkbox", name: "shared", checked: Boolean(macro && macro.shared), disabled: editing || !canShare });
    const form = h("form", {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const doc = {
          name: name.value.trim(), body: body.value.trim() ? body.value : null, visibility: internal.checked ? "internal" : "public",
          set_status: status.value || null, set_priority: priority.value || null, add_tags: tagList(addTags.value),
          remove_tags: tagList(removeTags.value), assign_to_me: assignee.value === "me",
          assign_agent_id: assignee.value && assignee.value !== "me" ? assignee.value : null,
        };
        if (!doc.name) {
          announce("Give the macro a name.", "error");
          name.focus();
          return;
        }
        try {
          if (editing) await ctx.api.patch(`/macros/${macro.id}`, doc);
          else await ctx.api.post("/macros", { ...doc, shared: shared.checked });
          announce(`Macro “${doc.name}” saved.`);
          await load();
          drawForm(null);
        } catch (err) {
          announce(`Not saved: ${plainMessage(err)}`, "error");
        }
      },
    },
    field("Name", name),
    field("Reply text (optional)", body, `Placeholders: ${PLACEHOLDERS.map(([p, what]) => `${p} (${what})`).join(", ")}.`),
    h("div", { class: "choice" }, internal, h("label", { for: internal.id = `${name.id || "m"}-internal` }, "Send as an internal note (agents only)")),
    field("Set status", status), field("Set priority", priority),
    field("Add tags", addTags, "Separate tags with commas."), field("Remove tags", removeTags),
    field("Assign the ticket to", assignee),
    canShare && !editing ? h("div", { class: "choice" }, shared, h("label", { for: shared.id = `${name.id || "m"}-shared` }, "Shared with every agent")) : null,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "Create macro"),
      editing ? h("button", { type: "button", onclick: () => drawForm(null) }, "Cancel") : null));
    render(formBox, h("h2", { id: "macro-form-title" }, editing ? `Edit “${macro.name}”` : "New macro"), form);
    if (editing) name.focus();
  }

  try {
    await load();
  } catch (err) {
    render(main, h("h1", { id: "page-title" }, "Macros"), h("p", { class: "error" }, plainMessage(err)));
    return;
  }
  drawForm(null);
  render(main, h("h1", { id: "page-title" }, "Macros"),
    h("p", {}, "Saved replies you apply from a ticket's reply box: the reply, status, priority, tags and assignee in one step."),
    h("div", { class: "ticket-grid" }, listBox, formBox));
}

// The ticket page's side panel pieces: who else is here (presence), priority and tags editable in
// place, and the customer panel (the requester, their other open and recent tickets, related tickets).
import { announce, field, h, render, uid } from "../../dom.js";
import { formatDateTime, ticketRef } from "../../format.js";
import { plainMessage } from "../../problems.js";
import { statusLabel } from "../../states.js";

const PRIORITIES = ["low", "normal", "high", "urgent"]; // helpdesk/tickets/models.py PRIORITIES
const MAX_TAGS = 20; // helpdesk/tickets/models.py MAX_TAGS

export function presenceLine() {
  const box = h("p", { class: "presence", "aria-live": "polite", hidden: true });
  return {
    element: box,
    show(others, error) {
      if (error) {
        box.hidden = false;
        box.dataset.state = "unknown";
        box.textContent = "Who else is on this ticket is unknown right now.";
        return;
      }
      box.hidden = !others.length;
      box.dataset.state = others.some((o) => o.activity === "replying") ? "replying" : "viewing";
      box.textContent = others.map((o) => `${o.name} is ${o.activity === "replying" ? "writing a reply" : "viewing this ticket"}`).join("; ")
        + (others.some((o) => o.activity === "replying") ? ". Check before you answer, so the customer gets one reply." : ".");
    },
  };
}

export function priorityControl(ctx, page) {
  const select = h("select", { name: "priority", id: uid("priority") }, PRIORITIES.map((p) => h("option", { value: p }, p)));
  select.addEventListener("change", async () => {
    const ticket = page.ticket();
    const wanted = select.value;
    select.disabled = true;
    try {
      await ctx.api.post(`/tickets/${ticket.id}/priority`, { priority: wanted });
      announce(`${ticketRef(ticket)} priority is now ${wanted}.`);
      await page.refresh();
    } catch (err) {
      select.value = ticket.priority;
      announce(`The priority did not change: ${plainMessage(err)}`, "error");
    } finally {
      select.disabled = false;
    }
  });
  return {
    element: select,
    update() {
      const ticket = page.ticket();
      if (document.activeElement !== select) select.value = ticket.priority;
      select.disabled = ["merged", "spam", "duplicate", "closed"].includes(ticket.status);
    },
  };
}

export function tagsEditor(ctx, page) {
  const list = h("ul", { class: "tag-list", "aria-label": "Tags" });
  const input = h("input", { type: "text", name: "tag", autocomplete: "off", maxlength: 50, placeholder: "e.g. billing" });
  let shown = "";
  async function change(body, said) {
    const ticket = page.ticket();
    try {
      await ctx.api.patch(`/tickets/${ticket.id}/tags`, body);
      announce(said);
      await page.refresh();
    } catch (err) {
      announce(`Tags not changed: ${plainMessage(err)}`, "error");
    }
  }
  const form = h("form", {
    class: "inline-form tag-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const tags = input.value.split(/[\s,]+/).map((t) => t.trim().toLowerCase()).filter(Boolean);
      if (!tags.length) {
        announce("Type a tag to add (no spaces; separate several with commas).", "error");
        input.focus();
        return;
      }
      if (tags.some((t) => t.length > 50)) {
        announce("A tag has at most 50 characters.", "error");
        return;
      }
      if ((page.ticket().tags || []).length + tags.length > MAX_TAGS) {
        announce(`A ticket has at most ${MAX_TAGS} tags.`, "error");
        return;
      }
      await change({ add: tags }, `Tag${tags.length > 1 ? "s" : ""} ${tags.join(", ")} added.`);
      input.value = "";
      input.focus();
    },
  }, field("Add tags", input), h("button", { type: "submit" }, "Add"));
  return {
    element: h("div", { class: "tags-editor" }, list, form),
    update() {
      const tags = page.ticket().tags || [];
      const key = tags.join("\n");
      if (key === shown) return; // unchanged: keep focus on a tag's button
      shown = key;
      render(list, tags.length ? tags.map((tag) => h("li", { class: "tag" },
        h("span", {}, tag),
        h("button", { type: "button", class: "small tag-remove", "aria-label": `Remove tag ${tag}`,
          onclick: () => change({ remove: [tag] }, `Tag ${tag} removed.`) }, "×")))
        : h("li", { class: "muted" }, "No tags."));
    },
  };
}

const RELATION_WORDS = {
  parent: "Follow-up of", possible_followup_of: "Possibly a follow-up of (flagged by threading)",
  duplicate_of: "Duplicate of", followup: "Follow-up ticket", merged_from: "Merged into this ticket",
};

function ticketLink(t) {
  return h("a", { href: `#/ticket/${encodeURIComponent(t.ref)}` }, `${t.ref}: `, h("span", {}, t.subject));
}

export function customerPanel(ctx, page) {
  const box = h("div", { class: "customer-panel", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the customer…"));
  let data = null;
  async function load() {
    try {
      data = await ctx.api.get(`/tickets/${encodeURIComponent(page.ticket().id)}/customer-panel`);
      draw();
    } catch (err) {
      render(box, h("p", { class: "error" }, `The customer panel could not be loaded: ${plainMessage(err)}`));
    } finally {
      box.removeAttribute("aria-busy");
    }
    return data;
  }
  function draw() {
    const r = data.requester || {};
    const ticket = page.ticket();
    const unverified = ticket.chat_address_verified === false;
    render(box,
      h("dl", { class: "meta" },
        h("dt", {}, "Name"), h("dd", { id: "requester-name" }, r.name || "—"),
        h("dt", {}, "Email"), h("dd", {}, r.email || "—",
          unverified ? [" ", h("strong", { class: "warning", id: "requester-unverified" },
            "(address not verified: the chat visitor has not entered the code mailed to it)")] : null),
        h("dt", {}, "Email domain"), h("dd", {}, r.email ? r.email.split("@")[1] : "—"),
        h("dt", {}, "Tier"), h("dd", { class: `tier tier-${r.tier}` }, r.tier || "standard"),
        h("dt", {}, "Customer since"), h("dd", {}, formatDateTime(r.customer_since) || "—"),
        h("dt", {}, "Tickets"), h("dd", {}, String(r.tickets_total ?? "—"))),
      h("h3", {}, "Their other open tickets"),
      data.open_tickets.length ? h("ul", { class: "ticket-links" }, data.open_tickets.map((t) => h("li", {}, ticketLink(t),
        " ", h("span", { class: `status status-${t.status}` }, statusLabel(t.status))))) : h("p", { class: "muted" }, "None."),
      h("h3", {}, "Recent tickets"),
      data.recent_tickets.length ? h("ul", { class: "ticket-links" }, data.recent_tickets.map((t) => h("li", {}, ticketLink(t),
        " ", h("span", { class: `status status-${t.status}` }, statusLabel(t.status))))) : h("p", { class: "muted" }, "None."),
      h("h3", {}, "Related tickets"),
      data.related.length ? h("ul", { class: "ticket-links related" }, data.related.map((t) => h("li", { dataset: { relation: t.relation } },
        h("span", { class: "relation" }, `${RELATION_WORDS[t.relation] || t.relation}: `), ticketLink(t)))) : h("p", { class: "muted" }, "None."));
  }
  return {
    element: box,
    load,
    data: () => data,
    requester: () => (data ? data.requester : null),
  };
}

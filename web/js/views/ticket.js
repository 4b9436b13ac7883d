// The ticket page: header, who else is here, the conversation with the activity log inline, the reply
// box (views/ticket/composer.js), and the side panel: details, priority and tags, SLA clocks, status
// buttons (only allowed moves), assign, merge (with a preview of the target), the customer panel.
// One read makes it usable (GET /tickets/{ref}); the customer panel, the activity log and presence
// follow without blocking it. A change pushed on the ticket's channel reads the ticket again; the
// activity log is read again only when the ticket changed (its version). Presence beats on its own.
import { serverClock } from "../clock.js";
import { announce, field, h, render } from "../dom.js";
import { describeSla, formatDateTime, ticketRef } from "../format.js";
import { joinTicket } from "../presence.js";
import { plainMessage } from "../problems.js";
import { actionLabel, allowedNext, statusButtonTargets, statusLabel } from "../states.js";
import { levelWord } from "./list.js";
import { createComposer } from "./ticket/composer.js";
import { drawConversation, timeline } from "./ticket/conversation.js";
import { wireTicketKeys } from "./ticket/keys.js";
import { customerPanel, presenceLine, priorityControl, tagsEditor } from "./ticket/side.js";

function sortMessages(messages) {
  return [...messages].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || String(a.created_at).localeCompare(String(b.created_at)));
}

export async function renderTicket(main, ctx, ref) {
  performance.mark("ticket:start");
  delete main.dataset.ticketUsable;
  render(main, h("h1", { id: "page-title" }, `${ref}`), h("p", { class: "muted loading", "aria-busy": "true" }, `Loading ${ref}…`));
  let ticket;
  let messages = [];
  let older = []; // earlier messages the agent asked for (the ticket read carries the latest 50)
  let activity = [];
  let activityVersion = null;

  async function load() {
    ticket = await ctx.api.get(`/tickets/${encodeURIComponent(ref)}`);
    const latest = Array.isArray(ticket.messages) ? ticket.messages : [];
    const ids = new Set(latest.map((m) => m.id));
    messages = sortMessages([...older.filter((m) => !ids.has(m.id)), ...latest]);
  }

  try {
    await load();
  } catch (err) {
    if (err.status === 410 && err.problem.merged_into) {
      ctx.mergedFrom = ref;
      ctx.navigate(`#/ticket/${encodeURIComponent(err.problem.merged_into)}`, `${ref} was merged; opening the ticket it was merged into…`);
      return;
    }
    if (err.status === 404) {
      render(main, h("h1", {}, "Ticket not found"), h("p", {}, `There is no ticket ${ref}. Check the reference (e.g. TKT-12).`));
      return;
    }
    throw err;
  }
  if (ctx.mergedFrom) {
    announce(`${ctx.mergedFrom} was merged into ${ticketRef(ticket)}: you are looking at ${ticketRef(ticket)}.`);
    ctx.mergedFrom = null;
  }

  const lastPosition = () => (messages.length ? Math.max(...messages.map((m) => Number(m.position) || 0)) : null);
  const title = h("h1", { id: "page-title" });
  const meta = h("dl", { class: "meta" });
  const slaBox = h("ul", { class: "sla-list", "aria-label": "SLA clocks" });
  const statusBox = h("div", { class: "button-row", role: "group", "aria-labelledby": "status-legend" });
  const conversation = h("ol", { class: "conversation", "aria-label": "Conversation and activity" });
  const earlierText = h("span", {});
  const earlierButton = h("button", {
    type: "button", class: "small",
    onclick: async () => {
      const first = messages.length ? Math.min(...messages.map((m) => Number(m.position) || 0)) : null;
      earlierButton.disabled = true;
      earlierButton.setAttribute("aria-busy", "true");
      try {
        const answer = await ctx.api.get(`/tickets/${encodeURIComponent(ticket.id)}/messages`, { limit: 100, cursor: first });
        older = [...(answer.items || []), ...older];
        const ids = new Set(messages.map((m) => m.id));
        messages = sortMessages([...older.filter((m) => !ids.has(m.id)), ...messages]);
        drawConversationNow();
        announce(`${(answer.items || []).length} earlier message(s) shown.`);
      } catch (err) {
        announce(`Earlier messages could not be loaded: ${plainMessage(err)}`, "error");
      } finally {
        earlierButton.disabled = false;
        earlierButton.removeAttribute("aria-busy");
      }
    },
  }, "Show earlier messages");
  const earlier = h("p", { class: "muted small earlier", hidden: true }, earlierText, " ", earlierButton);
  const presence = presenceLine();
  const presenceLink = joinTicket(ctx.api, ticket.id, (others, err) => presence.show(others || [], err));
  let lastStatus = null;

  const page = { ticket: () => ticket, lastPosition, refresh: () => refresh(), presence: presenceLink };
  const priority = priorityControl(ctx, page);
  const tags = tagsEditor(ctx, page);
  const customer = customerPanel(ctx, page);
  const composer = createComposer(ctx, page);

  function drawHeader() {
    document.title = `${ticketRef(ticket)} · Helpdesk`;
    render(title, `${ticketRef(ticket)}: `, h("span", { class: "subject" }, ticket.subject));
    const rows = [
      ["Status", h("span", { class: `status status-${ticket.status}`, id: "ticket-status" }, statusLabel(ticket.status))],
      ["Team", ctx.teamName(ticket.team_id)],
      ["Assignee", h("span", { id: "ticket-assignee" }, ctx.agentName(ticket.assignee_id))],
      ["Channel", ticket.channel],
      ["Opened", formatDateTime(ticket.created_at)],
    ];
    if (ticket.reopen_count) rows.push(["Reopened", `${ticket.reopen_count} time(s)`]);
    render(meta, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    priority.update();
    tags.update();
    composer.update();
  }

  function drawSla() {
    const clocks = ticket.sla || [];
    if (!clocks.length) {
      render(slaBox, h("li", { class: "muted" }, "No SLA clock on this ticket."));
      return;
    }
    render(slaBox, clocks.map((clock) => {
      const d = describeSla(clock, serverClock.now());
      return h("li", { class: `sla sla-${d.level}`, dataset: { kind: clock.kind } },
        h("span", { class: "sla-tag" }, levelWord(d.level)), " ", h("strong", {}, `${d.label}: `), d.text);
    }));
  }

  function drawStatusButtons(allowedOverride) {
    const allowed = allowedOverride || allowedNext(ticket);
    const targets = statusButtonTargets(allowed);
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
    render(statusBox, targets.length
      ? targets.map((to) => h("button", {
        type: "button",
        class: to === "resolved" ? "primary" : "",
        dataset: { status: to, focusKey: `status-${to}` },
        onclick: () => (to === "duplicate" ? duplicateForm.open() : changeStatus(to)),
      }, actionLabel(to, ticket.status)))
      : h("p", { class: "muted" }, `No status change is possible from ${statusLabel(ticket.status)}.`));
    if (focusKey) {
      const again = statusBox.querySelector(`[data-focus-key="${focusKey}"]`);
      if (again) again.focus();
    }
    lastStatus = ticket.status;
  }

  function drawConversationNow() {
    drawConversation(conversation, ctx, ticket, timeline(messages, activity), customer.requester());
    const hidden = (ticket.message_count || 0) - messages.length;
    earlier.hidden = hidden <= 0;
    earlierText.textContent = hidden > 0 ? `${hidden} earlier message(s) are not shown; the latest ${messages.length} are.` : "";
  }

  function drawAll() {
    drawHeader();
    drawSla();
    if (lastStatus !== ticket.status) drawStatusButtons();
    drawConversationNow();
  }

  async function loadActivity() {
    if (activityVersion === ticket.version) return;
    const version = ticket.version;
    try {
      const answer = await ctx.api.get(`/tickets/${encodeURIComponent(ticket.id)}/activity`);
      activity = (answer && answer.items) || [];
      const changed = activityVersion !== null;
      activityVersion = version;
      drawConversationNow();
      // the ticket changed since the panel was read: its related tickets may have too (a duplicate, a merge)
      if (changed) customer.load();
    } catch (err) {
      console.warn("activity log not loaded", err);
    }
  }

  async function refresh() {
    await load();
    drawAll();
    loadActivity();
  }

  async function changeStatus(to, extra = {}) {
    const body = { status: to, ...extra };
    try {
      ticket = await ctx.api.post(`/tickets/${ticket.id}/status`, body);
      announce(`${ticketRef(ticket)} is now ${statusLabel(ticket.status)}.`);
      await refresh();
      drawStatusButtons();
      return true;
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.problem.allowed)) {
        announce(`Cannot move to ${statusLabel(to)}: ${plainMessage(err)}`, "error");
        await refresh().catch(() => {});
        drawStatusButtons(err.problem.allowed);
      } else {
        announce(`The status did not change: ${plainMessage(err)}`, "error");
      }
      return false;
    }
  }

  // -- duplicate: names the ticket it duplicates (the API refuses it otherwise) -------------------
  const duplicateInput = h("input", { type: "text", name: "duplicate_of", placeholder: "TKT-12", autocomplete: "off" });
  const duplicateForm = h("form", {
    class: "inline-form duplicate-form", hidden: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const original = duplicateInput.value.trim();
      if (!/^(TKT-\d+|[0-9a-fA-F-]{36})$/i.test(original)) {
        announce("Name the original ticket, e.g. TKT-12.", "error");
        duplicateInput.focus();
        return;
      }
      if (await changeStatus("duplicate", { duplicate_of: original.toUpperCase().startsWith("TKT-") ? original.toUpperCase() : original })) {
        duplicateForm.hidden = true;
        duplicateInput.value = "";
      }
    },
  }, field("Duplicate of ticket", duplicateInput, "The ticket this one repeats, e.g. TKT-12."),
  h("button", { type: "submit" }, "Confirm duplicate"),
  h("button", { type: "button", onclick: () => { duplicateForm.hidden = true; } }, "Cancel"));
  duplicateForm.open = () => {
    duplicateForm.hidden = false;
    duplicateInput.focus();
  };

  // -- assign ----------------------------------------------------------------------------------
  const agentSelect = h("select", { name: "agent_id" },
    h("option", { value: "" }, "Choose an agent…"),
    [...ctx.agents.values()].sort((a, b) => String(a.name || a.email).localeCompare(String(b.name || b.email)))
      .map((a) => h("option", { value: a.id }, `${a.name || a.email}${a.email && a.name ? ` (${a.email})` : ""}`)));
  const teamSelect = h("select", { name: "team_id" },
    h("option", { value: "" }, "No team change"),
    [...ctx.teams.values()].map((t) => h("option", { value: t.id }, t.name)));
  async function assign(body, what) {
    try {
      ticket = await ctx.api.post(`/tickets/${ticket.id}/assign`, body);
      announce(`${ticketRef(ticket)} assigned to ${what}.`);
      assignForm.reset(); // the next assignment starts from a clean form
      await refresh();
      drawStatusButtons();
    } catch (err) {
      announce(`Not assigned: ${plainMessage(err)}`, "error");
    }
  }
  const assignToMe = () => assign({ agent_id: ctx.me.id }, "you");
  const assignForm = h("form", {
    class: "inline-form",
    onsubmit: (event) => {
      event.preventDefault();
      // The API takes exactly one: an agent, or a team (back into that team's queue).
      if (agentSelect.value && teamSelect.value) {
        announce("Choose either an agent or a team, not both.", "error");
        return;
      }
      if (agentSelect.value) assign({ agent_id: agentSelect.value }, ctx.agentName(agentSelect.value));
      else if (teamSelect.value) assign({ team_id: teamSelect.value }, `the ${ctx.teamName(teamSelect.value)} queue`);
      else announce("Choose an agent or a team to assign to.", "error");
    },
  },
  field("Agent", agentSelect), field("Team", teamSelect),
  h("button", { type: "submit" }, "Assign"),
  h("button", { type: "button", onclick: assignToMe, "aria-keyshortcuts": "a" }, "Assign to me"));

  // -- merge: a picker (the requester's open tickets) with a preview of the target --------------
  const mergeOptions = h("datalist", { id: `merge-options-${ticket.number}` });
  const mergeInto = h("input", { type: "text", name: "into", placeholder: "TKT-12", autocomplete: "off", list: mergeOptions.id });
  const mergePreview = h("p", { class: "merge-preview muted small", "aria-live": "polite" });
  let previewed = null;
  let previewTimer = null;
  mergeInto.addEventListener("input", () => {
    window.clearTimeout(previewTimer);
    previewed = null;
    const into = mergeInto.value.trim().toUpperCase();
    if (!/^TKT-\d+$/.test(into)) {
      mergePreview.textContent = into ? "Type a reference like TKT-12." : "";
      return;
    }
    previewTimer = window.setTimeout(async () => {
      mergePreview.textContent = `Looking up ${into}…`;
      try {
        const target = await ctx.api.get(`/tickets/${encodeURIComponent(into)}`, { messages: 0 });
        if (mergeInto.value.trim().toUpperCase() !== into) return;
        previewed = target;
        mergePreview.textContent = target.id === ticket.id ? "That is this ticket."
          : `${ticketRef(target)}: ${target.subject} · ${statusLabel(target.status)} · ${ctx.teamName(target.team_id)} · ${ctx.agentName(target.assignee_id)}`
            + (target.requester_id !== ticket.requester_id ? " · another customer's ticket" : " · same customer");
      } catch (err) {
        mergePreview.textContent = err.status === 410 ? `${into} was itself merged; merge into the ticket it went to.`
          : err.status === 404 ? `There is no ticket ${into}.` : plainMessage(err);
      }
    }, 250);
  });
  const mergeForm = h("form", {
    class: "inline-form merge-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const into = mergeInto.value.trim().toUpperCase();
      if (!into) {
        announce("Name the ticket to merge into, e.g. TKT-12.", "error");
        return;
      }
      const about = previewed ? `${ticketRef(previewed)} (${previewed.subject})` : into;
      if (!window.confirm(`Merge ${ticketRef(ticket)} into ${about}? Its messages move there and this ticket closes as merged.`)) return;
      try {
        let merged;
        try {
          merged = await ctx.api.post(`/tickets/${ticket.id}/merge`, { into });
        } catch (err) {
          // Another customer's ticket: joining two customers' conversations needs an explicit yes.
          if (!(err.status === 409 && err.problem && err.problem.reason === "requesters_differ")) throw err;
          if (!window.confirm(`${ticketRef(ticket)} and ${into} belong to different customers. Merge them anyway? `
            + "Each customer keeps seeing only their own conversation in the portal.")) return;
          merged = await ctx.api.post(`/tickets/${ticket.id}/merge`, { into, confirm_different_requesters: true });
        }
        const target = (merged && merged.merged_into_id) || into;
        ctx.navigate(`#/ticket/${encodeURIComponent(target)}`, `${ticketRef(ticket)} was merged into ${into}; you are looking at ${into}.`);
      } catch (err) {
        announce(`Not merged: ${plainMessage(err)}`, "error");
      }
    },
  }, field("Merge into ticket", mergeInto, "The ticket that stays, e.g. TKT-12 (the customer's open tickets are suggested)."),
  mergeOptions, h("button", { type: "submit" }, "Merge"), mergePreview);

  // -- the page --------------------------------------------------------------------------------
  // On a phone the side panel comes after the conversation: a bar of jumps keeps the actions near.
  const jumpBar = h("nav", { class: "ticket-jumps", "aria-label": "Ticket sections" },
    h("a", { href: "#composer", onclick: (e) => { e.preventDefault(); composer.focus("public"); } }, "Reply"),
    h("a", { href: "#actions", onclick: (e) => { e.preventDefault(); document.getElementById("status-legend").scrollIntoView(); statusBox.querySelector("button")?.focus(); } }, "Status"),
    h("a", { href: "#assign", onclick: (e) => { e.preventDefault(); document.getElementById("assign-title").scrollIntoView(); agentSelect.focus(); } }, "Assign"),
    h("a", { href: "#customer", onclick: (e) => { e.preventDefault(); document.getElementById("customer-title").scrollIntoView(); } }, "Customer"),
    h("button", { type: "button", class: "small", onclick: () => document.querySelector("dialog.keys-help")?.showModal() }, "Keys (?)"));

  render(main,
    h("article", { class: "ticket", "aria-labelledby": "page-title", dataset: { ticketId: ticket.id } },
      title,
      presence.element,
      jumpBar,
      h("div", { class: "ticket-grid" },
        h("div", { class: "ticket-main" },
          h("section", { "aria-labelledby": "conv-title" }, h("h2", { id: "conv-title" }, "Conversation"), earlier, conversation),
          composer.element),
        h("aside", { class: "ticket-side", "aria-label": "Ticket details and actions" },
          meta,
          h("section", { "aria-labelledby": "status-legend", id: "actions" }, h("h2", { id: "status-legend" }, "Change status"), statusBox, duplicateForm),
          h("section", { "aria-labelledby": "assign-title" }, h("h2", { id: "assign-title" }, "Assign"), assignForm),
          h("section", { "aria-labelledby": "fields-title" }, h("h2", { id: "fields-title" }, "Priority and tags"),
            field("Priority", priority.element), tags.element),
          h("section", { "aria-labelledby": "sla-title" }, h("h2", { id: "sla-title" }, "SLA"), slaBox,
            h("p", { class: "muted small" }, "Deadlines are counted in the team's business hours.")),
          h("section", { "aria-labelledby": "customer-title" }, h("h2", { id: "customer-title" }, "Customer"), customer.element),
          h("section", { "aria-labelledby": "merge-title" }, h("h2", { id: "merge-title" }, "Merge"), mergeForm)))));
  drawAll();
  drawStatusButtons();
  performance.mark("ticket:usable");
  performance.measure("ticket:usable", "ticket:start", "ticket:usable");
  main.dataset.ticketUsable = "true";

  // What does not block the first paint: the customer panel, the activity log, presence.
  customer.load().then((data) => {
    if (!data) return;
    render(mergeOptions, (data.open_tickets || []).map((t) => h("option", { value: t.ref }, t.subject)));
    drawConversationNow(); // customer names in the conversation
  });
  loadActivity();
  presenceLink.beat();

  const unwireKeys = wireTicketKeys({
    reply: () => composer.focus("public"),
    note: () => composer.focus("internal"),
    assignToMe,
  });
  ctx.onLeave(() => {
    delete main.dataset.ticketUsable;
    unwireKeys();
    composer.dispose();
    presenceLink.leave();
  });

  // SLA countdowns tick every second; the ticket itself reloads when a change is pushed.
  const ticker = window.setInterval(() => {
    if (!document.body.contains(slaBox)) window.clearInterval(ticker);
    else drawSla();
  }, 1000);
  ctx.follow([`/tickets/${ticket.id}`], refresh);
}

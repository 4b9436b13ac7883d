// Ticket lists: my tickets, team queue, at risk, all, and search results. Refreshed every few
// seconds; the refresh keeps keyboard focus where it was.
import { itemsOf } from "../api.js";
import { serverClock } from "../clock.js";
import { h, render } from "../dom.js";
import { describeSla, formatDateTime, ticketRef } from "../format.js";
import { statusLabel } from "../states.js";

// What each view asks the API for: GET /tickets?view=... (helpdesk.views: mine, queue,
// at_risk, all; server-side, cursor-paginated, one Data API call per page).
export const VIEWS = {
  mine: { title: "My tickets", api: "mine", empty: "No open ticket is assigned to you. Try “Next ticket”." },
  team: { title: "Team queue", api: "queue", empty: "Your teams' queues are empty." },
  "at-risk": { title: "At risk", api: "at_risk", empty: "No open ticket is near or past an SLA deadline." },
  all: { title: "All tickets", api: "all", empty: "No tickets yet." },
};

async function fetchTickets(ctx, view, query, cursor) {
  const data = view === "search"
    ? await ctx.api.get("/search", { q: query, cursor })
    : await ctx.api.get("/tickets", { view: VIEWS[view].api, cursor, limit: 50 });
  return {
    items: itemsOf(data), next: data && data.next_cursor, count: data && data.count,
    // Search ranks only the most recently updated matches when there are very many.
    rankedAmong: data && data.more_matches ? data.ranked_among : null,
  };
}

function slaCell(ticket) {
  if (!ticket.sla && ticket.next_due_at) {
    // List items carry only the earliest running deadline.
    const d = describeSla({ kind: "next", state: "running", due_at: ticket.next_due_at }, serverClock.now());
    return h("span", { class: `sla sla-${d.level}` }, h("span", { class: "sla-tag" }, levelWord(d.level)), ` ${d.text}`);
  }
  const running = (ticket.sla || []).filter((t) => t.state === "running" || t.state === "paused");
  if (!running.length) return h("span", { class: "muted" }, "—");
  // The most urgent clock: the earliest deadline.
  running.sort((a, b) => new Date(a.due_at || 8.64e15) - new Date(b.due_at || 8.64e15));
  const d = describeSla(running[0], serverClock.now());
  return h("span", { class: `sla sla-${d.level}` }, h("span", { class: "sla-tag" }, levelWord(d.level)), ` ${d.label}: ${d.text}`);
}

export function levelWord(level) {
  return { ok: "On track", warning: "At risk", breached: "Breached", met: "Met", paused: "Paused" }[level] || level;
}

function ticketTable(ctx, title, items) {
  return h("table", { class: "tickets" },
    h("caption", { class: "visually-hidden" }, title),
    h("thead", {}, h("tr", {},
      ["Ticket", "Subject", "Status", "Priority", "Team", "Assignee", "SLA", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, items.map((t) => h("tr", { dataset: { ticketId: t.id } },
      h("td", {}, h("a", { href: `#/ticket/${encodeURIComponent(ticketRef(t))}`, dataset: { focusKey: `ticket-${t.id}` } }, ticketRef(t))),
      h("td", { class: "subject" }, t.subject),
      h("td", {}, h("span", { class: `status status-${t.status}` }, statusLabel(t.status))),
      h("td", {}, h("span", { class: `priority priority-${t.priority}` }, t.priority)),
      h("td", {}, ctx.teamName(t.team_id)),
      h("td", {}, ctx.agentName(t.assignee_id)),
      h("td", {}, slaCell(t)),
      h("td", {}, formatDateTime(t.updated_at))))));
}

export async function renderList(main, ctx, { view, query }) {
  const spec = VIEWS[view];
  if (!spec && view !== "search") throw new Error(`unknown view ${view}`);
  const title = view === "search" ? `Search: ${query}` : spec.title;
  document.title = `${title} · Helpdesk`;
  if (view === "search") document.getElementById("search-q").value = query;

  const heading = h("h1", { id: "page-title" }, title);
  const updated = h("p", { class: "muted small", "aria-live": "off" });
  const body = h("div", { class: "list-body" });
  const more = h("div");
  let cursor = null;
  let items = [];
  let count = null;
  let rankedAmong = null;

  function draw() {
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
    if (!items.length) {
      render(body, h("p", { class: "empty" }, view === "search" ? `No ticket matches “${query}”.` : spec.empty || "No tickets here."));
    } else {
      render(body, ticketTable(ctx, title, items));
    }
    render(more, cursor ? h("button", { type: "button", onclick: loadMore }, "Load more tickets") : null);
    const total = count && count.display ? count.display : String(items.length);
    const scope = rankedAmong ? ` · best matches among the ${rankedAmong} most recently updated; add words to narrow` : "";
    updated.textContent = `${total} ticket${total === "1" ? "" : "s"}${scope} · updated ${new Date().toLocaleTimeString()}`;
    if (focusKey) {
      const again = body.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  async function refresh() {
    const page = await fetchTickets(ctx, view, query, null);
    items = page.items;
    cursor = page.next;
    count = page.count;
    rankedAmong = page.rankedAmong;
    draw();
  }

  async function loadMore() {
    const page = await fetchTickets(ctx, view, query, cursor);
    items = items.concat(page.items.filter((t) => !items.some((o) => o.id === t.id)));
    cursor = page.next;
    draw();
  }

  render(main, h("section", { "aria-labelledby": "page-title" }, heading, updated, body, more));
  await refresh();
  if (view !== "search") ctx.every(refresh);
}

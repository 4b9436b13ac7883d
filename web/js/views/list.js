// Ticket lists: my tickets, team queue, at risk, all, and search results.
//
// A refresh (when a change is pushed: ctx.followView) redraws only the rows whose ticket changed (rows are keyed by ticket
// id), so the agent's text selection, focus, checkboxes and scroll position survive it. Rows open
// the ticket on a click anywhere (the reference stays a real link for keyboard, middle click and
// screen readers); j/k move, o opens, x selects, / searches, ? lists the keys (web/js/keys.js).
import { itemsOf } from "../api.js";
import { serverClock } from "../clock.js";
import { h, render } from "../dom.js";
import { plainError } from "../errors.js";
import { formatDateTime, relativeTime, ticketRef } from "../format.js";
import { useKeys } from "../keys.js";
import { levelWord, slaChip } from "../sla.js";
import { STATUS_LABELS, statusLabel } from "../states.js";

export { levelWord }; // the ticket page imports it from here

// What each view asks the API for: GET /tickets?view=... (helpdesk.views: mine, queue,
// at_risk, all; server-side, cursor-paginated, one Data API call per page).
export const VIEWS = {
  mine: { title: "My tickets", api: "mine", count: "mine", empty: "No open ticket is assigned to you. Try “Next ticket”." },
  team: { title: "Team queue", api: "queue", count: "queue", empty: "Your teams' queues are empty." },
  "at-risk": { title: "At risk", api: "at_risk", count: "at_risk", empty: "No open ticket is near or past an SLA deadline." },
  all: { title: "All tickets", api: "all", count: "all", empty: "No tickets match." },
};

// Filters each list offers (the API accepts them on every view; the queue and "mine" fix some).
const FILTERS_BY_VIEW = {
  mine: ["tag", "sort"],
  team: ["tag"],
  "at-risk": ["tag", "team", "assignee"],
  all: ["status", "team", "assignee", "tag", "sort"],
  search: ["status", "team", "assignee", "tag"],
};
const SORTS = { updated: "Recently updated", created: "Newest first", priority: "Priority" };
const BULK_STATUSES = ["in_progress", "waiting_on_customer", "resolved", "closed", "spam"];
const PAGE = 50;
const WORKERS = 4; // bulk actions: requests in flight at once

function filterParams(view, params) {
  const out = {};
  for (const name of FILTERS_BY_VIEW[view] || []) {
    const value = params.get(name);
    if (value) out[name] = value;
  }
  return out;
}

async function fetchTickets(ctx, view, query, filters, cursor) {
  const data = view === "search"
    ? await ctx.api.get("/search", { q: query, ...filters })
    // The first page brings the navigation's counts too (same call): a refresh is one request.
    : await ctx.api.get("/tickets", { view: VIEWS[view].api, cursor, limit: PAGE, counts: cursor ? null : "true", ...filters });
  if (data && data.view_counts && ctx.showCounts) ctx.showCounts(data.view_counts);
  return {
    items: itemsOf(data), next: data && data.next_cursor, count: data && data.count, exact: data && data.exact,
    // Search ranks only the most recently updated matches when there are very many.
    rankedAmong: data && data.more_matches ? data.ranked_among : null,
  };
}

function requesterText(t) {
  const r = t.requester || {};
  return r.name || r.email || "—";
}

function snippet(parts) {
  if (!Array.isArray(parts) || !parts.length) return null;
  // User text stays text; only the API's match flags become <mark> elements.
  return h("p", { class: "snippet" }, parts.map((p) => (p.match ? h("mark", {}, p.text) : p.text)));
}

function tagList(tags) {
  if (!Array.isArray(tags) || !tags.length) return null;
  return h("ul", { class: "tags", "aria-label": "Tags" }, tags.map((tag) =>
    h("li", {}, h("a", { href: `#/view/all?tag=${encodeURIComponent(tag)}`, class: "tag", title: `All tickets tagged ${tag}` }, tag))));
}

function timeCell(value) {
  return h("time", { datetime: value || "", title: formatDateTime(value), dataset: { relative: value || "" } },
    relativeTime(value, serverClock.now()));
}

function lastMessageCell(t) {
  const m = t.last_message;
  if (!m) return h("span", { class: "muted" }, "—");
  const who = m.author_type === "customer" ? "Customer" : m.author_type === "agent" ? (m.visibility === "internal" ? "Note" : "Agent") : "System";
  return h("div", { class: "last-message" },
    h("span", { class: `who who-${m.author_type}` }, `${who}: `),
    h("span", { class: "preview" }, (m.preview || "").replace(/\s+/g, " ").slice(0, 120)),
    " ", timeCell(m.at));
}

/** The columns, each a header and how one ticket fills its cell (the card list reuses the headers). */
function columns(ctx) {
  return [
    { head: "Ticket", cell: (t) => [
      t.unread ? h("span", { class: "unread-dot", title: "New customer message" }, h("span", { class: "visually-hidden" }, "Unread. ")) : null,
      h("a", { href: `#/ticket/${encodeURIComponent(ticketRef(t))}`, class: "ref", dataset: { focusKey: `ticket-${t.id}` } }, ticketRef(t))] },
    { head: "Subject", cls: "subject", cell: (t) => [h("span", { class: "subject-text" }, t.subject), tagList(t.tags), snippet(t.snippet_parts)] },
    { head: "Requester", cls: "requester", cell: (t) => h("span", { title: (t.requester && t.requester.email) || "" }, requesterText(t)) },
    { head: "Last message", cls: "last", cell: lastMessageCell },
    { head: "Status", cell: (t) => h("span", { class: `status status-${t.status}` }, statusLabel(t.status)) },
    { head: "Priority", cell: (t) => h("span", { class: `priority priority-${t.priority}` }, t.priority) },
    { head: "Assignee", cell: (t) => [ctx.agentName(t.assignee_id), h("br"), h("span", { class: "muted small" }, ctx.teamName(t.team_id))] },
    { head: "SLA", cell: (t) => slaChip(t.sla, serverClock.now()) },
    { head: "Updated", cell: (t) => timeCell(t.updated_at) },
  ];
}

/** Fixed-pool runner: `work(item)` for every item, WORKERS at a time; results in input order. */
async function runAll(items, work) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await work(items[i]) };
      } catch (err) {
        results[i] = { ok: false, error: err };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WORKERS, items.length) }, worker));
  return results;
}

export async function renderList(main, ctx, { view, query = "", params = new URLSearchParams() }) {
  const spec = VIEWS[view];
  if (!spec && view !== "search") throw new Error(`unknown view ${view}`);
  const title = view === "search" ? `Search: ${query}` : spec.title;
  const filters = filterParams(view, params);
  document.title = `${title} · Helpdesk`;
  if (view === "search") document.getElementById("search-q").value = query;

  const cols = columns(ctx);
  const heading = h("h1", { id: "page-title" }, title);
  const summary = h("p", { class: "muted small list-summary", "aria-live": "off" });
  const problem = h("p", { class: "list-problem", role: "alert", hidden: true });
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select every ticket shown", onchange: () => {
    for (const t of items) selectAll.checked ? selected.add(t.id) : selected.delete(t.id);
    syncChecks();
  } });
  const tbody = h("tbody");
  const table = h("table", { class: "tickets" },
    h("caption", { class: "visually-hidden" }, title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "pick" }, selectAll),
      cols.map((c) => h("th", { scope: "col", class: c.cls || null }, c.head)))),
    tbody);
  const body = h("div", { class: "list-body", "aria-busy": "true" },
    h("p", { class: "loading", role: "status" }, view === "search" ? "Searching…" : "Loading tickets…"));
  const more = h("div");
  const bulkResults = h("div", { class: "bulk-results", "aria-live": "polite" });

  const rows = new Map(); // ticket id -> { tr, signature }
  const selected = new Set();
  let items = [];
  let cursor = null;
  let count = null;
  let rankedAmong = null;
  let loadedOnce = false;

  function cellsOf(t) {
    const check = h("input", { type: "checkbox", class: "pick-one", "aria-label": `Select ${ticketRef(t)}`, checked: selected.has(t.id),
      onchange: (event) => { event.target.checked ? selected.add(t.id) : selected.delete(t.id); syncChecks(); } });
    return [h("td", { class: "pick" }, check), cols.map((c) => h("td", { class: c.cls || null, dataset: { label: c.head } }, c.cell(t)))];
  }

  function rowFor(t) {
    const tr = h("tr", { dataset: { ticketId: t.id }, class: t.unread ? "unread" : null }, cellsOf(t));
    return tr;
  }

  function syncChecks() {
    for (const [id, { tr }] of rows) {
      const box = tr.querySelector("input.pick-one");
      if (box && box.checked !== selected.has(id)) box.checked = selected.has(id);
    }
    for (const id of [...selected]) if (!rows.has(id)) selected.delete(id);
    selectAll.checked = items.length > 0 && items.every((t) => selected.has(t.id));
    selectAll.indeterminate = selected.size > 0 && !selectAll.checked;
    drawBulk();
  }

  // Rows whose ticket is unchanged stay the same DOM nodes (selection, focus and scroll survive);
  // changed ones are replaced; order is fixed by moving only rows that are out of place.
  function drawRows() {
    const seen = new Set();
    for (const [index, t] of items.entries()) {
      seen.add(t.id);
      const signature = JSON.stringify(t);
      let entry = rows.get(t.id);
      if (!entry || entry.signature !== signature) {
        const tr = rowFor(t);
        const hadFocus = entry && entry.tr.contains(document.activeElement);
        if (entry) entry.tr.replaceWith(tr);
        entry = { tr, signature };
        rows.set(t.id, entry);
        if (hadFocus) tr.querySelector("a.ref").focus({ preventScroll: true });
      }
      const here = tbody.children[index] || null;
      if (entry.tr !== here) tbody.insertBefore(entry.tr, here);
    }
    for (const [id, entry] of rows) {
      if (!seen.has(id)) {
        entry.tr.remove();
        rows.delete(id);
      }
    }
    // Relative times move on without a row change.
    const now = serverClock.now();
    for (const el of tbody.querySelectorAll("time[data-relative]")) {
      const text = relativeTime(el.dataset.relative, now);
      if (el.textContent !== text) el.textContent = text;
    }
  }

  function draw() {
    body.removeAttribute("aria-busy");
    if (!items.length) {
      rows.clear();
      render(tbody);
      render(body, h("p", { class: "empty" }, view === "search" ? `No ticket matches “${query}”.` : spec.empty || "No tickets here."));
    } else {
      if (table.parentNode !== body) render(body, table);
      drawRows();
    }
    const wantMore = cursor ? "more" : "";
    if ((more.dataset.state || "") !== wantMore) {
      more.dataset.state = wantMore;
      render(more, cursor ? h("button", { type: "button", onclick: loadMore }, "Load more tickets") : null);
    }
    const total = count && count.display ? count.display : String(items.length);
    const scope = rankedAmong ? ` · best matches among the ${rankedAmong} most recently updated; add words to narrow` : "";
    const text = `${total} ticket${total === "1" ? "" : "s"}${scope}`;
    if (summary.textContent !== text) summary.textContent = text;
    syncChecks();
  }

  function showProblem(err, during) {
    problem.hidden = false;
    problem.textContent = loadedOnce ? `${during} failed: ${plainError(err)} The list shows what it last loaded.` : plainError(err);
    if (!loadedOnce) {
      body.removeAttribute("aria-busy");
      render(body, h("p", { class: "empty" }, "The tickets could not be loaded."));
    }
  }

  async function refresh() {
    let page;
    try {
      page = await fetchTickets(ctx, view, query, filters, null);
    } catch (err) {
      showProblem(err, "Refreshing the list");
      return;
    }
    if (page.exact && !loadedOnce) {
      // "TKT-7", "#7" or "7": the ticket itself. Replace the search entry so Back returns to where the agent was.
      window.location.replace(`#/ticket/${encodeURIComponent(page.exact)}`);
      return;
    }
    problem.hidden = true;
    // A refresh fetches the first page again and keeps the further pages the agent loaded.
    const loadedMore = loadedOnce && items.length > PAGE;
    const kept = loadedMore ? items.slice(PAGE).filter((t) => !page.items.some((p) => p.id === t.id)) : [];
    items = page.items.concat(kept);
    if (!loadedMore) cursor = page.next;
    count = page.count;
    rankedAmong = page.rankedAmong;
    loadedOnce = true;
    draw();
  }

  async function loadMore(event) {
    const button = event && event.currentTarget;
    if (button) { button.disabled = true; button.textContent = "Loading…"; }
    try {
      const page = await fetchTickets(ctx, view, query, filters, cursor);
      items = items.concat(page.items.filter((t) => !items.some((o) => o.id === t.id)));
      cursor = page.next;
      more.dataset.state = "";
      draw();
    } catch (err) {
      if (button) { button.disabled = false; button.textContent = "Load more tickets"; }
      showProblem(err, "Loading more tickets");
    }
  }

  // -- filters ------------------------------------------------------------------------------
  function filterBar() {
    const names = FILTERS_BY_VIEW[view] || [];
    if (!names.length) return null;
    const controls = {};
    const select = (name, label, options) => {
      controls[name] = h("select", { name }, options.map(([value, text]) => h("option", { value, selected: (filters[name] || "") === value }, text)));
      return h("div", { class: "field" }, h("label", { for: `filter-${name}` }, label), Object.assign(controls[name], { id: `filter-${name}` }));
    };
    const parts = [];
    if (names.includes("status")) {
      parts.push(select("status", "Status", [["", "Any status"], ["open", "Open"], ...Object.entries(STATUS_LABELS)]));
    }
    if (names.includes("team")) {
      parts.push(select("team", "Team", [["", "Any team"], ...[...ctx.teams.values()].map((t) => [t.id, t.name])]));
    }
    if (names.includes("assignee")) {
      const agents = [...ctx.agents.values()].filter((a) => !ctx.me || a.id !== ctx.me.id).map((a) => [a.id, a.name || a.email]);
      parts.push(select("assignee", "Assignee", [["", "Anyone"], ["me", "Me"], ["none", "Unassigned"], ...agents]));
    }
    if (names.includes("tag")) {
      controls.tag = h("input", { id: "filter-tag", name: "tag", type: "text", value: filters.tag || "", maxlength: "50",
        autocomplete: "off", placeholder: "e.g. vip" });
      parts.push(h("div", { class: "field" }, h("label", { for: "filter-tag" }, "Tag"), controls.tag));
    }
    if (names.includes("sort")) {
      parts.push(select("sort", "Sort by", Object.entries(SORTS).map(([value, text]) => [value === "updated" ? "" : value, text])));
    }
    const apply = (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      for (const [name, control] of Object.entries(controls)) {
        const value = control.value.trim();
        if (value) next.set(name, value);
      }
      const base = view === "search" ? `#/search/${encodeURIComponent(query)}` : `#/view/${view}`;
      const qs = next.toString();
      ctx.navigate(qs ? `${base}?${qs}` : base);
    };
    for (const control of Object.values(controls)) if (control.tagName === "SELECT") control.addEventListener("change", apply);
    const clearLink = Object.keys(filters).length
      ? h("a", { href: view === "search" ? `#/search/${encodeURIComponent(query)}` : `#/view/${view}`, class: "clear-filters" }, "Clear filters")
      : null;
    return h("form", { class: "inline-form filters", "aria-label": "Filters", onsubmit: apply },
      parts, h("button", { type: "submit" }, "Apply"), clearLink);
  }

  // -- bulk actions -------------------------------------------------------------------------
  const bulkBar = h("div", { class: "bulk-bar", hidden: true });

  function chosenTickets() {
    return items.filter((t) => selected.has(t.id));
  }

  async function runBulk(label, work, describe) {
    const tickets = chosenTickets();
    if (!tickets.length) return;
    for (const b of bulkBar.querySelectorAll("button")) b.disabled = true;
    render(bulkResults, h("p", { role: "status" }, `${label}: working on ${tickets.length} ticket${tickets.length === 1 ? "" : "s"}…`));
    const results = await runAll(tickets, (t) => work(t));
    const done = results.filter((r) => r.ok).length;
    render(bulkResults,
      h("h2", { class: "bulk-title" }, `${label}: ${done} of ${tickets.length} done`),
      h("ul", { class: "bulk-list" }, tickets.map((t, i) => {
        const r = results[i];
        return h("li", { class: r.ok ? "bulk-ok" : "bulk-failed", dataset: { ticketId: t.id } },
          h("strong", {}, ticketRef(t)), " ",
          r.ok ? describe(t) : `Not changed: ${plainError(r.error)}`);
      })),
      h("button", { type: "button", onclick: () => render(bulkResults) }, "Dismiss"));
    for (const [i, t] of tickets.entries()) if (results[i].ok) selected.delete(t.id);
    for (const b of bulkBar.querySelectorAll("button")) b.disabled = false;
    await refresh();
  }

  function bulkControls() {
    const agentChoice = h("select", { id: "bulk-agent" },
      ctx.me ? h("option", { value: ctx.me.id }, `Me (${ctx.me.name || ctx.me.email})`) : null,
      [...ctx.agents.values()].filter((a) => !ctx.me || a.id !== ctx.me.id).map((a) => h("option", { value: a.id }, a.name || a.email)));
    const statusChoice = h("select", { id: "bulk-status" }, BULK_STATUSES.map((s) => h("option", { value: s }, statusLabel(s))));
    const tagInput = h("input", { id: "bulk-tag", type: "text", maxlength: "50", autocomplete: "off" });
    const tagValue = () => tagInput.value.trim().toLowerCase();
    return [
      h("p", { class: "bulk-count", role: "status" }),
      h("div", { class: "field" }, h("label", { for: "bulk-agent" }, "Assign to"), agentChoice),
      h("button", { type: "button", onclick: () => {
        const agentId = agentChoice.value;
        runBulk("Assign", (t) => ctx.api.post(`/tickets/${encodeURIComponent(ticketRef(t))}/assign`, { agent_id: agentId }),
          () => `assigned to ${ctx.agentName(agentId)}`);
      } }, "Assign"),
      h("div", { class: "field" }, h("label", { for: "bulk-status" }, "Set status"), statusChoice),
      h("button", { type: "button", onclick: () => {
        const status = statusChoice.value;
        runBulk("Set status", (t) => ctx.api.post(`/tickets/${encodeURIComponent(ticketRef(t))}/status`, { status }),
          () => `now ${statusLabel(status)}`);
      } }, "Set status"),
      h("div", { class: "field" }, h("label", { for: "bulk-tag" }, "Tag"), tagInput),
      h("button", { type: "button", onclick: () => {
        const tag = tagValue();
        if (!tag) { tagInput.focus(); return; }
        runBulk("Add tag", (t) => ctx.api.patch(`/tickets/${encodeURIComponent(ticketRef(t))}/tags`, { add: [tag] }), () => `tagged ${tag}`);
      } }, "Add tag"),
      h("button", { type: "button", onclick: () => {
        const tag = tagValue();
        if (!tag) { tagInput.focus(); return; }
        runBulk("Remove tag", (t) => ctx.api.patch(`/tickets/${encodeURIComponent(ticketRef(t))}/tags`, { remove: [tag] }), () => `tag ${tag} removed`);
      } }, "Remove tag"),
      h("button", { type: "button", class: "link-button", onclick: () => { selected.clear(); syncChecks(); } }, "Clear selection"),
    ];
  }

  function drawBulk() {
    const n = selected.size;
    if (!n) {
      bulkBar.hidden = true;
      return;
    }
    if (!bulkBar.firstChild) render(bulkBar, h("form", { class: "inline-form", "aria-label": "Bulk actions", onsubmit: (e) => e.preventDefault() }, bulkControls()));
    bulkBar.hidden = false;
    const countLine = bulkBar.querySelector(".bulk-count");
    const text = `${n} selected`;
    if (countLine.textContent !== text) countLine.textContent = text;
  }

  // -- keys ---------------------------------------------------------------------------------
  function rowLinks() {
    return [...tbody.querySelectorAll("tr a.ref")];
  }
  function currentIndex() {
    return rowLinks().findIndex((a) => a.closest("tr").contains(document.activeElement));
  }
  function move(step) {
    const links = rowLinks();
    if (!links.length) return;
    const at = currentIndex();
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    links[next].closest("tr").scrollIntoView({ block: "nearest" });
  }
  useKeys("view", view === "search" ? "Search results" : "Ticket list", [
    { key: "j", label: "Next ticket in the list", run: () => move(1) },
    { key: "k", label: "Previous ticket in the list", run: () => move(-1) },
    { key: "o", label: "Open the current ticket", run: () => { const l = rowLinks()[currentIndex()]; if (l) l.click(); } },
    { key: "x", label: "Select or unselect the current ticket", run: () => {
      const l = rowLinks()[currentIndex()];
      if (l) l.closest("tr").querySelector("input.pick-one").click();
    } },
  ]);

  // A click anywhere on a row opens the ticket, except on its own controls or when the agent was
  // selecting text. Ctrl/Cmd or middle click opens it in a new tab, like a link.
  function openFromRow(event) {
    const tr = event.target.closest("tr[data-ticket-id]");
    if (!tr || event.target.closest("a, button, input, select, label, textarea")) return;
    if (String(window.getSelection() || "").length) return;
    const link = tr.querySelector("a.ref");
    if (event.button === 1 || event.ctrlKey || event.metaKey) window.open(link.href, "_blank", "noopener");
    else if (event.button === 0) ctx.navigate(link.getAttribute("href"));
  }
  tbody.addEventListener("click", openFromRow);
  tbody.addEventListener("auxclick", (event) => { if (event.button === 1) openFromRow(event); });

  render(main, h("section", { "aria-labelledby": "page-title", class: `list list-${view}` },
    heading, filterBar(), summary, problem, bulkBar, bulkResults, body, more));
  await refresh();
  if (view !== "search") ctx.followView(view, refresh);
}

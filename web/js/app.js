// The agent workspace: sign-in, hash routing between views, the header controls, live refresh.
import { createApi, ApiError } from "./api.js";
import { authProvider, storedToken, storeToken, TOKEN_STORAGE_KEY } from "./auth.js";
import { loadConfig } from "./config.js";
import { announce, h, render } from "./dom.js";
import { ticketRef } from "./format.js";
import { renderSignIn } from "./views/signin.js";
import { renderList } from "./views/list.js";
import { renderTicket } from "./views/ticket.js";
import { renderReports } from "./views/reports.js";
import { renderDevClock } from "./views/devclock.js";
import { renderMacros } from "./views/macros.js";
import { plainMessage } from "./problems.js";
import { serverClock } from "./clock.js";
import { adminNavEntry, renderAdmin } from "./admin/console.js";
import { plainError } from "./errors.js";
import { dropKeys, useKeys } from "./keys.js";
import { configureLive, onConnectionChange, subscribe } from "./live.js";

const main = document.getElementById("main");
const LIST_REREAD_SECONDS = 15;

const ctx = {
  config: null,
  api: null,
  auth: null,
  me: null,
  teams: new Map(), // id -> team
  agents: new Map(), // id -> agent
  leaveHooks: [],
  pendingMessage: null,
  live: null, // GET /live: the Event API endpoint and this agent's channels
  following: [], // what the current page follows (stopped on navigation)
  /** Go to `hash`; `message` (optional) is shown in the status line after the new page's clearing. */
  navigate(hash, message = null, kind = "info") {
    ctx.pendingMessage = message ? { message, kind } : null;
    if (window.location.hash === hash) route(true);
    else window.location.hash = hash;
  },
  /** Run `fn` when the current page is left (another route, sign-out). */
  onLeave(fn) {
    ctx.leaveHooks.push(fn);
  },
  /** Re-read the page (`refresh`) when something changes on `channels`: by push, or by polling every
   * 60 s only while push is disconnected (web/js/live.js). A burst of changes is one re-read, and
   * re-reads are at least `minSeconds` apart (the first change shows at once). */
  follow(channels, refresh, { minSeconds = 0 } = {}) {
    stopRefresh();
    const run = coalesced(refresh, minSeconds * 1000);
    ctx.following = channels.map((channel) =>
      subscribe(channel, (event) => event.kind === "change" && run(), { fallback: refresh }));
    ctx.following.push(run.cancel);
  },
  /** What a list view follows: my own channel (tickets given to or taken from me), and the queues of
   * my teams (team queue, at risk) or of every team (all). The re-reads of a busy queue are at
   * least LIST_REREAD_SECONDS apart (docs/deploy.md, "Live updates: sizing"). */
  followView(view, refresh) {
    if (!ctx.live) return ctx.follow([], refresh);
    const teams = view === "all" ? [...ctx.teams.keys()] : view === "mine" ? [] : ctx.myTeamIds();
    ctx.follow([ctx.live.own_channel, ...teams.map((id) => `/teams/${id}`)], refresh, { minSeconds: LIST_REREAD_SECONDS });
  },
  teamName(id) {
    if (!id) return "—";
    const team = ctx.teams.get(id);
    return team ? team.name : `team ${String(id).slice(0, 8)}`;
  },
  agentName(id) {
    if (!id) return "Unassigned";
    const agent = ctx.agents.get(id);
    if (agent) return agent.name || agent.email;
    if (ctx.me && ctx.me.id === id) return ctx.me.name || ctx.me.email;
    return `agent ${String(id).slice(0, 8)}`;
  },
  myTeamIds() {
    const me = ctx.me || {};
    if (Array.isArray(me.team_ids)) return me.team_ids;
    if (Array.isArray(me.teams)) return me.teams.map((t) => (typeof t === "string" ? t : t.id));
    return [];
  },
  showError(err, prefix = "") {
    const text = err instanceof ApiError ? plainMessage(err) : plainError(err);
    announce(prefix ? `${prefix}: ${text}` : text, "error");
  },
  showCounts,
};

function stopRefresh() {
  for (const stop of ctx.following.splice(0)) stop();
}

/** `fn` at most once at a time and at least `gapMs` after the last run began; calls meanwhile make
 * one more run, as soon as it is allowed. */
function coalesced(fn, gapMs = 0) {
  let busy = false;
  let pending = false;
  let timer = null;
  let lastStart = -Infinity;
  const start = () => {
    timer = null;
    busy = true;
    pending = false;
    lastStart = Date.now();
    fn().catch((err) => console.warn("refresh failed", err)).finally(() => {
      busy = false;
      if (pending) run();
    });
  };
  const run = () => {
    if (busy) pending = true;
    if (busy || timer) return;
    const wait = lastStart + gapMs - Date.now();
    if (wait > 0) timer = setTimeout(start, wait);
    else start();
  };
  run.cancel = () => {
    clearTimeout(timer);
    timer = null;
    pending = false;
  };
  return run;
}

function setSignedInChrome(signedIn) {
  for (const id of ["nav", "search-form", "next-ticket", "account"]) {
    document.getElementById(id).hidden = !signedIn;
  }
  if (signedIn && ctx.me) {
    document.getElementById("whoami").textContent = `Signed in as ${ctx.me.name || ctx.me.email} (${ctx.me.role || "agent"})`;
    adminNavEntry(ctx);
  }
}

function markCurrentNav(path) {
  for (const link of document.querySelectorAll("#nav a")) {
    if (path.startsWith(link.dataset.route)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function loadDirectory() {
  // Teams and agents give names to ids. An agent may not be allowed to list agents: fine.
  const [teams, agents] = await Promise.allSettled([ctx.api.get("/teams"), ctx.api.get("/agents")]);
  const list = (res) => (res.status === "fulfilled" ? (Array.isArray(res.value) ? res.value : (res.value && res.value.items) || []) : []);
  ctx.teams = new Map(list(teams).map((t) => [t.id, t]));
  ctx.agents = new Map(list(agents).map((a) => [a.id, a]));
  if (ctx.me) ctx.agents.set(ctx.me.id, { ...ctx.agents.get(ctx.me.id), ...ctx.me });
}

async function signedIn() {
  if (!storedToken()) return false;
  try {
    ctx.me = await ctx.api.get("/agents/me");
  } catch (err) {
    if (err.status === 401 || err.status === 403 || err.status === 404) {
      storeToken(null);
      announce(`Sign-in was not accepted: ${err.message}`, "error");
      return false;
    }
    throw err;
  }
  await loadDirectory();
  // Where live updates come from; without it pages still poll (slowly) through live.js's fallback.
  ctx.live = await ctx.api.get("/live").catch(() => null);
  configureLive({ realtime: ctx.live && ctx.live.realtime, getToken: storedToken,
    self: ctx.live ? ctx.live.own_channel.split("/").pop() : null,
    fallbackSeconds: ctx.live ? ctx.live.fallback_poll_seconds : 60 });
  return true;
}

function leavePage() {
  const hooks = ctx.leaveHooks.splice(0);
  for (const hook of hooks) {
    try {
      hook();
    } catch (err) {
      console.warn("leaving the page failed", err);
    }
  }
}

async function route(navigated = false) {
  stopRefresh();
  leavePage();
  // The status line speaks of the page it was said on: a new page starts with it clear (or with the
  // message that explains the navigation, e.g. where a merged ticket went).
  if (navigated) {
    const pending = ctx.pendingMessage;
    ctx.pendingMessage = null;
    announce(pending ? pending.message : "", pending ? pending.kind : "info");
  }
  dropKeys("view");
  const raw = window.location.hash.replace(/^#\/?/, "");
  const mark = raw.indexOf("?");
  const path = decodeURIComponent(mark < 0 ? raw : raw.slice(0, mark)) || "view/mine";
  const params = new URLSearchParams(mark < 0 ? "" : raw.slice(mark + 1));
  if (!ctx.me) {
    setSignedInChrome(false);
    renderSignIn(main, ctx, async () => {
      if (await signedIn()) {
        setSignedInChrome(true);
        announce(`Signed in as ${ctx.me.email}`);
        route();
      }
    });
    return;
  }
  setSignedInChrome(true);
  markCurrentNav(path);
  const [kind, ...rest] = path.split("/");
  const arg = rest.join("/");
  markSeen(kind === "ticket" ? arg : null);
  main.setAttribute("aria-busy", "true");
  try {
    if (kind === "view") await renderList(main, ctx, { view: arg || "mine", params });
    else if (kind === "search") await renderList(main, ctx, { view: "search", query: arg, params });
    else if (kind === "ticket") await renderTicket(main, ctx, arg);
    else if (kind === "reports") await renderReports(main, ctx);
    else if (kind === "macros") await renderMacros(main, ctx);
    else if (kind === "admin") await renderAdmin(main, ctx, arg);
    else if (kind === "dev" && ctx.config.auth === "local") await renderDevClock(main, ctx);
    else render(main, h("h1", {}, "Not found"), h("p", {}, `There is no page “${path}”.`));
  } catch (err) {
    render(main, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, err instanceof ApiError ? plainMessage(err) : plainError(err)));
    console.error(err);
  } finally {
    main.removeAttribute("aria-busy");
  }
  // Lists bring the counts with their page; elsewhere they are fetched once, when none are shown yet.
  if (kind !== "view" && !countsShown) refreshCounts();
  // The link or button that led here may be gone with the old page: keyboard and screen reader
  // users continue from the new page's content instead of the top of the document.
  const active = document.activeElement;
  if (navigated && (!active || active === document.body || !active.isConnected)) main.focus({ preventScroll: true });
}

// -- agent workspace lists (issue 18): nav counts, unread marks, status line, keys, tabs ---------
const NAV_COUNTS = { "view/mine": "mine", "view/team": "queue", "view/at-risk": "at_risk", "view/all": "all" };

let countsShown = false;

/** The count of each view beside its link in the navigation (GET /views/counts: one call). */
async function refreshCounts() {
  if (!ctx.me) return;
  try {
    showCounts(await ctx.api.get("/views/counts"));
  } catch (err) {
    // The counts are a hint: the page itself reports its own problems.
  }
}

/** Draws counts ({mine, queue, at_risk, all, mine_unread}, as the API gives them) into the navigation. */
function showCounts(counts) {
  countsShown = true;
  for (const link of document.querySelectorAll("#nav a[data-route]")) {
    const name = NAV_COUNTS[link.dataset.route];
    if (!name || !counts[name]) continue;
    // Beside the link, not in it: the link's name stays the view's name; the count describes it.
    let badge = link.parentElement.querySelector(".nav-count");
    if (!badge) {
      badge = h("span", { class: "nav-count", id: `nav-count-${name}` });
      link.after(" ", badge);
      link.setAttribute("aria-describedby", badge.id);
    }
    const unread = name === "mine" && counts.mine_unread && counts.mine_unread.value ? counts.mine_unread : null;
    const text = unread ? `${counts[name].display} · ${unread.display} new` : counts[name].display;
    if (badge.textContent !== text) badge.textContent = text;
    const label = `${counts[name].display} ticket${counts[name].display === "1" ? "" : "s"}${unread ? `, ${unread.display} with new customer messages` : ""}`;
    badge.setAttribute("title", label);
  }
}

// Opening a ticket marks its customer messages read for me; leaving it marks what arrived while I
// was reading it (the page refreshes its conversation). Fire and forget: a failed mark only
// leaves the ticket bold in the list.
let openTicket = null;
function markSeen(ref) {
  for (const which of new Set([openTicket, ref])) {
    if (which) ctx.api.post(`/tickets/${encodeURIComponent(which)}/seen`, {}).catch(() => {});
  }
  openTicket = ref;
}

// Signing in or out in another tab does the same here (the token lives in localStorage).
function followOtherTabs() {
  window.addEventListener("storage", async (event) => {
    if (event.key !== TOKEN_STORAGE_KEY) return;
    if (!event.newValue && ctx.me) {
      stopRefresh();
      ctx.me = null;
      announce("Signed out in another tab.");
      route();
    } else if (event.newValue && !ctx.me && (await signedIn())) {
      route();
    }
  });
}

function wireKeys() {
  useKeys("global", "Anywhere", [
    { key: "/", label: "Search tickets", run: () => { const q = document.getElementById("search-q"); q.focus(); q.select(); } },
  ]);
}

function wireHeader() {
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("search-q").value.trim();
    if (q) ctx.navigate(`#/search/${encodeURIComponent(q)}`);
  });
  document.getElementById("next-ticket").addEventListener("click", async () => {
    try {
      const ticket = await ctx.api.post("/queue/next", {});
      if (!ticket) {
        announce("Queue empty: no ticket is waiting in your teams' queues.", "info");
        return;
      }
      ctx.navigate(`#/ticket/${encodeURIComponent(ticketRef(ticket))}`, `Claimed ${ticketRef(ticket)}: ${ticket.subject}`);
    } catch (err) {
      ctx.showError(err, "Next ticket");
    }
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    stopRefresh();
    leavePage();
    ctx.me = null;
    countsShown = false;
    await ctx.auth.signOut(ctx.config);
    announce("Signed out.");
    route();
  });
}

async function start() {
  ctx.config = await loadConfig();
  ctx.auth = authProvider(ctx.config);
  ctx.api = createApi({
    apiBase: ctx.config.apiBase,
    getToken: storedToken,
    onUnauthorized: () => {
      if (ctx.me) {
        ctx.me = null;
        storeToken(null);
        announce("Your session ended; please sign in again.", "error");
        route();
      }
    },
  });
  wireHeader();
  wireKeys();
  followOtherTabs();
  // Whether live updates are flowing (tests and styles read it; pages poll slowly while it is not).
  onConnectionChange((connected) => { document.body.dataset.live = connected ? "connected" : "disconnected"; });
  if (ctx.config.auth === "local") {
    // The dev clock exists only in the local stack.
    document.querySelector("#nav ul").append(h("li", {}, h("a", { href: "#/dev", "data-route": "dev" }, "Dev clock")));
    await serverClock.sync(ctx.config);
    window.setInterval(() => serverClock.sync(ctx.config), 30_000);
  }
  try {
    await ctx.auth.completeRedirect(ctx.config);
    await signedIn();
  } catch (err) {
    ctx.showError(err, "Sign-in");
  }
  window.addEventListener("hashchange", () => route(true));
  await route();
  document.body.dataset.ready = "true";
}

start();

// The customer portal: the link is the credential (portal.html?token=... or portal.html#token).
// Shows the public conversation (never internal notes: the API does not send them) and takes replies.
import { createApi, itemsOf } from "./api.js";
import { loadConfig } from "./config.js";
import { announce, field, h, render } from "./dom.js";
import { formatDateTime, ticketRef } from "./format.js";
import { statusLabel } from "./states.js";

function portalToken() {
  const params = new URLSearchParams(window.location.search);
  return params.get("token") || decodeURIComponent(window.location.hash.replace(/^#/, "")) || "";
}

function messageView(message) {
  const fromUs = message.author_type !== "customer";
  return h("li", { class: `message public author-${message.author_type}` },
    h("article", { "aria-label": fromUs ? "Message from support" : "Your message" },
      h("header", { class: "message-head" },
        h("span", { class: `badge ${fromUs ? "badge-public" : "badge-customer"}` }, fromUs ? "Support" : "You"),
        h("time", { datetime: message.created_at }, formatDateTime(message.created_at))),
      h("div", { class: "message-body" }, message.body)));
}

async function start() {
  const config = await loadConfig();
  const api = createApi({ apiBase: config.apiBase });
  const main = document.getElementById("main");
  const token = portalToken();
  if (!token) {
    render(main, h("p", { class: "error" }, "This link is incomplete: it should end with the token from your email."));
    document.body.dataset.ready = "true";
    return;
  }
  const path = `/portal/${encodeURIComponent(token)}`;
  const conversation = h("ol", { class: "conversation", "aria-label": "Conversation" });
  const summary = h("p");

  async function load() {
    const data = await api.get(path);
    const ticket = data.ticket || data;
    const messages = (data.messages || ticket.messages || itemsOf(data)).filter((m) => (m.visibility || "public") === "public");
    messages.sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || String(a.created_at).localeCompare(String(b.created_at)));
    document.getElementById("portal-title").textContent = `${ticketRef(ticket)}: ${ticket.subject}`;
    document.title = `${ticketRef(ticket)} · Your support request`;
    render(summary, "Status: ", h("strong", { id: "portal-status" }, statusLabel(ticket.status)));
    render(conversation, messages.map(messageView));
  }

  const body = h("textarea", { name: "body", rows: 6, required: true, maxlength: 100000 });
  const send = h("button", { type: "submit", class: "primary" }, "Send reply");
  const form = h("form", {
    class: "composer",
    onsubmit: async (event) => {
      event.preventDefault();
      if (!body.value.trim()) {
        announce("Write your reply first.", "error");
        body.focus();
        return;
      }
      send.disabled = true;
      try {
        await api.post(`${path}/messages`, { body: body.value });
        body.value = "";
        announce("Reply sent. Our team has been notified.");
        await load();
      } catch (err) {
        announce(`Your reply was not sent: ${err.message}`, "error");
      } finally {
        send.disabled = false;
      }
    },
  }, h("h2", {}, "Reply"), field("Your reply", body), send);

  try {
    await load();
    render(main, summary, h("h2", {}, "Conversation"), conversation, form);
  } catch (err) {
    const code = (err.problem && err.problem.code) || "";
    const text = code === "link_expired"
      ? "This link has expired. Please use the link in our latest email, or write to us again."
      : err.status === 404 || err.status === 403 || err.status === 400
      ? "This link is not valid (or has been replaced). Please use the latest email from us."
      : err.status === 410 ? "This request was merged into another one; see your latest email from us."
        : `The conversation could not be loaded: ${err.message}`;
    render(main, h("p", { class: "error", id: "portal-error" }, text));
  }
  document.body.dataset.ready = "true";
}

start();

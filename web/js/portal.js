// The customer portal: the link is the credential (portal.html?token=... or portal.html#token).
// Shows the public conversation (never internal notes: the API does not send them) with its files
// (each opened through a short-lived download link), takes replies with files, shows the status in
// the customer's words (the API's status_label), offers the solved mail's answers (rate, confirm,
// "not solved": satisfaction-view.js), refreshes itself while open, and mails the customer a link to
// all their requests (requests.html) when they ask.
import { createApi, itemsOf } from "./api.js";
import { loadConfig } from "./config.js";
import { announce, field, h, render } from "./dom.js";
import { formatDateTime, ticketRef } from "./format.js";
import { surveyPanel } from "./satisfaction-view.js";
import { configureLive, subscribe } from "./live.js";

// As the API's limits (helpdesk/auth/uploads.py): MAX_FORM_ATTACHMENTS and MAX_UPLOAD_BYTES.
const MAX_FILES = 5;
const MAX_FILE_BYTES = 10 * 1024 * 1024;

function portalToken() {
  const params = new URLSearchParams(window.location.search);
  return params.get("token") || decodeURIComponent(window.location.hash.replace(/^#/, "")) || "";
}

function formatBytes(n) {
  if (!n && n !== 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function fileList(files, open) {
  if (!files || !files.length) return null;
  return h("ul", { class: "attachment-list", "aria-label": "Files" }, files.map((file) => h("li", {},
    h("button", { type: "button", class: "link-button", onclick: () => open(file) }, file.filename),
    h("span", { class: "muted small" }, ` (${formatBytes(file.size)})`))));
}

function messageView(message, open) {
  const fromUs = message.author_type !== "customer";
  return h("li", { class: `message public author-${message.author_type}` },
    h("article", { "aria-label": fromUs ? "Message from support" : "Your message" },
      h("header", { class: "message-head" },
        h("span", { class: `badge ${fromUs ? "badge-public" : "badge-customer"}` }, fromUs ? "Support" : "You"),
        h("time", { datetime: message.created_at }, formatDateTime(message.created_at))),
      h("div", { class: "message-body" }, message.body),
      fileList(message.attachments, open)));
}

async function uploadFile(api, path, file) {
  if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name} is larger than 10 MB`);
  if (file.size === 0) throw new Error(`${file.name} is empty`);
  const grant = await api.post(`${path}/attachments`, {
    filename: file.name, content_type: file.type || "application/octet-stream", size: file.size,
  });
  const form = new FormData();
  for (const [k, v] of Object.entries(grant.upload.fields)) form.append(k, v);
  form.append("file", file);
  const res = await fetch(grant.upload.url, { method: "POST", body: form });
  if (!res.ok) throw new Error(`uploading ${file.name} failed (HTTP ${res.status})`);
  return grant.reference;
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
  const survey = h("div");
  let lastSeen = "";

  async function openFile(file) {
    try {
      const link = await api.get(`${path}/attachments/${encodeURIComponent(file.ref)}`);
      window.open(link.url, "_blank", "noopener");
    } catch (err) {
      announce(`${file.filename} could not be opened: ${err.message}`, "error");
    }
  }

  function surveyState(ticket) {
    const rated = ticket.satisfaction || {};
    return { status: ticket.status, status_label: ticket.status_label, can_rate: ticket.can_rate,
      rating: rated.rating || null, comment: rated.comment || null };
  }

  const actions = {
    rate: (rating, comment) => api.post(`${path}/rating`, { rating, comment: comment || null }),
    solved: () => api.post(`${path}/solved`),
    notSolved: (comment) => api.post(`${path}/not-solved`, { comment: comment || null }),
    reload: async () => surveyState(await load()),
  };

  async function load() {
    const data = await api.get(path);
    const ticket = data.ticket || data;
    const messages = (data.messages || ticket.messages || itemsOf(data)).filter((m) => (m.visibility || "public") === "public");
    messages.sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || String(a.created_at).localeCompare(String(b.created_at)));
    document.getElementById("portal-title").textContent = `${ticketRef(ticket)}: ${ticket.subject}`;
    document.title = `${ticketRef(ticket)} · Your support request`;
    render(summary, "Status: ", h("strong", { id: "portal-status" }, ticket.status_label || ticket.status));
    // Only redraw what changed: a refresh must not move the reader or their focus.
    const seen = JSON.stringify([ticket.status, ticket.satisfaction, messages.map((m) => m.id)]);
    if (seen !== lastSeen) {
      render(conversation, messages.map((m) => messageView(m, openFile)));
      const answering = survey.contains(document.activeElement);
      if (!answering) {
        render(survey, ticket.can_rate || ticket.status === "resolved"
          ? surveyPanel(surveyState(ticket), actions) : null);
      }
      lastSeen = seen;
    }
    return ticket;
  }

  const body = h("textarea", { name: "body", rows: 6, required: true, maxlength: 20000 });
  const files = h("input", { type: "file", name: "files", multiple: true });
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
      const chosen = Array.from(files.files || []);
      if (chosen.length > MAX_FILES) {
        announce(`Attach at most ${MAX_FILES} files (you chose ${chosen.length}).`, "error");
        return;
      }
      send.disabled = true;
      try {
        const attachments = [];
        for (const file of chosen) attachments.push(await uploadFile(api, path, file));
        await api.post(`${path}/messages`, { body: body.value, attachments });
        body.value = "";
        files.value = "";
        announce("Reply sent. Our team has been notified.");
        await load();
      } catch (err) {
        announce(`Your reply was not sent: ${err.message}`, "error");
      } finally {
        send.disabled = false;
      }
    },
  }, h("h2", {}, "Reply"), field("Your reply", body), field("Attach files (optional)", files, `Up to ${MAX_FILES} files, 10 MB each.`), send);

  // The customer's other requests: listed on a page whose link goes to their address (only its owner sees it).
  const others = h("section", { class: "other-requests", "aria-labelledby": "others-heading" },
    h("h2", { id: "others-heading" }, "Your other requests"),
    h("p", {}, "We can email you a link to the list of all your requests."),
    h("button", {
      type: "button", id: "requests-link",
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api.post(`${path}/requests-link`);
          announce("We emailed you a link to all your requests. It works for 7 days.");
        } catch (err) {
          announce(`The link was not sent: ${err.message}`, "error");
          event.target.disabled = false;
        }
      },
    }, "Email me the list of my requests"));

  try {
    await load();
    render(main, summary, survey, h("h2", {}, "Conversation"), conversation, form, others);
    // Our answers appear by push (the link's own channel); polling every 60 s only while disconnected.
    const live = await api.get(`${path}/live`).catch(() => null);
    configureLive({ realtime: live && live.realtime, getToken: () => token, fallbackSeconds: live ? live.fallback_poll_seconds : 60 });
    if (live) subscribe(live.channel, (event) => event.kind === "change" && load().catch(() => {}), { fallback: load });
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

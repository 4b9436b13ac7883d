// The ticket page: header and SLA clocks, status buttons (only allowed moves), assign, merge,
// the conversation (public replies and internal notes look and read differently), the reply box.
import { itemsOf } from "../api.js";
import { serverClock } from "../clock.js";
import { announce, field, h, render, uid } from "../dom.js";
import { describeSla, formatDateTime, ticketRef } from "../format.js";
import { actionLabel, allowedNext, statusButtonTargets, statusLabel } from "../states.js";
import { levelWord } from "./list.js";

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// As the API's limits (helpdesk/auth/uploads.py): MAX_REPLY_ATTACHMENTS and MAX_UPLOAD_BYTES.
const MAX_REPLY_FILES = 10;
const MAX_REPLY_FILE_BYTES = 10 * 1024 * 1024;

function messagesOf(ticket) {
  return Array.isArray(ticket.messages) ? ticket.messages : null;
}

function sortMessages(messages) {
  return [...messages].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || String(a.created_at).localeCompare(String(b.created_at)));
}

function authorOf(ctx, message, ticket, requester) {
  if (message.author_type === "agent") {
    return message.author_name || ctx.agentName(message.author_agent_id);
  }
  if (message.author_type === "customer") {
    const person = requester && (!message.author_customer_id || message.author_customer_id === requester.id) ? requester : null;
    return message.author_name || message.author_email || (person && (person.name || person.email_display || person.email)) || "Customer";
  }
  return "System";
}

function messageView(ctx, message, ticket, requester) {
  const internal = message.visibility === "internal";
  const kindLabel = internal ? "Internal note" : message.author_type === "customer" ? "Customer message" : "Public reply";
  return h("li", { class: `message ${internal ? "internal" : "public"} author-${message.author_type}`, dataset: { visibility: message.visibility, messageId: message.id } },
    h("article", { "aria-label": `${kindLabel} from ${authorOf(ctx, message, ticket, requester)}` },
      h("header", { class: "message-head" },
        h("span", { class: `badge ${internal ? "badge-internal" : "badge-public"}` }, internal ? "Internal note · agents only" : kindLabel),
        h("span", { class: "author" }, authorOf(ctx, message, ticket, requester)),
        h("time", { datetime: message.created_at }, formatDateTime(message.created_at)),
        message.channel ? h("span", { class: "muted small" }, `via ${message.channel}`) : null),
      // The body is text: tickets carry HTML and SQL, shown literally (pre-wrap keeps lines).
      h("div", { class: "message-body" }, message.body),
      message.body_truncated || message.channel === "email" ? wholeMessageButton(ctx, ticket, message) : null,
      (message.attachments || []).length
        ? h("ul", { class: "attachments", "aria-label": "Attachments" }, message.attachments.map((a, index) => h("li", {},
          attachmentLink(ctx, ticket, message, a, index),
          a.size ? h("span", { class: "muted small" }, ` (${formatBytes(a.size)})`) : null)))
        : null));
}

// Views carry the first 2,000 characters; the whole text, the quoted/forwarded part of a mail and
// its (sanitized) HTML come from GET /tickets/{id}/messages/{message id}, shown as text.
function wholeMessageButton(ctx, ticket, message) {
  if (!message.id || !ticket || !ticket.id) return null;
  const label = message.body_truncated ? "Show the whole message" : "Show the quoted and forwarded text";
  return h("button", {
    type: "button", class: "link small",
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const full = await ctx.api.get(`/tickets/${encodeURIComponent(ticket.id)}/messages/${encodeURIComponent(message.id)}`);
        const article = button.closest("article");
        article.querySelector(".message-body").textContent = full.body;
        button.replaceWith(full.quoted
          ? h("details", { class: "quoted" }, h("summary", {}, "Quoted and forwarded text"), h("div", { class: "message-body" }, full.quoted))
          : h("p", { class: "muted small" }, "(nothing quoted or forwarded)"));
      } catch (err) {
        button.disabled = false;
        announce(`Could not load the whole message: ${err.message}`, "error");
      }
    },
  }, label);
}

// The attachments bucket is private: on click the API hands out a short-lived presigned URL for
// `<message id>.<index>` (its place in this message's list) and the file opens in a new tab.
function attachmentLink(ctx, ticket, message, attachment, index) {
  const name = attachment.filename || "attachment";
  if (attachment.url) return h("a", { href: attachment.url, rel: "noopener noreferrer", target: "_blank" }, name);
  if (!message.id || !ticket || !ticket.id) return name;
  const path = `/tickets/${encodeURIComponent(ticket.id)}/attachments/${encodeURIComponent(`${message.id}.${index}`)}`;
  return h("a", {
    href: "#", class: "attachment-link", title: `Open ${name}`,
    onclick: async (event) => {
      event.preventDefault();
      // Opened inside the click so pop-up blockers allow it; pointed at the URL once the API answers.
      const tab = window.open("", "_blank");
      if (tab) tab.opener = null;
      try {
        const link = await ctx.api.get(path);
        if (tab) tab.location.href = link.url;
        else window.location.assign(link.url);
      } catch (err) {
        if (tab) tab.close();
        announce(`Could not open ${name}: ${err.message}`, "error");
      }
    },
  }, name);
}

export async function renderTicket(main, ctx, ref) {
  let ticket;
  let messages = [];

  let requester = null;

  async function load() {
    ticket = await ctx.api.get(`/tickets/${encodeURIComponent(ref)}`);
    if (!requester && ticket.requester_id) {
      // The requester's name and email; a missing customers endpoint just leaves the id out.
      requester = await ctx.api.get(`/customers/${encodeURIComponent(ticket.requester_id)}`).catch(() => null);
    }
    const embedded = messagesOf(ticket);
    if (embedded) {
      messages = embedded;
    } else {
      messages = itemsOf(await ctx.api.get(`/tickets/${encodeURIComponent(ticket.id)}/messages`, { limit: 100 }));
    }
    messages = sortMessages(messages);
  }

  try {
    await load();
  } catch (err) {
    if (err.status === 410 && err.problem.merged_into) {
      announce(`${ref} was merged; showing the ticket it was merged into.`);
      ctx.navigate(`#/ticket/${encodeURIComponent(err.problem.merged_into)}`);
      return;
    }
    if (err.status === 404) {
      render(main, h("h1", {}, "Ticket not found"), h("p", {}, `No ticket ${ref}.`));
      return;
    }
    throw err;
  }

  const title = h("h1", { id: "page-title" });
  const meta = h("dl", { class: "meta" });
  const slaBox = h("ul", { class: "sla-list", "aria-label": "SLA clocks" });
  const statusBox = h("div", { class: "button-row", role: "group", "aria-labelledby": "status-legend" });
  const conversation = h("ol", { class: "conversation", "aria-label": "Conversation" });
  let lastStatus = null;

  // A chat visitor can type anyone's address; until they enter the code mailed to it, say so.
  function chatAddressUnverified(t) {
    return t.chat_address_verified === false;
  }

  function drawHeader() {
    document.title = `${ticketRef(ticket)} · Helpdesk`;
    render(title, `${ticketRef(ticket)}: `, h("span", { class: "subject" }, ticket.subject));
    const person = ticket.requester || requester;
    const shown = person && (person.email_display || person.email);
    const requesterText = person ? (person.name ? `${person.name} <${shown}>` : shown) : ticket.requester_email || "";
    const rows = [
      ["Status", h("span", { class: `status status-${ticket.status}`, id: "ticket-status" }, statusLabel(ticket.status))],
      ["Priority", ticket.priority],
      ["Team", ctx.teamName(ticket.team_id)],
      ["Assignee", h("span", { id: "ticket-assignee" }, ctx.agentName(ticket.assignee_id))],
      ["Requester", chatAddressUnverified(ticket)
        ? [requesterText || "—", " ", h("strong", { class: "warning", id: "requester-unverified" },
            "(address not verified: the chat visitor has not entered the code mailed to it)")]
        : requesterText || "—"],
      ["Channel", ticket.channel],
      ["Opened", formatDateTime(ticket.created_at)],
    ];
    if (ticket.reopen_count) rows.push(["Reopened", `${ticket.reopen_count} time(s)`]);
    render(meta, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
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
        onclick: () => changeStatus(to),
      }, actionLabel(to, ticket.status)))
      : h("p", { class: "muted" }, `No status change is possible from ${statusLabel(ticket.status)}.`));
    if (focusKey) {
      const again = statusBox.querySelector(`[data-focus-key="${focusKey}"]`);
      if (again) again.focus();
    }
    lastStatus = ticket.status;
  }

  function drawConversation() {
    render(conversation, messages.length ? messages.map((m) => messageView(ctx, m, ticket, requester)) : h("li", { class: "muted" }, "No messages yet."));
  }

  function drawAll() {
    drawHeader();
    drawSla();
    if (lastStatus !== ticket.status) drawStatusButtons();
    drawConversation();
  }

  async function changeStatus(to) {
    const body = { status: to };
    if (to === "duplicate") {
      // A duplicate names the ticket it duplicates (the API refuses it otherwise).
      const original = window.prompt(`${ticketRef(ticket)} duplicates which ticket? (TKT-n)`, "");
      if (!original || !original.trim()) return;
      body.duplicate_of = original.trim();
    }
    try {
      ticket = await ctx.api.post(`/tickets/${ticket.id}/status`, body);
      announce(`${ticketRef(ticket)} is now ${statusLabel(ticket.status)}.`);
      await refresh();
      drawStatusButtons();
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.problem.allowed)) {
        announce(`Cannot move to ${statusLabel(to)}: ${err.message}`, "error");
        await refresh().catch(() => {});
        drawStatusButtons(err.problem.allowed);
      } else {
        ctx.showError(err, "Status change");
      }
    }
  }

  // -- assign ----------------------------------------------------------------------------
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
      await refresh();
      drawStatusButtons();
    } catch (err) {
      ctx.showError(err, "Assign");
    }
  }
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
  h("button", { type: "button", onclick: () => assign({ agent_id: ctx.me.id }, "you") }, "Assign to me"));

  // -- merge -----------------------------------------------------------------------------
  const mergeInto = h("input", { type: "text", name: "into", placeholder: "TKT-12", autocomplete: "off", pattern: "^(TKT-\\d+|[0-9a-fA-F-]{36})$" });
  const mergeForm = h("form", {
    class: "inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const into = mergeInto.value.trim();
      if (!into) {
        announce("Name the ticket to merge into, e.g. TKT-12.", "error");
        return;
      }
      if (!window.confirm(`Merge ${ticketRef(ticket)} into ${into}? Its messages move there and this ticket closes as merged.`)) return;
      try {
        // The answer is this (now merged) ticket; follow it to the ticket that stays.
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
        announce(`${ticketRef(ticket)} merged into ${into}.`);
        ctx.navigate(`#/ticket/${encodeURIComponent(target)}`);
      } catch (err) {
        ctx.showError(err, "Merge");
      }
    },
  }, field("Merge into ticket", mergeInto, "The reference of the ticket that stays, e.g. TKT-12."), h("button", { type: "submit" }, "Merge"));

  // -- reply -----------------------------------------------------------------------------
  // Files of the reply: each is uploaded as soon as it is chosen (a presigned S3 POST straight to the
  // private bucket), then listed as a removable chip; the reply names the grants' references.
  const replyFiles = []; // {name, size, state: "uploading" | "ready" | "failed", reference, error}
  const fileInput = h("input", { type: "file", name: "files", multiple: true });
  const replyFileList = h("ul", { class: "attachments reply-files", "aria-label": "Files attached to this reply" });
  function drawReplyFiles() {
    replyFileList.hidden = replyFiles.length === 0;
    render(replyFileList, replyFiles.map((entry) => h("li", { class: `file-chip ${entry.state}`, dataset: { state: entry.state } },
      h("span", { class: "file-name" }, entry.name),
      h("span", { class: "muted small" }, ` (${formatBytes(entry.size)}${entry.state === "uploading" ? ", uploading…"
        : entry.state === "failed" ? `, not uploaded: ${entry.error}` : ""}) `),
      h("button", {
        type: "button", class: "small", "aria-label": `Remove ${entry.name}`,
        onclick: () => {
          const at = replyFiles.indexOf(entry);
          if (at >= 0) replyFiles.splice(at, 1);
          drawReplyFiles();
          announce(`${entry.name} removed from the reply.`);
          fileInput.focus();
        },
      }, "Remove"))));
  }
  async function uploadReplyFile(entry, file) {
    const contentType = file.type || "application/octet-stream";
    try {
      const grant = await ctx.api.post(`/tickets/${ticket.id}/attachments`, { filename: file.name, content_type: contentType, size: file.size });
      const form = new FormData();
      for (const [k, v] of Object.entries(grant.upload.fields)) form.append(k, v);
      form.append("file", file); // last: S3 ignores fields after the file
      const res = await fetch(grant.upload.url, { method: "POST", body: form });
      if (!res.ok) throw new Error(`the upload answered HTTP ${res.status}`);
      entry.reference = grant.reference;
      entry.state = "ready";
      announce(`${file.name} is attached.`);
    } catch (err) {
      entry.state = "failed";
      entry.error = err.message;
      announce(`${file.name} could not be uploaded: ${err.message}`, "error");
    }
    if (replyFiles.includes(entry)) drawReplyFiles();
  }
  fileInput.addEventListener("change", () => {
    const chosen = [...fileInput.files];
    fileInput.value = ""; // the same file can be chosen again after a removal
    for (const file of chosen) {
      if (replyFiles.length >= MAX_REPLY_FILES) {
        announce(`A reply carries at most ${MAX_REPLY_FILES} files.`, "error");
        break;
      }
      if (file.size === 0 || file.size > MAX_REPLY_FILE_BYTES) {
        announce(`${file.name} is ${file.size === 0 ? "empty" : "larger than 10 MB"}: not attached.`, "error");
        continue;
      }
      const entry = { name: file.name, size: file.size, state: "uploading", reference: null, error: "" };
      replyFiles.push(entry);
      uploadReplyFile(entry, file);
    }
    drawReplyFiles();
  });
  drawReplyFiles();

  const replyBody = h("textarea", { name: "body", rows: 6, required: true });
  const replyLabel = h("label", { for: uid("reply") });
  replyBody.id = replyLabel.getAttribute("for");
  const visibilityName = uid("visibility");
  const publicRadio = h("input", { type: "radio", name: visibilityName, value: "public", id: uid("vis"), checked: true });
  const internalRadio = h("input", { type: "radio", name: visibilityName, value: "internal", id: uid("vis") });
  const sendButton = h("button", { type: "submit", class: "primary" });
  const composer = h("form", { class: "composer", "aria-labelledby": "reply-title" });
  function syncComposer() {
    const internal = internalRadio.checked;
    composer.classList.toggle("internal", internal);
    replyLabel.textContent = internal ? "Internal note (visible to agents only, never sent to the customer)" : "Public reply (sent to the customer)";
    sendButton.textContent = internal ? "Add internal note" : "Send public reply";
  }
  publicRadio.addEventListener("change", syncComposer);
  internalRadio.addEventListener("change", syncComposer);
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = replyBody.value;
    if (!body.trim()) {
      announce("Write a message first.", "error");
      replyBody.focus();
      return;
    }
    if (replyFiles.some((f) => f.state === "uploading")) {
      announce("Wait until the files are uploaded, or remove them.", "error");
      fileInput.focus();
      return;
    }
    if (replyFiles.some((f) => f.state === "failed")) {
      announce("A file could not be uploaded: remove it (or choose it again) before sending.", "error");
      fileInput.focus();
      return;
    }
    const visibility = internalRadio.checked ? "internal" : "public";
    const attachments = replyFiles.map((f) => f.reference);
    sendButton.disabled = true;
    try {
      const payload = { body, visibility };
      if (attachments.length) payload.attachments = attachments;
      await ctx.api.post(`/tickets/${ticket.id}/messages`, payload);
      replyBody.value = "";
      replyFiles.length = 0;
      drawReplyFiles();
      const files = attachments.length === 1 ? " with 1 file" : attachments.length ? ` with ${attachments.length} files` : "";
      announce(visibility === "internal" ? `Internal note added${files}.` : `Reply sent to the customer${files}.`);
      await refresh();
    } catch (err) {
      ctx.showError(err, "Send");
    } finally {
      sendButton.disabled = false;
    }
  });
  render(composer,
    h("h2", { id: "reply-title" }, "Reply"),
    h("fieldset", { class: "toggle" },
      h("legend", {}, "Who sees this message"),
      h("span", { class: "choice" }, publicRadio, h("label", { for: publicRadio.id }, "Public reply to the customer")),
      h("span", { class: "choice" }, internalRadio, h("label", { for: internalRadio.id }, "Internal note for agents"))),
    h("div", { class: "field" }, replyLabel, replyBody),
    field(`Attach files (up to ${MAX_REPLY_FILES}, 10 MB each)`, fileInput,
      "Each file uploads when you choose it; remove one with its Remove button."),
    replyFileList,
    sendButton);
  syncComposer();

  async function refresh() {
    await load();
    drawAll();
  }

  render(main,
    h("article", { class: "ticket", "aria-labelledby": "page-title", dataset: { ticketId: ticket.id } },
      title,
      h("div", { class: "ticket-grid" },
        h("div", { class: "ticket-main" },
          h("section", { "aria-labelledby": "conv-title" }, h("h2", { id: "conv-title" }, "Conversation"), conversation),
          composer),
        h("aside", { class: "ticket-side", "aria-label": "Ticket details and actions" },
          meta,
          h("section", { "aria-labelledby": "sla-title" }, h("h2", { id: "sla-title" }, "SLA"), slaBox,
            h("p", { class: "muted small" }, "Deadlines are counted in the team's business hours.")),
          h("section", { "aria-labelledby": "status-legend" }, h("h2", { id: "status-legend" }, "Change status"), statusBox),
          h("section", { "aria-labelledby": "assign-title" }, h("h2", { id: "assign-title" }, "Assign"), assignForm),
          h("section", { "aria-labelledby": "merge-title" }, h("h2", { id: "merge-title" }, "Merge"), mergeForm)))));
  drawAll();
  drawStatusButtons();

  // SLA countdowns tick every second; the ticket itself reloads every few seconds.
  const ticker = window.setInterval(() => {
    if (!document.body.contains(slaBox)) window.clearInterval(ticker);
    else drawSla();
  }, 1000);
  ctx.every(refresh);
}

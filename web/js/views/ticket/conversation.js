// The conversation of the ticket page: messages (public replies and internal notes look and read
// differently) with the activity log inline (status, assignment, priority, tags, merge and SLA events),
// the whole message on demand (its text, the quoted/forwarded part, the mail's HTML in an isolated
// frame) and image attachments previewed inline. Redrawn by key: a refresh only touches what changed,
// so the agent's selection and scroll stay where they were.
import { announce, h, render } from "../../dom.js";
import { formatDateTime } from "../../format.js";
import { plainMessage } from "../../problems.js";
import { statusLabel } from "../../states.js";

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const IMAGE_NAME = /\.(png|jpe?g|gif|webp)$/i;

export function isImage(attachment) {
  const type = String(attachment.content_type || "").toLowerCase().split(";")[0].trim();
  return IMAGE_TYPES.has(type) || (!type && IMAGE_NAME.test(attachment.filename || ""));
}

function authorOf(ctx, message, requester) {
  if (message.author_type === "agent") return message.author_name || ctx.agentName(message.author_agent_id);
  if (message.author_type === "customer") {
    const person = requester && (!message.author_customer_id || message.author_customer_id === requester.id) ? requester : null;
    return message.author_name || message.author_email || (person && (person.name || person.email)) || "Customer";
  }
  return "System";
}

function attachmentPath(ticket, message, index) {
  return `/tickets/${encodeURIComponent(ticket.id)}/attachments/${encodeURIComponent(`${message.id}.${index}`)}`;
}

// The attachments bucket is private: on click the API hands out a short-lived presigned URL for
// `<message id>.<index>` and the file opens in a new tab.
function attachmentLink(ctx, ticket, message, attachment, index) {
  const name = attachment.filename || "attachment";
  if (attachment.url) return h("a", { href: attachment.url, rel: "noopener noreferrer", target: "_blank" }, name);
  if (!message.id) return name;
  return h("a", {
    href: "#", class: "attachment-link", title: `Open ${name}`,
    onclick: async (event) => {
      event.preventDefault();
      // Opened inside the click so pop-up blockers allow it; pointed at the URL once the API answers.
      const tab = window.open("", "_blank");
      if (tab) tab.opener = null;
      try {
        const link = await ctx.api.get(attachmentPath(ticket, message, index));
        if (tab) tab.location.href = link.url;
        else window.location.assign(link.url);
      } catch (err) {
        if (tab) tab.close();
        announce(`Could not open ${name}: ${plainMessage(err)}`, "error");
      }
    },
  }, name);
}

// Image previews load when they scroll into view (each costs one call for its short-lived URL).
const previewObserver = typeof IntersectionObserver === "function"
  ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      previewObserver.unobserve(entry.target);
      entry.target.loadPreview();
    }
  }, { rootMargin: "200px" })
  : null;

function imagePreview(ctx, ticket, message, attachment, index) {
  const name = attachment.filename || "image";
  const figure = h("figure", { class: "image-preview", dataset: { state: "waiting" } },
    h("span", { class: "muted small" }, `Preview of ${name} loads when shown…`));
  figure.loadPreview = async () => {
    try {
      const link = await ctx.api.get(attachmentPath(ticket, message, index));
      render(figure, h("img", { src: link.url, alt: `Attached image ${name}`, loading: "lazy", decoding: "async" }),
        h("figcaption", { class: "muted small" }, name));
      figure.dataset.state = "shown";
    } catch (err) {
      render(figure, h("span", { class: "muted small" }, `No preview of ${name}: ${plainMessage(err)}`));
      figure.dataset.state = "failed";
    }
  };
  if (previewObserver) previewObserver.observe(figure);
  else figure.loadPreview();
  return figure;
}

// A mail's HTML (sanitized at intake) shown in a sandboxed frame: no scripts, no same-origin access,
// remote content blocked (images in mail are trackers), links open in a new tab without an opener.
// The document is parsed inert (DOMParser runs nothing) to mark the links before it is shown.
export function isolatedHtml(html, title) {
  const doc = new DOMParser().parseFromString(String(html || ""), "text/html");
  for (const bad of doc.querySelectorAll("script, iframe, object, embed, base, meta, link, form")) bad.remove();
  for (const link of doc.querySelectorAll("a[href]")) {
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
  }
  const csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:";
  const head = `<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">`
    + "<style>body{font:15px/1.45 system-ui,sans-serif;color:#1b1f23;margin:0.5rem;overflow-wrap:anywhere}"
    + "table{border-collapse:collapse;max-width:100%}td,th{border:1px solid #c9d1d9;padding:0.2rem 0.4rem}"
    + "img{max-width:100%;height:auto}</style>";
  const frame = h("iframe", {
    class: "mail-html", title, sandbox: "allow-popups allow-popups-to-escape-sandbox", referrerpolicy: "no-referrer",
    srcdoc: `<!doctype html><html><head>${head}</head><body>${doc.body ? doc.body.innerHTML : ""}</body></html>`,
  });
  frame.addEventListener("load", () => {
    // Sized to its content once loaded (the sandbox allows the parent to read nothing but the height).
    try {
      frame.style.height = `${Math.min(2000, frame.contentDocument.documentElement.scrollHeight + 16)}px`;
    } catch (_) {
      frame.style.height = "24rem";
    }
  });
  return frame;
}

// Views carry the first 2,000 characters; the whole text, the quoted/forwarded part of a mail and its
// (sanitized) HTML come from GET /tickets/{id}/messages/{message id}.
function wholeMessageButton(ctx, ticket, message) {
  const label = message.body_truncated ? "Show the whole message" : "Show the quoted and forwarded text";
  return h("button", {
    type: "button", class: "link small",
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = "Loading the whole message…";
      try {
        const full = await ctx.api.get(`/tickets/${encodeURIComponent(ticket.id)}/messages/${encodeURIComponent(message.id)}`);
        const article = button.closest("article");
        article.querySelector(".message-body").textContent = full.body;
        const parts = [];
        if (full.quoted) {
          parts.push(h("details", { class: "quoted" }, h("summary", {}, "Quoted and forwarded text"),
            h("div", { class: "message-body" }, full.quoted)));
        }
        if (full.body_html) {
          parts.push(h("details", { class: "mail-html-box" }, h("summary", {}, "Show as the mail looked (HTML)"),
            isolatedHtml(full.body_html, "The mail as HTML, isolated from the workspace")));
        }
        if (!parts.length) parts.push(h("p", { class: "muted small" }, "(nothing quoted or forwarded)"));
        button.replaceWith(h("div", { class: "whole-message" }, parts));
      } catch (err) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.textContent = label;
        announce(`Could not load the whole message: ${plainMessage(err)}`, "error");
      }
    },
  }, label);
}

function messageView(ctx, ticket, message, requester) {
  const internal = message.visibility === "internal";
  const kindLabel = internal ? "Internal note" : message.author_type === "customer" ? "Customer message" : "Public reply";
  const author = authorOf(ctx, message, requester);
  const attachments = message.attachments || [];
  return h("li", { class: `message ${internal ? "internal" : "public"} author-${message.author_type}`,
    dataset: { visibility: message.visibility, messageId: message.id, position: message.position } },
  h("article", { "aria-label": `${kindLabel} from ${author}` },
    h("header", { class: "message-head" },
      h("span", { class: `badge ${internal ? "badge-internal" : "badge-public"}` }, internal ? "Internal note · agents only" : kindLabel),
      h("span", { class: "author" }, author),
      h("time", { datetime: message.created_at }, formatDateTime(message.created_at)),
      message.channel ? h("span", { class: "muted small" }, `via ${message.channel}`) : null),
    // The body is text: tickets carry HTML and SQL, shown literally (pre-wrap keeps lines).
    h("div", { class: "message-body" }, message.body),
    message.id && (message.body_truncated || message.channel === "email") ? wholeMessageButton(ctx, ticket, message) : null,
    attachments.length
      ? h("ul", { class: "attachments", "aria-label": "Attachments" }, attachments.map((a, index) => h("li", {},
        attachmentLink(ctx, ticket, message, a, index),
        a.size ? h("span", { class: "muted small" }, ` (${formatBytes(a.size)})`) : null,
        isImage(a) && message.id ? imagePreview(ctx, ticket, message, a, index) : null)))
      : null));
}

function nameAuthor(ctx, el, message, requester) {
  const author = authorOf(ctx, message, requester);
  const shown = el.querySelector(".message-head .author");
  if (!shown || shown.textContent === author) return;
  shown.textContent = author;
  el.querySelector("article").setAttribute("aria-label", `Customer message from ${author}`);
}

const SLA_WORDS = { first_response: "first response", next_reply: "next reply", resolution: "resolution" };

/** One activity row in words: what changed, by whom, when. */
export function describeActivity(ctx, item) {
  const d = item.data || {};
  switch (item.type) {
    case "ticket.created": return `Ticket opened via ${d.channel || "a channel"}`;
    case "ticket.status_changed":
      if (item.to_status === "merged" && d.merged_into_number) return `Merged into TKT-${d.merged_into_number}`;
      if (item.to_status === "duplicate") return `Marked as a duplicate`;
      return `Status: ${statusLabel(item.from_status || d.from)} → ${statusLabel(item.to_status || d.to)}${d.reason && !String(d.reason).startsWith("macro") ? ` (${d.reason})` : ""}`;
    case "ticket.assigned":
      return d.agent_id ? `Assigned to ${ctx.agentName(d.agent_id)}` : `Moved to the ${ctx.teamName(d.team_id)} queue`;
    case "ticket.priority_changed": return `Priority: ${d.from} → ${d.to}`;
    case "ticket.tags_changed": {
      const parts = [];
      if ((d.added || []).length) parts.push(`added ${d.added.join(", ")}`);
      if ((d.removed || []).length) parts.push(`removed ${d.removed.join(", ")}`);
      return `Tags: ${parts.join("; ") || "changed"}`;
    }
    case "ticket.merged": return `TKT-${d.merged_from_number} was merged into this ticket (${d.messages_moved} messages moved)`;
    case "sla.warning": return `SLA warning: ${SLA_WORDS[d.kind] || d.kind} due ${formatDateTime(d.due_at)}`;
    case "sla.breached": return `SLA breached: ${SLA_WORDS[d.kind] || d.kind}${d.priority_to ? `, priority raised to ${d.priority_to}` : ""}`;
    default: return item.type.replace(/^ticket\./, "").replace(/_/g, " ");
  }
}

function activityView(ctx, item) {
  const who = item.actor_type === "agent" ? item.actor_name || ctx.agentName(item.actor_id)
    : item.actor_type === "customer" ? "the customer" : "the system";
  const macro = item.data && typeof item.data.reason === "string" && item.data.reason.startsWith("macro: ") ? ` with ${item.data.reason}` : "";
  return h("li", { class: `activity activity-${item.type.replace(/\W+/g, "-")}`, dataset: { activityId: item.id } },
    h("span", { class: "activity-text" }, describeActivity(ctx, item)),
    h("span", { class: "muted small" }, ` · by ${who}${macro} · `),
    h("time", { class: "muted small", datetime: item.at }, formatDateTime(item.at)));
}

/** Messages (by position) and activity (by time) as one timeline, oldest first. */
export function timeline(messages, activity) {
  const rows = messages.map((m) => ({ kind: "message", key: `m:${m.id}:${m.body_truncated ? 1 : 0}`, at: String(m.created_at), order: 0, item: m }));
  for (const a of activity) rows.push({ kind: "activity", key: `a:${a.id}`, at: String(a.at), order: 1, item: a });
  return rows.sort((x, y) => x.at.localeCompare(y.at) || x.order - y.order
    || (x.kind === "message" && y.kind === "message" ? (x.item.position ?? 0) - (y.item.position ?? 0) : 0));
}

/** Draw the timeline into `list`, reusing the nodes of rows that did not change. */
export function drawConversation(list, ctx, ticket, rows, requester) {
  if (!rows.length) {
    render(list, h("li", { class: "muted" }, "No messages yet."));
    return;
  }
  const existing = new Map([...list.children].filter((el) => el.dataset.key).map((el) => [el.dataset.key, el]));
  let before = list.firstChild;
  if (before && !before.dataset.key) {
    render(list);
    before = null;
  }
  for (const row of rows) {
    const key = row.key;
    let el = existing.get(key);
    if (el) {
      existing.delete(key);
      // a customer's message names them once the requester is known (the customer panel loads after);
      // renamed in place, so an expanded message stays expanded
      if (row.kind === "message" && row.item.author_type === "customer" && requester) nameAuthor(ctx, el, row.item, requester);
    } else {
      el = row.kind === "message" ? messageView(ctx, ticket, row.item, requester) : activityView(ctx, row.item);
      el.dataset.key = key;
    }
    if (el !== before) list.insertBefore(el, before);
    else before = before.nextSibling;
    before = el.nextSibling;
  }
  for (const stale of existing.values()) stale.remove();
}

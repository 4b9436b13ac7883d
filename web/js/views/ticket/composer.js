// The reply box of the ticket page: public reply or internal note, files, "send and set status",
// Ctrl/Cmd+Enter, macros (preview, apply in one write, or insert the text), a draft per ticket kept in
// localStorage (across navigation and reloads; a warning before the page unloads with unsent text), a
// warning on a public reply to a closed ticket, and never a reply that crosses a message the agent has
// not seen: the reply carries the last position the agent saw when the draft began, and the API refuses
// it (409, with the newer messages) unless the agent confirms.
import { announce, field, h, render, uid } from "../../dom.js";
import { formatDateTime, ticketRef } from "../../format.js";
import { plainMessage } from "../../problems.js";
import { statusLabel, TRANSITIONS } from "../../states.js";

// As the API's limits (helpdesk/auth/uploads.py): MAX_REPLY_ATTACHMENTS and MAX_UPLOAD_BYTES.
const MAX_REPLY_FILES = 10;
const MAX_REPLY_FILE_BYTES = 10 * 1024 * 1024;
const REOPEN_WINDOW_DAYS = 7; // helpdesk/tickets/states.py REOPEN_WINDOW_DAYS

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// -- drafts -------------------------------------------------------------------------------------
function draftKey(ctx, ticketId) {
  return `helpdesk.draft.${ctx.me ? ctx.me.id : "anon"}.${ticketId}`;
}

export function readDraft(ctx, ticketId) {
  try {
    const stored = JSON.parse(window.localStorage.getItem(draftKey(ctx, ticketId)) || "null");
    return stored && typeof stored.body === "string" ? stored : null;
  } catch (_) {
    return null;
  }
}

function writeDraft(ctx, ticketId, draft) {
  try {
    if (draft && draft.body.trim()) window.localStorage.setItem(draftKey(ctx, ticketId), JSON.stringify(draft));
    else window.localStorage.removeItem(draftKey(ctx, ticketId));
  } catch (_) {
    // storage full or disabled: the draft lives only in the page
  }
}

/** The statuses to pass through after a reply to reach `target` (a reply may first make it assigned). */
export function statusPath(from, target) {
  if (from === target) return [];
  if ((TRANSITIONS[from] || []).includes(target)) return [target];
  if ((TRANSITIONS[from] || []).includes("in_progress") && (TRANSITIONS.in_progress || []).includes(target)) {
    return ["in_progress", target];
  }
  return null;
}

const MACRO_STATUS_WORDS = { in_progress: "In progress", waiting_on_customer: "Waiting on customer", resolved: "Resolved" };

function macroEffects(ctx, macro) {
  const effects = [];
  if (macro.body) effects.push(macro.visibility === "internal" ? "adds an internal note" : "sends a public reply");
  if (macro.set_status) effects.push(`sets status ${MACRO_STATUS_WORDS[macro.set_status] || macro.set_status}`);
  if (macro.set_priority) effects.push(`sets priority ${macro.set_priority}`);
  if ((macro.add_tags || []).length) effects.push(`adds tags ${macro.add_tags.join(", ")}`);
  if ((macro.remove_tags || []).length) effects.push(`removes tags ${macro.remove_tags.join(", ")}`);
  if (macro.assign_to_me) effects.push("assigns the ticket to you");
  if (macro.assign_agent_id) effects.push(`assigns the ticket to ${ctx.agentName(macro.assign_agent_id)}`);
  return effects;
}

/**
 * createComposer(ctx, page) -> {element, focus(kind), update(), hasText(), dispose()}
 * page: {ticket(), lastPosition(), refresh(), presence}
 */
export function createComposer(ctx, page) {
  const ticketId = page.ticket().id;
  const replyFiles = []; // {name, size, state: "uploading" | "ready" | "failed", reference, error}
  const fileInput = h("input", { type: "file", name: "files", multiple: true });
  const replyFileList = h("ul", { class: "attachments reply-files", "aria-label": "Files attached to this reply" });
  const replyBody = h("textarea", { name: "body", rows: 6, required: true, "aria-keyshortcuts": "Control+Enter Meta+Enter" });
  const replyLabel = h("label", { for: uid("reply") });
  replyBody.id = replyLabel.getAttribute("for");
  const visibilityName = uid("visibility");
  const publicRadio = h("input", { type: "radio", name: visibilityName, value: "public", id: uid("vis"), checked: true });
  const internalRadio = h("input", { type: "radio", name: visibilityName, value: "internal", id: uid("vis") });
  const sendButton = h("button", { type: "submit", class: "primary", dataset: { then: "" } });
  const sendWait = h("button", { type: "button", class: "send-and", dataset: { then: "waiting_on_customer" } }, "Send and wait on customer");
  const sendResolve = h("button", { type: "button", class: "send-and", dataset: { then: "resolved" } }, "Send and resolve");
  const closedWarning = h("p", { class: "notice warning-notice", id: uid("closed"), hidden: true });
  const newerBox = h("div", { class: "notice newer-messages", role: "alert", hidden: true });
  const draftNote = h("p", { class: "muted small draft-note", "aria-live": "polite" });
  const composer = h("form", { class: "composer", id: "composer", "aria-labelledby": "reply-title" });
  let draft = readDraft(ctx, ticketId); // {body, visibility, seen_position, started_at}
  let sending = false;

  // -- files ----------------------------------------------------------------------------------
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
      const grant = await ctx.api.post(`/tickets/${ticketId}/attachments`, { filename: file.name, content_type: contentType, size: file.size });
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
      entry.error = err.status !== undefined ? plainMessage(err) : err.message;
      announce(`${file.name} could not be uploaded: ${entry.error}`, "error");
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

  // -- draft ----------------------------------------------------------------------------------
  function visibility() {
    return internalRadio.checked ? "internal" : "public";
  }
  function saveDraft() {
    const body = replyBody.value;
    if (!body.trim()) {
      draft = null;
      writeDraft(ctx, ticketId, null);
      draftNote.textContent = "";
      page.presence.setActivity("viewing");
      return;
    }
    if (!draft) draft = { seen_position: page.lastPosition(), started_at: new Date().toISOString() };
    draft = { ...draft, body, visibility: visibility() };
    writeDraft(ctx, ticketId, draft);
    draftNote.textContent = "Draft saved on this device.";
    page.presence.setActivity("replying");
  }
  let saveTimer = null;
  replyBody.addEventListener("input", () => {
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(saveDraft, 300);
    if (!draft && replyBody.value.trim()) saveDraft(); // the draft begins now: remember what was seen
  });
  function onBeforeUnload(event) {
    if (replyBody.value.trim() && !sending) {
      saveDraft();
      event.preventDefault();
      event.returnValue = ""; // the browser asks "Leave site? Changes you made may not be saved."
    }
  }
  window.addEventListener("beforeunload", onBeforeUnload);

  function syncComposer() {
    const internal = internalRadio.checked;
    composer.classList.toggle("internal", internal);
    replyLabel.textContent = internal ? "Internal note (visible to agents only, never sent to the customer)" : "Public reply (sent to the customer)";
    sendButton.textContent = internal ? "Add internal note" : "Send public reply";
    sendWait.hidden = internal;
    sendResolve.hidden = internal;
    update();
    if (draft) saveDraft();
  }
  publicRadio.addEventListener("change", syncComposer);
  internalRadio.addEventListener("change", syncComposer);

  /** Redraw what depends on the ticket (closed warning, which "send and" moves are possible). */
  function update() {
    const ticket = page.ticket();
    const closed = ticket.status === "closed";
    closedWarning.hidden = !(closed && !internalRadio.checked);
    if (!closedWarning.hidden) {
      const closedAt = ticket.closed_at ? new Date(ticket.closed_at) : null;
      const days = closedAt ? (Date.now() - closedAt.getTime()) / 86_400_000 : Infinity;
      closedWarning.textContent = days <= REOPEN_WINDOW_DAYS
        ? `${ticketRef(ticket)} is closed. The customer gets this reply; if they answer within ${REOPEN_WINDOW_DAYS} days of closing (${formatDateTime(ticket.closed_at)}) their answer reopens it, later it opens a new follow-up ticket.`
        : `${ticketRef(ticket)} is closed and its reopen window has passed: the customer gets this reply, but their answer opens a new follow-up ticket, as mail after closing does. To keep working here, use Reopen first.`;
      replyBody.setAttribute("aria-describedby", closedWarning.id);
    } else {
      replyBody.removeAttribute("aria-describedby");
    }
    for (const button of [sendWait, sendResolve]) {
      // after a public reply a ticket nobody owns becomes assigned (it is claimed)
      const from = !ticket.assignee_id && ["new", "reopened"].includes(ticket.status) ? "assigned" : ticket.status;
      button.disabled = statusPath(from, button.dataset.then) === null;
      button.title = button.disabled ? `Not possible from ${statusLabel(ticket.status)}` : "";
    }
  }

  // -- sending --------------------------------------------------------------------------------
  function showNewer(newer, retry) {
    const list = (newer || []).slice(-5);
    newerBox.hidden = false;
    render(newerBox,
      h("p", {}, h("strong", {}, `${newer.length || "A"} new message${newer.length === 1 ? "" : "s"} arrived after your draft began. Send anyway?`)),
      list.length ? h("ul", { class: "newer-list" }, list.map((m) => h("li", {},
        h("strong", {}, m.author_type === "customer" ? "Customer" : m.visibility === "internal" ? `Note by ${ctx.agentName(m.author_agent_id)}` : `Reply by ${ctx.agentName(m.author_agent_id)}`),
        `: ${String(m.body || "").slice(0, 200)}`))) : null,
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "primary", onclick: () => { newerBox.hidden = true; retry(true); } }, "Send anyway"),
        h("button", {
          type: "button",
          onclick: () => {
            newerBox.hidden = true;
            // The agent has now seen them: the draft continues from here.
            if (draft) draft.seen_position = page.lastPosition();
            saveDraft();
            replyBody.focus();
            announce("Your draft is kept. Read the new messages, then send again.");
          },
        }, "Review first")));
    newerBox.querySelector("button").focus();
  }

  async function send(then, confirmed = false) {
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
    const ticket = page.ticket();
    const vis = visibility();
    if (vis === "public" && ticket.status === "closed" && !confirmed
        && !window.confirm(`${closedWarning.textContent}\n\nSend the reply?`)) return;
    const attachments = replyFiles.map((f) => f.reference);
    const payload = { body, visibility: vis };
    if (attachments.length) payload.attachments = attachments;
    const seen = draft && draft.seen_position !== undefined && draft.seen_position !== null ? draft.seen_position : page.lastPosition();
    if (seen !== null && seen !== undefined) payload.seen_position = seen;
    if (confirmed) payload.confirm_newer = true;
    sending = true;
    composer.setAttribute("aria-busy", "true");
    for (const b of [sendButton, sendWait, sendResolve]) b.disabled = true;
    try {
      let answer;
      try {
        answer = await ctx.api.post(`/tickets/${ticket.id}/messages`, payload);
      } catch (err) {
        if (err.status === 409 && err.problem.reason === "newer_messages") {
          await page.refresh().catch(() => {});
          showNewer(err.problem.newer_messages || [], (yes) => send(then, yes));
          return;
        }
        throw err;
      }
      replyBody.value = "";
      draft = null;
      writeDraft(ctx, ticketId, null);
      draftNote.textContent = "";
      page.presence.setActivity("viewing");
      replyFiles.length = 0;
      drawReplyFiles();
      const files = attachments.length === 1 ? " with 1 file" : attachments.length ? ` with ${attachments.length} files` : "";
      let said = vis === "internal" ? `Internal note added${files}.` : `Reply sent to the customer${files}.`;
      if (then) {
        const now = (answer && answer.ticket) || ticket;
        const path = statusPath(now.status, then) || [];
        try {
          for (const status of path) await ctx.api.post(`/tickets/${ticket.id}/status`, { status });
          said += ` ${ticketRef(ticket)} is now ${statusLabel(then)}.`;
        } catch (err) {
          said += ` The status did not change: ${plainMessage(err)}`;
        }
      }
      announce(said);
      await page.refresh();
    } catch (err) {
      announce(`Not sent: ${plainMessage(err)} Your text is kept.`, "error");
    } finally {
      sending = false;
      composer.removeAttribute("aria-busy");
      sendButton.disabled = false;
      update();
    }
  }
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send("");
  });
  sendWait.addEventListener("click", () => send("waiting_on_customer"));
  sendResolve.addEventListener("click", () => send("resolved"));
  replyBody.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send("");
    }
  });

  // -- macros ---------------------------------------------------------------------------------
  const macroSelect = h("select", { name: "macro" }, h("option", { value: "" }, "Choose a macro…"));
  const macroPreview = h("div", { class: "macro-preview", hidden: true, "aria-live": "polite" });
  let macrosLoaded = false;
  async function loadMacros() {
    if (macrosLoaded) return;
    macrosLoaded = true;
    try {
      const answer = await ctx.api.get("/macros");
      const items = (answer && answer.items) || [];
      const mine = items.filter((m) => !m.shared);
      const shared = items.filter((m) => m.shared);
      render(macroSelect, h("option", { value: "" }, items.length ? "Choose a macro…" : "No macros yet (Macros page)"),
        mine.length ? h("optgroup", { label: "My macros" }, mine.map((m) => h("option", { value: m.id }, m.name))) : null,
        shared.length ? h("optgroup", { label: "Shared macros" }, shared.map((m) => h("option", { value: m.id }, m.name))) : null);
    } catch (err) {
      macrosLoaded = false;
      announce(`Macros could not be loaded: ${plainMessage(err)}`, "error");
    }
  }
  macroSelect.addEventListener("focus", loadMacros);
  macroSelect.addEventListener("pointerdown", loadMacros);
  macroSelect.addEventListener("change", async () => {
    const id = macroSelect.value;
    if (!id) {
      macroPreview.hidden = true;
      return;
    }
    macroPreview.hidden = false;
    render(macroPreview, h("p", { class: "muted" }, "Loading the preview…"));
    try {
      const macro = await ctx.api.get(`/tickets/${ticketId}/macros/${encodeURIComponent(id)}/preview`);
      drawMacroPreview(macro);
    } catch (err) {
      render(macroPreview, h("p", { class: "error" }, `No preview: ${plainMessage(err)}`));
    }
  });
  function closeMacro() {
    macroPreview.hidden = true;
    macroSelect.value = "";
  }
  function drawMacroPreview(macro) {
    const effects = macroEffects(ctx, macro);
    render(macroPreview,
      h("h3", {}, `Macro: ${macro.name}`),
      macro.rendered_body ? h("div", { class: `message-body macro-body ${macro.visibility}` }, macro.rendered_body) : null,
      h("p", {}, `Applying it ${effects.join(", ")}, in one step.`),
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "primary", onclick: () => applyMacro(macro) }, "Apply macro"),
        macro.rendered_body ? h("button", {
          type: "button",
          onclick: () => {
            replyBody.value = replyBody.value.trim() ? `${replyBody.value}\n\n${macro.rendered_body}` : macro.rendered_body;
            (macro.visibility === "internal" ? internalRadio : publicRadio).checked = true;
            syncComposer();
            saveDraft();
            closeMacro();
            replyBody.focus();
            announce("Macro text inserted into your reply; its other actions are not applied.");
          },
        }, "Insert text only") : null,
        h("button", { type: "button", onclick: closeMacro }, "Cancel")));
  }
  async function applyMacro(macro, confirmed = false) {
    const ticket = page.ticket();
    const body = { seen_position: page.lastPosition() };
    if (confirmed) body.confirm_newer = true;
    const path = `/tickets/${ticket.id}/macros/${encodeURIComponent(macro.id)}/apply`;
    try {
      try {
        await ctx.api.post(path, body);
      } catch (err) {
        // A macro's status from "assigned" needs work started first (the state machine's one step).
        if (err.status === 422 && err.problem.from === "assigned" && statusPath("assigned", macro.set_status)?.length === 2) {
          await ctx.api.post(`/tickets/${ticket.id}/status`, { status: "in_progress" });
          await ctx.api.post(path, body);
        } else throw err;
      }
      closeMacro();
      announce(`Macro “${macro.name}” applied to ${ticketRef(ticket)}.`);
      await page.refresh();
    } catch (err) {
      if (err.status === 409 && err.problem.reason === "newer_messages") {
        await page.refresh().catch(() => {});
        showNewer(err.problem.newer_messages || [], (yes) => applyMacro(macro, yes));
        return;
      }
      announce(`The macro was not applied: ${plainMessage(err)}`, "error");
    }
  }

  render(composer,
    h("h2", { id: "reply-title" }, "Reply"),
    h("div", { class: "macro-picker" }, field("Macro", macroSelect, "Preview a saved reply, then apply it (reply, status, priority, tags and assignee in one step)."), macroPreview),
    h("fieldset", { class: "toggle" },
      h("legend", {}, "Who sees this message"),
      h("span", { class: "choice" }, publicRadio, h("label", { for: publicRadio.id }, "Public reply to the customer")),
      h("span", { class: "choice" }, internalRadio, h("label", { for: internalRadio.id }, "Internal note for agents"))),
    closedWarning,
    h("div", { class: "field" }, replyLabel, replyBody),
    draftNote,
    field(`Attach files (up to ${MAX_REPLY_FILES}, 10 MB each)`, fileInput,
      "Each file uploads when you choose it; remove one with its Remove button."),
    replyFileList,
    newerBox,
    h("div", { class: "button-row send-row" }, sendButton, sendWait, sendResolve,
      h("span", { class: "muted small" }, "Ctrl+Enter (⌘+Enter) sends")));

  if (draft) {
    replyBody.value = draft.body;
    (draft.visibility === "internal" ? internalRadio : publicRadio).checked = true;
  }
  drawReplyFiles();
  syncComposer();
  if (draft) draftNote.textContent = `Draft restored (begun ${formatDateTime(draft.started_at)}).`;
  if (draft) page.presence.setActivity("replying");

  return {
    element: composer,
    focus(kind) {
      (kind === "internal" ? internalRadio : publicRadio).checked = true;
      syncComposer();
      replyBody.focus();
    },
    update,
    hasText: () => Boolean(replyBody.value.trim()),
    dispose() {
      if (replyBody.value.trim()) saveDraft();
      window.removeEventListener("beforeunload", onBeforeUnload);
      window.clearTimeout(saveTimer);
    },
  };
}

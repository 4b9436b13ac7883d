// The customer web form: POST /api/v1/public/tickets. KB suggestions while typing (debounced),
// attachments uploaded straight to S3 with presigned URLs, a confirmation naming the ticket.
import { ApiError, createApi, itemsOf } from "./api.js";
import { loadConfig } from "./config.js";
import { announce, h, render } from "./dom.js";

const MAX_FILE_BYTES = 10 * 1024 * 1024;
const MAX_FILES = 5;
const SUGGEST_DELAY_MS = 400;

const $ = (id) => document.getElementById(id);

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), ms);
  };
}

function snippet(article) {
  const parts = Array.isArray(article.snippet_parts) ? article.snippet_parts : [];
  if (!parts.length) return article.snippet ? h("p", { class: "muted small" }, article.snippet) : null;
  // Text stays text; only the API's match flags become <mark> elements.
  return h("p", { class: "muted small" }, parts.map((p) => (p.match ? h("mark", {}, p.text) : p.text)));
}

async function suggest(api) {
  const subject = $("contact-subject").value.trim();
  const body = $("contact-body").value.trim();
  if (subject.length + body.length < 8) {
    $("kb-suggestions").hidden = true;
    return;
  }
  try {
    const articles = itemsOf(await api.post("/public/kb/suggest", { subject, body })).slice(0, 3);
    render($("kb-list"), articles.map((a) => h("li", {},
      a.url ? h("a", { href: a.url, target: "_blank", rel: "noopener" }, a.title) : h("strong", {}, a.title),
      snippet(a))));
    $("kb-suggestions").hidden = articles.length === 0;
  } catch (err) {
    // Suggestions are a help, never a blocker.
    $("kb-suggestions").hidden = true;
  }
}

/** Ask for a presigned upload per file, upload it, and return what the ticket should reference. */
async function uploadFiles(api, files) {
  const uploaded = [];
  if (files.length > MAX_FILES) throw new Error(`attach at most ${MAX_FILES} files (you chose ${files.length})`);
  for (const file of files) {
    if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name} is larger than 10 MB`);
    if (file.size === 0) throw new Error(`${file.name} is empty`);
    let grant;
    try {
      grant = await api.post("/public/attachments", {
        filename: file.name, content_type: file.type || "application/octet-stream", size: file.size,
      });
    } catch (err) {
      if (err.status === 404 || err.status === 405) {
        throw new Error("attachments cannot be uploaded here yet: remove the files, or email them to us after you get your reference");
      }
      throw err;
    }
    const target = grant.upload || grant;
    let res;
    if (target.fields) {
      const form = new FormData();
      for (const [k, v] of Object.entries(target.fields)) form.append(k, v);
      form.append("file", file);
      res = await fetch(target.url, { method: "POST", body: form });
    } else {
      res = await fetch(target.url, { method: "PUT", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } });
    }
    if (!res.ok) throw new Error(`uploading ${file.name} failed (HTTP ${res.status})`);
    uploaded.push({ key: grant.key, filename: file.name, content_type: file.type || "application/octet-stream", size: file.size });
  }
  return uploaded;
}

function validate() {
  const problems = [];
  const email = $("contact-email");
  if (!email.value.trim() || !email.checkValidity()) problems.push([email, "Enter your email address (name@example.com)."]);
  if (!$("contact-subject").value.trim()) problems.push([$("contact-subject"), "Enter a subject."]);
  if (!$("contact-body").value.trim()) problems.push([$("contact-body"), "Describe your question."]);
  for (const el of [email, $("contact-subject"), $("contact-body")]) el.removeAttribute("aria-invalid");
  for (const [el] of problems) el.setAttribute("aria-invalid", "true");
  return problems;
}

async function start() {
  const config = await loadConfig();
  const api = createApi({ apiBase: config.apiBase });
  const later = debounce(() => suggest(api), SUGGEST_DELAY_MS);
  $("contact-subject").addEventListener("input", later);
  $("contact-body").addEventListener("input", later);

  $("contact-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const problems = validate();
    if (problems.length) {
      announce(problems.map(([, text]) => text).join(" "), "error");
      problems[0][0].focus();
      return;
    }
    const button = $("contact-submit");
    button.disabled = true;
    announce("Sending…");
    try {
      const files = Array.from($("contact-files").files || []);
      const attachments = files.length ? await uploadFiles(api, files) : [];
      const payload = {
        subject: $("contact-subject").value,
        body: $("contact-body").value,
        requester_email: $("contact-email").value.trim(),
        requester_name: $("contact-name").value.trim() || null,
        website: $("contact-website").value,
      };
      if (attachments.length) payload.attachments = attachments;
      const created = await api.post("/public/tickets", payload);
      const ref = (created && (created.ref || (created.ticket && created.ticket.ref))) || "";
      const portal = created && (created.portal_url || created.portal);
      $("contact-form").hidden = true;
      const done = $("contact-done");
      render(done,
        h("h2", {}, "Thank you, we have your request"),
        h("p", {}, ref ? ["Your reference is ", h("strong", { id: "ticket-ref" }, ref), ". We have sent a confirmation to ", $("contact-email").value.trim(), "."]
          : "We have received your request and sent a confirmation by email."),
        portal ? h("p", {}, h("a", { href: portal }, "Follow the conversation online")) : null);
      done.hidden = false;
      done.focus();
      announce(ref ? `Request sent: ${ref}` : "Request sent.");
    } catch (err) {
      const detail = err instanceof ApiError && err.status === 429 ? "Too many requests from here; please try again in a minute." : err.message;
      announce(`Your request was not sent: ${detail}`, "error");
    } finally {
      button.disabled = false;
    }
  });
  document.body.dataset.ready = "true";
}

start();

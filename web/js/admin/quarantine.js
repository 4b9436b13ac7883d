// The email quarantine: mail the filters held back (spam and virus verdicts, bursts, unmatched
// automatic mail, unparseable mail). An admin reads it safely (the server sends only text, shown as
// text: no HTML, no images, no links that load anything) and releases it into a ticket or deletes it.
import { announce, h, render } from "../dom.js";
import { formatDateTime, ticketRef } from "../format.js";
import { adminTable, labelOf, queryEnum } from "./forms.js";
import { heading, itemsOf, remove } from "./page.js";

export async function renderQuarantine(root, ctx) {
  const reasons = await queryEnum(ctx, "/api/v1/admin/quarantine", "reason");
  const reason = h("select", { id: "quarantine-reason", name: "reason" }, h("option", { value: "" }, "All reasons"),
    reasons.map((r) => h("option", { value: r }, labelOf(r))));
  const released = h("input", { type: "checkbox", id: "quarantine-released", name: "include_released" });
  const listEl = h("div", { class: "admin-list" });
  const reader = h("div", { class: "admin-form-slot", id: "quarantine-reader" });
  render(root, heading("Email quarantine"),
    h("p", { class: "muted" }, "Mail held back by the filters. Read it as text, then release it (it becomes a ticket) or delete it."),
    h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); refresh(); } },
      h("div", { class: "field" }, h("label", { for: reason.id }, "Reason"), reason),
      h("label", { class: "choice" }, released, "Also released mail"),
      h("button", { type: "submit" }, "Show")),
    reader, listEl);

  async function refresh() {
    const page = await ctx.api.get("/admin/quarantine", { reason: reason.value, include_released: released.checked ? "true" : "", limit: 100 });
    const items = itemsOf(page);
    render(listEl, adminTable("Quarantined mail", [
      { label: "Received", value: (m) => formatDateTime(m.created_at) },
      { label: "From", value: (m) => m.from_email || "—" },
      { label: "Subject", value: (m) => m.subject || "(no subject)" },
      { label: "Reason", value: (m) => h("span", { class: "status" }, labelOf(m.reason)) },
      { label: "State", value: (m) => (m.released_at ? `released ${formatDateTime(m.released_at)}` : "held") },
      { label: "Actions", value: (m) => h("button", { type: "button", onclick: () => read(m), "aria-label": `Read mail from ${m.from_email || "unknown"}: ${m.subject || "no subject"}` }, "Read") },
    ], items, { id: "quarantine-list", empty: "Nothing in quarantine." }),
    page.has_more ? h("p", { class: "muted" }, "Showing the newest 100.") : null);
  }

  async function read(row) {
    render(reader, h("p", {}, "Loading the mail…"));
    let mail;
    try {
      mail = await ctx.api.get(`/admin/quarantine/${row.id}`);
    } catch (err) {
      render(reader, h("p", { class: "error" }, `The mail could not be read: ${err.message}`));
      return;
    }
    const headers = mail.headers || {};
    const release = h("button", { type: "button", class: "primary", disabled: mail.released_at ? true : null, onclick: async () => {
      release.disabled = true;
      try {
        const answer = await ctx.api.post(`/admin/quarantine/${row.id}/release`, {});
        render(reader, h("p", { class: "confirmation", role: "status" }, "Released: ",
          h("a", { href: `#/ticket/${encodeURIComponent(ticketRef(answer.ticket))}` }, `${ticketRef(answer.ticket)} ${answer.ticket.subject}`)));
        announce(`Released into ${ticketRef(answer.ticket)}.`);
        await refresh();
      } catch (err) {
        release.disabled = false;
        ctx.showError(err, "Release");
      }
    } }, "Release into a ticket");
    const del = h("button", { type: "button", onclick: async () => {
      if (!window.confirm("Delete this mail from the quarantine?")) return;
      try {
        await remove(ctx, `/admin/quarantine/${row.id}`);
        render(reader);
        announce("Deleted from the quarantine.");
        await refresh();
      } catch (err) {
        ctx.showError(err, "Delete");
      }
    } }, "Delete");
    render(reader, h("article", { class: "card quarantined-mail", "aria-labelledby": "quarantined-subject" },
      h("h2", { id: "quarantined-subject" }, headers.subject || mail.subject || "(no subject)"),
      h("dl", { class: "meta" },
        ...[["From", headers.from || mail.from_email], ["To", headers.to], ["Cc", headers.cc], ["Reply-To", headers["reply-to"]],
          ["Date", headers.date], ["Reason", `${labelOf(mail.reason)}${mail.detail ? `: ${mail.detail}` : ""}`],
          ["Received", formatDateTime(mail.created_at)]]
          .filter(([, v]) => v).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      mail.parse_error ? h("p", { class: "notice" }, `The mail could not be parsed (${mail.parse_error}); its raw text follows.`) : null,
      mail.raw_available ? null : h("p", { class: "notice" }, "The raw mail is no longer stored: only what the row recorded is shown."),
      mail.text !== null && mail.text !== undefined
        ? h("pre", { class: "message-body mail-text", tabindex: "0", "aria-label": "Mail text" }, mail.text || "(empty)") : null,
      mail.text_truncated ? h("p", { class: "muted" }, "The text was cut at 100,000 characters.") : null,
      mail.attachments && mail.attachments.length ? h("div", {}, h("h3", {}, "Attachments (not opened)"),
        h("ul", {}, mail.attachments.map((a) => h("li", {}, `${a.filename} (${a.content_type || "unknown type"}, ${a.size} bytes)${a.skipped ? `, skipped: ${a.skipped}` : ""}`)))) : null,
      h("div", { class: "button-row" }, release, del, h("button", { type: "button", onclick: () => render(reader) }, "Close"))));
    reader.querySelector("h2").setAttribute("tabindex", "-1");
    reader.querySelector("h2").focus();
  }

  await refresh();
}

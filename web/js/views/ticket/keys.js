// Keyboard shortcuts of the ticket page: r reply, n internal note, a assign to me, ? the list of keys.
// (The lists' keys, j/k/o and /, belong to the list views.) Keys do nothing while the agent types in a
// field or holds a modifier, so they never eat text.
import { h } from "../../dom.js";

export const TICKET_KEYS = [
  ["r", "Reply to the customer (focus the reply box)"],
  ["n", "Write an internal note"],
  ["a", "Assign the ticket to me"],
  ["Ctrl+Enter / ⌘+Enter", "Send what you wrote"],
  ["?", "Show this list"],
  ["Esc", "Close this list"],
];

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

function helpDialog() {
  const dialog = h("dialog", { class: "keys-help", "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, "Keyboard shortcuts"),
    h("dl", { class: "meta" }, TICKET_KEYS.flatMap(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])),
    h("form", { method: "dialog" }, h("button", { type: "submit" }, "Close")));
  return dialog;
}

/** Wire the keys; returns a function that removes them (the page calls it when it is left). */
export function wireTicketKeys({ reply, note, assignToMe }) {
  const dialog = helpDialog();
  document.body.append(dialog);
  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (dialog.open) return;
    const actions = { r: reply, n: note, a: assignToMe, "?": () => dialog.showModal() };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }
  document.addEventListener("keydown", onKey);
  return () => {
    document.removeEventListener("keydown", onKey);
    dialog.remove();
  };
}

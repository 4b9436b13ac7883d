// Keyboard shortcuts for the agent workspace, shared by the list views and the ticket page.
//
//   useKeys("list", "Ticket list", [{ key: "j", label: "Next ticket", run() {...} }, ...])
//   dropKeys("list")
//
// Each owner (a view, the header) registers its keys under a title; the later registration wins
// when two owners use one key. "?" shows every registered key in a dialog (Escape closes it and
// focus returns). Keys never fire while the agent types in a field or holds Ctrl, Alt or Meta, so
// a shortcut can never eat a letter of a reply.
import { h } from "./dom.js";

const owners = new Map(); // owner -> { title, bindings }
let overlay = null;

export function useKeys(owner, title, bindings) {
  owners.set(owner, { title, bindings });
}

export function dropKeys(owner) {
  owners.delete(owner);
}

/** True when the key event comes from somewhere text is typed. */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
}

function bindingFor(key) {
  for (const { bindings } of [...owners.values()].reverse()) {
    const found = bindings.find((b) => b.key === key);
    if (found) return found;
  }
  return null;
}

function closeHelp() {
  if (!overlay) return;
  const { dialog, returnTo } = overlay;
  overlay = null;
  dialog.remove();
  if (returnTo && returnTo.isConnected) returnTo.focus();
}

/** The "?" dialog: every key of every registered owner, grouped by owner. */
export function showKeyHelp() {
  if (overlay) return;
  const returnTo = document.activeElement;
  const close = h("button", { type: "button", class: "key-help-close", onclick: closeHelp }, "Close");
  const groups = [...owners.values()].filter((o) => o.bindings.length);
  const dialog = h("div", { class: "key-help", role: "dialog", "aria-modal": "true", "aria-labelledby": "key-help-title" },
    h("div", { class: "key-help-box" },
      h("h2", { id: "key-help-title" }, "Keyboard shortcuts"),
      groups.map((o) => h("section", {},
        h("h3", {}, o.title),
        h("dl", { class: "key-list" }, o.bindings.flatMap((b) => [h("dt", {}, h("kbd", {}, b.key === " " ? "Space" : b.key)), h("dd", {}, b.label)])))),
      h("p", { class: "muted small" }, "Shortcuts are off while you type in a field."),
      close));
  dialog.addEventListener("click", (event) => { if (event.target === dialog) closeHelp(); });
  document.body.append(dialog);
  overlay = { dialog, returnTo };
  close.focus();
}

function onKeyDown(event) {
  if (overlay) {
    if (event.key === "Escape" || event.key === "?") {
      event.preventDefault();
      closeHelp();
    } else if (event.key === "Tab") {
      event.preventDefault(); // one control in the dialog: focus stays on it
    }
    return;
  }
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (event.key === "?") {
    event.preventDefault();
    showKeyHelp();
    return;
  }
  const binding = bindingFor(event.key);
  if (!binding) return;
  event.preventDefault();
  binding.run(event);
}

document.addEventListener("keydown", onKeyDown);

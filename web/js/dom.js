// Building DOM safely: every piece of user content goes in as a text node, never as HTML.
// Tickets routinely contain markup, scripts and SQL; they must render as the literal text.

/**
 * h("button", {class: "primary", onclick: fn}, "Save") -> <button class="primary">Save</button>
 * Attributes named on* become event listeners; false/null attributes and children are skipped;
 * strings and numbers become text nodes (so "<b>" shows as "<b>").
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace an element's children. */
export function render(el, ...children) {
  clear(el);
  return append(el, children);
}

let idCounter = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form control: <div class="field"><label for=x>Label</label><input id=x ...></div>. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid("f");
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintEl = h("p", { class: "hint", id: uid("hint") }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
    parts.push(hintEl);
  }
  return h("div", { class: "field" }, parts);
}

/** Announce a message to screen readers and show it in the page's status line. */
export function announce(message, kind = "info") {
  const region = document.getElementById("status-line");
  if (!region) return;
  region.dataset.kind = kind;
  region.dataset.at = String(Date.now()); // app.js clears a message older than a navigation
  region.textContent = message;
}

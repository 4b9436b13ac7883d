// Admin console forms. Each form checks what the API's own schema declares (required fields,
// lengths, ranges, enumerations, patterns: read from the API's OpenAPI document, so the console
// never keeps a second copy of the rules) and then shows the API's answer: every problem+json error
// appears next to the field its location names, anything else above the buttons.
import { ApiError } from "../api.js";
import { announce, h, uid } from "../dom.js";

let documentPromise = null;

/** The API's OpenAPI document (GET /docs?format=json, once per page load). */
export function apiDocument(ctx) {
  if (!documentPromise) {
    documentPromise = ctx.api.get("/docs", { format: "json" }).catch((err) => {
      documentPromise = null; // try again next time; the API still validates everything
      console.warn("API schema unavailable", err);
      return {};
    });
  }
  return documentPromise;
}

/** The API's component schemas (request and response models by name). */
export async function apiSchemas(ctx) {
  const doc = await apiDocument(ctx);
  return (doc && doc.components && doc.components.schemas) || {};
}

/** The values a route's query parameter allows, from the API document. */
export async function queryEnum(ctx, path, name) {
  const doc = await apiDocument(ctx);
  const op = doc && doc.paths && doc.paths[path] && doc.paths[path].get;
  const param = op && (op.parameters || []).find((p) => p.name === name);
  const schema = param && param.schema ? param.schema : {};
  const branch = schema.enum ? schema : (schema.anyOf || []).find((v) => v.enum) || {};
  return branch.enum || [];
}

function resolve(schemas, node) {
  let n = node || {};
  for (let i = 0; i < 5 && n.$ref; i += 1) n = schemas[n.$ref.split("/").pop()] || {};
  return n;
}

/** The rule of one (possibly dotted) property: {rule, nullable} with $ref and Optional unwrapped. */
export function ruleOf(schemas, schemaName, path) {
  let node = schemas[schemaName];
  let nullable = false;
  for (const part of path.split(".")) {
    node = resolve(schemas, node);
    if (!node || !node.properties || !node.properties[part]) return null;
    node = node.properties[part];
    nullable = false;
    const variants = node.anyOf || node.oneOf;
    if (variants) {
      nullable = variants.some((v) => v.type === "null");
      node = variants.find((v) => v.type !== "null") || {};
    }
  }
  return { rule: resolve(schemas, node), nullable };
}

function requiredOf(schemas, schemaName, path) {
  const parts = path.split(".");
  const last = parts.pop();
  let node = resolve(schemas, schemas[schemaName]);
  for (const part of parts) {
    node = node && node.properties ? resolve(schemas, node.properties[part]) : null;
    if (node && (node.anyOf || node.oneOf)) node = resolve(schemas, (node.anyOf || node.oneOf).find((v) => v.type !== "null"));
  }
  return Boolean(node && Array.isArray(node.required) && node.required.includes(last));
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What is wrong with one value by the schema's rule, in the API's words, or null. */
export function checkValue(rule, value) {
  if (!rule || value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    if (rule.maxItems !== undefined && value.length > rule.maxItems) return `List should have at most ${plural(rule.maxItems, "item")}`;
    if (rule.minItems !== undefined && value.length < rule.minItems) return `List should have at least ${plural(rule.minItems, "item")}`;
    for (const item of value) {
      const problem = checkValue(rule.items || {}, item);
      if (problem) return `${JSON.stringify(item)}: ${problem}`;
    }
    return null;
  }
  if (rule.enum && !rule.enum.includes(value)) return `Input should be ${rule.enum.map((v) => `'${v}'`).join(", ")}`;
  if (typeof value === "string") {
    if (rule.minLength !== undefined && value.length < rule.minLength) return `String should have at least ${plural(rule.minLength, "character")}`;
    if (rule.maxLength !== undefined && value.length > rule.maxLength) return `String should have at most ${plural(rule.maxLength, "character")}`;
    if (rule.pattern && !new RegExp(rule.pattern, "u").test(value)) return `String should match pattern '${rule.pattern}'`;
    if (rule.format === "uuid" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return "Input should be a valid UUID";
  }
  if (typeof value === "number") {
    if (rule.type === "integer" && !Number.isInteger(value)) return "Input should be a valid integer";
    if (rule.minimum !== undefined && value < rule.minimum) return `Input should be greater than or equal to ${rule.minimum}`;
    if (rule.maximum !== undefined && value > rule.maximum) return `Input should be less than or equal to ${rule.maximum}`;
  }
  return null;
}

/** The problem's error list as [{path, msg}], paths without the leading "body". */
export function problemErrors(problem) {
  const out = [];
  for (const e of (problem && problem.errors) || []) {
    const loc = (e.loc || []).map(String);
    if (loc[0] === "body") loc.shift();
    out.push({ path: loc.join("."), msg: e.msg || e.message || "invalid" });
  }
  if (!out.length && problem && problem.field) out.push({ path: String(problem.field), msg: problem.detail || "invalid" });
  // Domain errors say "field: what is wrong" in their detail when they concern one field.
  const named = !out.length && problem && /^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.+)$/i.exec(problem.detail || "");
  if (named) out.push({ path: named[1], msg: named[2] });
  return out;
}

/**
 * A form over `fields`: [{name, label, type, options, hint, value, nullable, readonly}]. Types:
 * text, email, textarea, number, select, checkbox, checks (several values), list (comma-separated),
 * datetime, hours (a duration in hours sent as seconds), json. `schema` names the API's request
 * model; `prepare(body)` may reshape what was collected; `submit(body)` sends it and returns the saved document.
 */
export function adminForm(ctx, { id, schema, fields, submitLabel = "Save", submit, onSaved, extraButtons = [], prepare = (b) => b }) {
  const controls = new Map();
  const errorsEl = h("div", { class: "form-errors", role: "alert", hidden: true, id: uid("form-errors") });
  const form = h("form", { class: "admin-form card", id, novalidate: true });
  const rows = fields.map((f) => {
    const control = controlFor(f);
    controls.set(f.name, { field: f, control });
    const errorEl = h("p", { class: "field-error", id: uid("err"), hidden: true });
    const hint = f.hint ? h("p", { class: "hint", id: uid("hint") }, f.hint) : null;
    const describe = [hint && hint.id].filter(Boolean).join(" ");
    const target = control.focusTarget || control;
    if (describe) target.setAttribute("aria-describedby", describe);
    controls.get(f.name).errorEl = errorEl;
    controls.get(f.name).hintId = hint && hint.id;
    if (f.type === "checks" || f.type === "hours-pair") {
      return h("div", { class: "field", dataset: { field: f.name } }, control, hint, errorEl);
    }
    if (f.type === "checkbox") {
      return h("div", { class: "field checkbox", dataset: { field: f.name } }, h("label", { class: "choice" }, control, f.label), hint, errorEl);
    }
    if (!control.id) control.id = uid("f");
    return h("div", { class: "field", dataset: { field: f.name } }, h("label", { for: control.id }, f.label), control, hint, errorEl);
  });
  const submitButton = h("button", { type: "submit", class: "primary" }, submitLabel);
  form.append(...rows, errorsEl, h("div", { class: "button-row" }, submitButton, ...extraButtons));

  function clearErrors() {
    errorsEl.hidden = true;
    errorsEl.replaceChildren();
    for (const { control, errorEl, hintId } of controls.values()) {
      const target = control.focusTarget || control;
      errorEl.hidden = true;
      errorEl.textContent = "";
      target.removeAttribute("aria-invalid");
      if (hintId) target.setAttribute("aria-describedby", hintId);
      else target.removeAttribute("aria-describedby");
    }
  }

  /** Show [{path, msg}] next to their fields (the longest field name the path starts with). */
  function showErrors(list, fallback) {
    clearErrors();
    const loose = [];
    let first = null;
    for (const { path, msg } of list) {
      const name = [...controls.keys()].filter((n) => path === n || path.startsWith(`${n}.`) || path.startsWith(`${n}[`))
        .sort((a, b) => b.length - a.length)[0];
      if (!name) { loose.push(path ? `${path}: ${msg}` : msg); continue; }
      const entry = controls.get(name);
      const target = entry.control.focusTarget || entry.control;
      const where = path !== name ? `${path.slice(name.length + 1)}: ` : "";
      entry.errorEl.textContent = entry.errorEl.textContent ? `${entry.errorEl.textContent}; ${where}${msg}` : `${where}${msg}`;
      entry.errorEl.hidden = false;
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", [entry.errorEl.id, entry.hintId].filter(Boolean).join(" "));
      first = first || target;
    }
    if (!list.length && fallback) loose.push(fallback);
    if (loose.length) {
      errorsEl.append(h("p", {}, "The change was not saved:"), h("ul", {}, loose.map((m) => h("li", {}, m))));
      errorsEl.hidden = false;
    }
    (first || submitButton).focus();
  }

  async function check(body) {
    const schemas = await apiSchemas(ctx);
    if (!schema || !schemas[schema]) return [];
    const problems = [];
    for (const { field: f } of controls.values()) {
      if (f.readonly || f.api === false) continue;
      // A nested field whose object was left out (e.g. an SLA target without a duration) is not sent.
      const parentPath = f.name.split(".").slice(0, -1).join(".");
      if (parentPath && (getPath(body, parentPath) === undefined || getPath(body, parentPath) === null)) continue;
      const value = getPath(body, f.name);
      const found = ruleOf(schemas, schema, f.name);
      if ((value === undefined || value === "" || (value === null && !(found && found.nullable))) && requiredOf(schemas, schema, f.name)) {
        problems.push({ path: f.name, msg: "Field required" });
        continue;
      }
      const problem = found && checkValue(found.rule, value);
      if (problem) problems.push({ path: f.name, msg: problem });
    }
    return problems;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = prepare(collect());
    } catch (err) {
      showErrors([{ path: err.field || "", msg: err.message }]);
      return;
    }
    const local = await check(body);
    if (local.length) {
      showErrors(local);
      announce(`Not saved: ${local.length} field${local.length === 1 ? " needs" : "s need"} attention.`, "error");
      return;
    }
    submitButton.disabled = true;
    try {
      const saved = await submit(body);
      clearErrors();
      if (onSaved) await onSaved(saved, body);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showErrors(problemErrors(err.problem), err.message);
      announce(`Not saved: ${err.message}`, "error");
    } finally {
      submitButton.disabled = false;
    }
  });

  function collect() {
    const body = {};
    for (const { field: f, control } of controls.values()) {
      if (f.readonly) continue;
      const value = control.read();
      if (value === undefined) continue;
      setPath(body, f.name, value);
    }
    return body;
  }

  return { form, showErrors, clearErrors, controls, collect };
}

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  const parts = path.split(".");
  let o = obj;
  for (const part of parts.slice(0, -1)) o = o[part] = o[part] || {};
  o[parts[parts.length - 1]] = value;
}

function fieldError(message, field) {
  const err = new Error(message);
  err.field = field;
  return err;
}

function controlFor(f) {
  const value = f.value;
  const empty = (v) => (v === "" ? (f.nullable ? null : undefined) : v);
  let el;
  switch (f.type) {
    case "textarea":
      el = h("textarea", { name: f.name, rows: f.rows || 6, readonly: f.readonly || null });
      el.value = value ?? "";
      el.read = () => empty(el.value);
      return el;
    case "number":
      el = h("input", { type: "number", name: f.name, value: value ?? "", step: f.step || 1, readonly: f.readonly || null });
      el.read = () => (el.value === "" ? (f.nullable ? null : undefined) : Number(el.value));
      return el;
    case "hours":
      // A duration entered in hours, sent in seconds.
      el = h("input", { type: "number", name: f.name, value: value ? value / 3600 : "", step: "any", min: 0 });
      el.read = () => (el.value === "" ? null : Math.round(Number(el.value) * 3600));
      return el;
    case "select": {
      el = h("select", { name: f.name, disabled: f.readonly || null },
        (f.options || []).map(([v, label]) => h("option", { value: v ?? "" }, label)));
      el.value = value ?? "";
      el.read = () => empty(el.value);
      return el;
    }
    case "checkbox":
      el = h("input", { type: "checkbox", name: f.name, disabled: f.readonly || null });
      el.checked = Boolean(value);
      el.read = () => el.checked;
      return el;
    case "checks": {
      const chosen = new Set((value || []).map(String));
      const boxes = (f.options || []).map(([v, label]) => h("label", { class: "choice" },
        h("input", { type: "checkbox", name: f.name, value: v, checked: chosen.has(String(v)) || null }), label));
      el = h("fieldset", { class: "toggle" }, h("legend", {}, f.label), boxes.length ? boxes : h("span", { class: "muted" }, "none defined yet"));
      el.focusTarget = el;
      el.read = () => [...el.querySelectorAll("input:checked")].map((i) => i.value);
      return el;
    }
    case "list":
      el = h("input", { type: "text", name: f.name, value: (value || []).join(", "), readonly: f.readonly || null });
      el.read = () => el.value.split(",").map((s) => s.trim()).filter(Boolean);
      return el;
    case "datetime":
      el = h("input", { type: "datetime-local", name: f.name, value: value ? toLocalInput(value) : "" });
      el.read = () => (el.value ? new Date(el.value).toISOString() : (f.nullable ? null : undefined));
      return el;
    case "json":
      el = h("textarea", { name: f.name, rows: f.rows || 8, class: "mono" });
      el.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      el.read = () => {
        if (!el.value.trim()) return f.nullable ? null : undefined;
        try { return JSON.parse(el.value); } catch (err) { throw fieldError(`not valid JSON: ${err.message}`, f.name); }
      };
      return el;
    default:
      el = h("input", { type: f.type || "text", name: f.name, value: value ?? "", readonly: f.readonly || null,
        autocomplete: "off", spellcheck: f.type === "email" ? "false" : null });
      el.read = () => (f.readonly ? undefined : empty(el.value.trim()));
      return el;
  }
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A table of `rows` with `columns`: [{label, value(row) -> node|string}]. */
export function adminTable(caption, columns, rows, { id, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "empty", id }, empty);
  return h("table", { class: "admin-table", id },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: { id: r.id || "" } }, columns.map((c) => h("td", {}, c.value(r)))))));
}

/** Select options from the enumeration the API's schema declares for a field: [[value, label]]. */
export function enumOptions(schemas, schemaName, path, { blank } = {}) {
  const found = ruleOf(schemas, schemaName, path);
  const values = (found && (found.rule.enum || (found.rule.items && resolve(schemas, found.rule.items).enum))) || [];
  const options = values.map((v) => [v, labelOf(v)]);
  return blank ? [["", blank], ...options] : options;
}

export function labelOf(value) {
  const text = String(value).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

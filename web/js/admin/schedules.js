// Business-hours schedules: a week grid (several intervals a day: a lunch break is the gap between
// two), holidays, special days, and the next days' open hours as a check, computed by the server's
// business-hours code (POST /schedules/open-hours) from the document being edited.
import { ApiError } from "../api.js";
import { announce, h, render, uid } from "../dom.js";
import { formatDateTime } from "../format.js";
import { adminTable, problemErrors } from "./forms.js";
import { heading, itemsOf } from "./page.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"],
  ["sat", "Saturday"], ["sun", "Sunday"]];
const STANDARD = { timezone: "UTC", hours: Object.fromEntries(DAYS.slice(0, 5).map(([d]) => [d, [["09:00", "12:00"], ["13:00", "17:00"]]])) };

export async function renderSchedules(root, ctx) {
  const listEl = h("div", { class: "admin-list" });
  const editorSlot = h("div", { class: "admin-form-slot" });
  render(root, heading("Schedules"),
    h("p", { class: "muted" }, "Business hours for SLA clocks and routing: the weekly hours in a time zone, holidays and special days."),
    h("div", { class: "button-row" }, h("button", { type: "button", class: "primary", id: "new-schedule", onclick: () => edit(null) }, "New schedule")),
    editorSlot, listEl);

  async function refresh() {
    const schedules = itemsOf(await ctx.api.get("/schedules"));
    render(listEl, adminTable("Schedules", [
      { label: "Name", value: (s) => s.name },
      { label: "Time zone", value: (s) => s.document.timezone },
      { label: "Week", value: (s) => weekSummary(s.document) },
      { label: "Holidays", value: (s) => String((s.document.holidays || []).length) },
      { label: "Updated", value: (s) => formatDateTime(s.updated_at) },
      { label: "Actions", value: (s) => h("button", { type: "button", onclick: () => edit(s), "aria-label": `Edit ${s.name}` }, "Edit") },
    ], schedules, { id: "schedule-list" }));
  }

  function edit(schedule) {
    render(editorSlot, scheduleEditor(ctx, schedule, async (saved) => {
      render(editorSlot);
      announce(`Saved schedule ${saved.name}.`);
      await refresh();
    }, () => render(editorSlot)));
    editorSlot.querySelector("input").focus();
  }

  await refresh();
}

function weekSummary(doc) {
  return DAYS.map(([d, label]) => {
    const ivs = (doc.hours || {})[d] || [];
    return ivs.length ? `${label.slice(0, 3)} ${ivs.map(([a, b]) => `${a}–${b}`).join(", ")}` : null;
  }).filter(Boolean).join("; ") || "closed";
}

function scheduleEditor(ctx, schedule, onSaved, onCancel) {
  const doc = schedule ? schedule.document : STANDARD;
  const errorSlots = new Map();
  const errorFor = (key, control) => {
    const el = h("p", { class: "field-error", id: uid("err"), hidden: true });
    errorSlots.set(key, { el, control });
    return el;
  };
  const nameInput = h("input", { id: uid("f"), name: "name", value: schedule ? schedule.name : "", autocomplete: "off" });
  const tzInput = h("input", { id: uid("f"), name: "timezone", value: doc.timezone || "UTC", list: "timezones", autocomplete: "off" });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const countryInput = h("input", { id: uid("f"), name: "holiday_country", value: doc.holiday_country || "", autocomplete: "off", maxlength: 8 });

  const dayRows = DAYS.map(([day, label]) => {
    const list = h("div", { class: "intervals" });
    const addInterval = (a = "09:00", b = "17:00") => {
      const n = list.children.length + 1;
      const row = h("div", { class: "interval" },
        h("input", { type: "time", value: a, "aria-label": `${label} opens (interval ${n})`, dataset: { part: "start" } }),
        h("span", { "aria-hidden": "true" }, "–"),
        h("input", { type: "time", value: b === "24:00" ? "23:59" : b, "aria-label": `${label} closes (interval ${n})`, dataset: { part: "end", full: b === "24:00" ? "1" : "" } }),
        h("button", { type: "button", class: "small", "aria-label": `Remove ${label} interval ${n}`, onclick: () => row.remove() }, "Remove"));
      list.append(row);
    };
    for (const [a, b] of (doc.hours || {})[day] || []) addInterval(a, b);
    const error = errorFor(`hours.${day}`, list);
    return {
      day, list,
      row: h("tr", { dataset: { day } }, h("th", { scope: "row" }, label), h("td", {}, list, error),
        h("td", {}, h("button", { type: "button", "aria-label": `Add hours on ${label}`, onclick: () => addInterval(list.children.length ? "13:00" : "09:00", "17:00") }, "Add hours"))),
    };
  });

  const holidaysInput = h("textarea", { id: uid("f"), name: "holidays", rows: 2 });
  holidaysInput.value = (doc.holidays || []).join(", ");
  const specialInput = h("textarea", { id: uid("f"), name: "special_hours", rows: 3 });
  specialInput.value = Object.entries(doc.special_hours || {}).map(([d, ivs]) => `${d} ${ivs.length ? ivs.map(([a, b]) => `${a}-${b}`).join(", ") : "closed"}`).join("\n");

  const weekGrid = h("table", { class: "week-grid" }, h("caption", {}, "Weekly hours (two intervals make a lunch break)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col" }, "Open"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Add")))),
    h("tbody", {}, dayRows.map((r) => r.row)));
  const formErrors = h("div", { class: "form-errors", role: "alert", hidden: true });
  const check = h("div", { class: "open-hours", "aria-live": "polite", id: "open-hours" });

  function documentOf() {
    const hours = {};
    for (const { day, list } of dayRows) {
      const ivs = [...list.children].map((row) => {
        const [start, end] = row.querySelectorAll("input");
        return [start.value, end.dataset.full && end.value === "23:59" ? "24:00" : end.value];
      }).filter(([a, b]) => a || b);
      if (ivs.length) hours[day] = ivs;
    }
    const special = {};
    for (const line of specialInput.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const [date, ...rest] = line.split(/\s+/);
      const text = rest.join(" ");
      special[date] = /^closed$/i.test(text) || !text ? [] : text.split(",").map((p) => p.trim().split(/\s*[-–]\s*/));
    }
    const out = { timezone: tzInput.value.trim(), hours,
      holidays: holidaysInput.value.split(/[\s,]+/).filter(Boolean), special_hours: special };
    if (countryInput.value.trim()) out.holiday_country = countryInput.value.trim().toUpperCase();
    return out;
  }

  function showErrors(list, fallback) {
    formErrors.hidden = true;
    formErrors.replaceChildren();
    for (const { el, control } of errorSlots.values()) {
      el.hidden = true; el.textContent = "";
      control.removeAttribute("aria-invalid");
    }
    const loose = [];
    let first = null;
    for (const { path, msg } of list) {
      const key = [...errorSlots.keys()].filter((k) => path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`) || path.startsWith(`document.${k}`))
        .sort((a, b) => b.length - a.length)[0];
      if (!key) { loose.push(path ? `${path}: ${msg}` : msg); continue; }
      const { el, control } = errorSlots.get(key);
      el.textContent = msg; el.hidden = false;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", el.id);
      first = first || control.querySelector?.("input") || control;
    }
    if (!list.length && fallback) loose.push(fallback);
    if (loose.length) { formErrors.append(h("ul", {}, loose.map((m) => h("li", {}, m)))); formErrors.hidden = false; }
    if (first && first.focus) first.focus();
  }

  function errorsOf(err) {
    const list = problemErrors(err.problem);
    // The schedule's own check names "hours.mon" etc. in `field`; its detail repeats it.
    return list.length ? list : [{ path: err.problem.field || "", msg: err.message }];
  }

  async function runCheck() {
    try {
      const answer = await ctx.api.post("/schedules/open-hours", { document: documentOf(), days: 7 });
      showErrors([]);
      render(check, h("h3", {}, `Open hours, next 7 days (${answer.timezone})`),
        adminTable("Open hours, next 7 days", [
          { label: "Date", value: (d) => `${d.weekday} ${d.date}` },
          { label: "Open", value: (d) => (d.intervals.length ? d.intervals.map((i) => `${i.local_start}–${i.local_end}`).join(", ") : "closed") },
          { label: "Hours", value: (d) => (d.open_seconds / 3600).toFixed(1).replace(/\.0$/, "") },
          { label: "Note", value: (d) => (d.holiday ? "holiday" : d.special ? "special day" : "") },
        ], answer.days.map((d) => ({ ...d, id: d.date })), { id: "open-hours-table" }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      render(check, h("p", { class: "error" }, "No check: the schedule is not valid yet."));
      showErrors(errorsOf(err), err.message);
    }
  }

  const save = h("button", { type: "submit", class: "primary" }, schedule ? "Save changes" : "Create schedule");
  const form = h("form", { class: "admin-form card schedule-editor", id: "schedule-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const body = { name: nameInput.value.trim(), document: documentOf() };
      const saved = schedule ? await ctx.api.put(`/schedules/${schedule.id}`, body) : await ctx.api.post("/schedules", body);
      await onSaved(saved);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showErrors(errorsOf(err), err.message);
      announce(`Not saved: ${err.message}`, "error");
    } finally {
      save.disabled = false;
    }
  } },
  h("h2", {}, schedule ? `Edit ${schedule.name}` : "New schedule"),
  h("div", { class: "field" }, h("label", { for: nameInput.id }, "Name"), nameInput, errorFor("name", nameInput)),
  h("div", { class: "field" }, h("label", { for: tzInput.id }, "Time zone"), tzInput,
    h("datalist", { id: "timezones" }, zones.map((z) => h("option", { value: z }))), errorFor("timezone", tzInput)),
  weekGrid, errorFor("hours", weekGrid),
  h("div", { class: "field" }, h("label", { for: holidaysInput.id }, "Holidays"), holidaysInput,
    h("p", { class: "hint" }, "Dates closed all day: YYYY-MM-DD, separated by commas."), errorFor("holidays", holidaysInput)),
  h("div", { class: "field" }, h("label", { for: specialInput.id }, "Special days"), specialInput,
    h("p", { class: "hint" }, "One a line: a date and its hours instead of the weekly ones, e.g. 2026-12-24 09:00-13:00, or 2026-12-31 closed."),
    errorFor("special_hours", specialInput)),
  h("div", { class: "field" }, h("label", { for: countryInput.id }, "Public holidays of country (optional)"), countryInput,
    h("p", { class: "hint" }, "An ISO country code such as DE or US-CA: its public holidays are closed."), errorFor("holiday_country", countryInput)),
  formErrors,
  h("div", { class: "button-row" }, save,
    h("button", { type: "button", id: "check-open-hours", onclick: runCheck }, "Check the next 7 days"),
    h("button", { type: "button", onclick: onCancel }, "Cancel")),
  check);
  runCheck();
  return form;
}

// Local stack only: move the dev clock forward so SLA warnings, breaches, auto-close and the
// reopen window can be seen without waiting (POST /api/v1/dev/clock {advance_seconds}).
import { serverClock } from "../clock.js";
import { announce, field, h, render } from "../dom.js";
import { formatDateTime, formatDuration } from "../format.js";

const STEPS = [["15 minutes", 900], ["1 hour", 3600], ["4 hours", 14400], ["1 day", 86400], ["3 days", 259200]];

export async function renderDevClock(main, ctx) {
  document.title = "Dev clock · Helpdesk";
  const state = h("p", { id: "dev-clock-now" });
  const result = h("pre", { class: "small", id: "dev-clock-result", "aria-live": "polite" });

  function showNow() {
    const offset = serverClock.offsetMs / 1000;
    render(state, "The stack's clock: ", h("strong", {}, formatDateTime(new Date(serverClock.now()).toISOString())),
      offset > 1 ? ` (${formatDuration(offset)} ahead of real time)` : " (real time)");
  }

  async function advance(seconds, label) {
    try {
      const res = await fetch(`${ctx.config.apiBase}/dev/clock`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ advance_seconds: seconds }),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.detail || `HTTP ${res.status}`);
      await serverClock.sync(ctx.config);
      showNow();
      result.textContent = data.sweep ? `Sweep ran: ${JSON.stringify(data.sweep)}` : "";
      announce(`Clock advanced by ${label}.`);
    } catch (err) {
      announce(`The clock did not move: ${err.message}`, "error");
    }
  }

  const minutes = h("input", { type: "number", min: 1, max: 527040, step: 1, name: "minutes", value: 30 });
  const custom = h("form", {
    class: "inline-form",
    onsubmit: (event) => {
      event.preventDefault();
      const n = Number(minutes.value);
      if (!Number.isFinite(n) || n <= 0) {
        announce("Enter a positive number of minutes.", "error");
        return;
      }
      advance(Math.round(n * 60), `${n} minutes`);
    },
  }, field("Advance by (minutes)", minutes), h("button", { type: "submit" }, "Advance"));

  await serverClock.sync(ctx.config);
  render(main, h("section", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title" }, "Dev clock (local stack only)"),
    h("p", {}, "Moving the clock forward runs the SLA sweep at once: warnings, breaches and auto-close appear "
      + "without waiting. The clock never moves back."),
    state,
    h("div", { class: "button-row", role: "group", "aria-label": "Advance the clock" },
      STEPS.map(([label, seconds]) => h("button", { type: "button", onclick: () => advance(seconds, label) }, `+ ${label}`))),
    h("h2", {}, "Custom step"),
    custom,
    result));
  showNow();
}

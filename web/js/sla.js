// The compact SLA chip: one clock as a word (On track, At risk, Breached, Paused, Met) and how long.
// The list views and the ticket page describe a clock with the same function (describeSla in
// format.js), so a ticket the At risk view lists is "At risk" or "Breached" on both.
import { h } from "./dom.js";
import { describeSla, formatDuration } from "./format.js";

export const LEVEL_WORDS = { ok: "On track", warning: "At risk", breached: "Breached", met: "Met", paused: "Paused" };

export function levelWord(level) {
  return LEVEL_WORDS[level] || level;
}

/** The chip's short text: "At risk · 25m", "Breached · 2h 5m", "Paused", "On track · 3d 2h". */
export function chipText(clock, now) {
  const d = describeSla(clock, now);
  if (d.level === "paused" || d.level === "met" || !clock.due_at) return levelWord(d.level);
  const left = (new Date(clock.due_at).getTime() - now) / 1000;
  return `${levelWord(d.level)} · ${formatDuration(left)}`;
}

/**
 * A ticket's most urgent clock (list items carry it as `sla`) as a chip; its title and accessible
 * name give the whole sentence ("First response: Due in 25m (…)"). No clock: a muted dash.
 */
export function slaChip(clock, now) {
  if (!clock) return h("span", { class: "muted sla-none" }, h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "No SLA clock"));
  const d = describeSla(clock, now);
  const sentence = `${d.label}: ${d.text}`;
  return h("span", { class: `sla-chip sla sla-${d.level}`, title: sentence, dataset: { level: d.level } },
    h("span", { "aria-hidden": "true" }, chipText(clock, now)),
    h("span", { class: "visually-hidden" }, `${levelWord(d.level)}. ${sentence}`));
}

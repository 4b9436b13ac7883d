// Formatting of references, times and SLA clocks.

export function ticketRef(ticket) {
  if (!ticket) return "";
  if (ticket.ref) return ticket.ref;
  return ticket.number !== undefined && ticket.number !== null ? `TKT-${ticket.number}` : String(ticket.id || "");
}

export function formatDateTime(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** 5400 -> "1h 30m"; 50 -> "50s"; 3 days -> "3d 0h". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hrs}h`;
  if (hrs > 0) return `${hrs}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export const SLA_KIND_LABELS = {
  first_response: "First response",
  next_reply: "Next reply",
  resolution: "Resolution",
  next: "Next deadline",
};

/**
 * One SLA clock as the UI shows it. `now` is the (server-aligned) time in ms.
 * Returns {label, text, level} where level is "ok" | "warning" | "breached" | "met" | "paused".
 */
export function describeSla(target, now) {
  const label = SLA_KIND_LABELS[target.kind] || target.kind;
  if (target.state === "met") {
    return { label, level: "met", text: target.met_at ? `Met ${formatDateTime(target.met_at)}` : "Met" };
  }
  if (target.state === "cancelled") return { label, level: "met", text: "Not running" };
  if (target.state === "paused") {
    const remaining = target.remaining_seconds;
    return {
      label,
      level: "paused",
      text: remaining !== undefined && remaining !== null
        ? `Paused (waiting on customer), ${formatDuration(remaining)} business time left`
        : "Paused (waiting on customer)",
    };
  }
  if (!target.due_at) return { label, level: "ok", text: "Deadline being computed" };
  const due = new Date(target.due_at).getTime();
  const left = (due - now) / 1000;
  if (target.breached_at || left < 0) {
    return { label, level: "breached", text: `Breached ${formatDuration(left)} ago` };
  }
  const warnAt = target.warn_at ? new Date(target.warn_at).getTime() : null;
  const level = target.warned_at || (warnAt !== null && warnAt <= now) ? "warning" : "ok";
  return { label, level, text: `Due in ${formatDuration(left)} (${formatDateTime(target.due_at)})` };
}

/** A ticket is at risk when a running clock is warned, past its warning time, or breached. */
export function isAtRisk(ticket, now) {
  return (ticket.sla || []).some((t) => {
    if (t.state !== "running") return false;
    const d = describeSla(t, now);
    return d.level === "warning" || d.level === "breached";
  });
}

/** A Date for an API instant, or null when it is missing or not a date (never "Invalid time value"). */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date; future instants "in 5 min". */
export function relativeTime(value, now) {
  const date = toDate(value);
  if (!date) return "";
  const seconds = Math.round((now - date.getTime()) / 1000);
  const ahead = seconds < 0;
  const s = Math.abs(seconds);
  const say = (n, unit) => (ahead ? `in ${n} ${unit}` : `${n} ${unit} ago`);
  if (s < 45) return "just now";
  if (s < 3600) return say(Math.max(1, Math.round(s / 60)), "min");
  if (s < 86400) return say(Math.round(s / 3600), "h");
  const days = Math.round(s / 86400);
  if (days === 1) return ahead ? "tomorrow" : "yesterday";
  if (days < 7) return say(days, "days");
  return date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

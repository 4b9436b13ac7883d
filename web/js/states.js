// The ticket state machine (helpdesk/tickets/states.py, docs/architecture.md), mirrored so the ticket
// page offers only allowed moves; tests/unit/tickets/test_states.py fails when the two disagree.
// The API stays the authority: a 422 answer names `allowed`, and the page adopts that list.

export const TRANSITIONS = {
  new: ["assigned", "spam", "duplicate", "merged"],
  assigned: ["in_progress", "new", "spam", "duplicate", "merged"],
  in_progress: ["waiting_on_customer", "resolved", "assigned", "spam", "duplicate", "merged"],
  waiting_on_customer: ["in_progress", "resolved", "spam", "duplicate"],
  resolved: ["closed", "in_progress"],
  closed: ["reopened"],
  reopened: ["in_progress", "assigned", "spam", "duplicate"],
  spam: ["new"],
  duplicate: [],
  merged: [],
};

export const STATUS_LABELS = {
  new: "New",
  assigned: "Assigned",
  in_progress: "In progress",
  waiting_on_customer: "Waiting on customer",
  resolved: "Resolved",
  closed: "Closed",
  reopened: "Reopened",
  spam: "Spam",
  duplicate: "Duplicate",
  merged: "Merged",
};

// Button texts for moving *to* a status, from the agent's point of view.
const ACTION_LABELS = {
  new: "Unassign (back to new)",
  assigned: "Mark assigned",
  in_progress: "Start work",
  waiting_on_customer: "Wait on customer",
  resolved: "Resolve",
  closed: "Close",
  reopened: "Reopen",
  spam: "Mark spam",
  duplicate: "Mark duplicate",
  merged: "Merge",
};

// Moves that need more than a status: merging needs a target (its own form), assigning needs
// an agent (the assign form). The status buttons leave them to those forms.
const NEEDS_FORM = new Set(["merged", "assigned"]);

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}

export function actionLabel(status, from) {
  if (status === "in_progress" && (from === "resolved" || from === "waiting_on_customer")) return "Back to in progress";
  if (status === "in_progress" && from === "reopened") return "Resume work";
  return ACTION_LABELS[status] || `Move to ${statusLabel(status)}`;
}

/** Allowed next statuses: the ticket's own list when the API sends one, else the table. */
export function allowedNext(ticket) {
  const fromApi = ticket.allowed_transitions || ticket.allowed_statuses;
  if (Array.isArray(fromApi)) return fromApi;
  return TRANSITIONS[ticket.status] || [];
}

export function statusButtonTargets(allowed) {
  return allowed.filter((s) => !NEEDS_FORM.has(s));
}

// API errors in plain language: what happened and what to do, never raw validation output.
// The API's own `detail` sentences are written for people (helpdesk.errors), so they are kept; what is
// rewritten is the machine part: transport failures, field-by-field validation lists, bare HTTP codes.

const FIELD_NAMES = {
  body: "the message", visibility: "who sees the message", status: "the status", priority: "the priority",
  agent_id: "the agent", team_id: "the team", into: "the ticket to merge into", duplicate_of: "the original ticket",
  name: "the name", add: "the tags to add", remove: "the tags to remove", add_tags: "the tags to add",
  remove_tags: "the tags to remove", seen_position: "the conversation position",
};

function fieldOf(loc) {
  const parts = (Array.isArray(loc) ? loc : []).filter((p) => typeof p === "string" && p !== "body");
  const last = parts[parts.length - 1];
  return FIELD_NAMES[last] || (last ? last.replace(/_/g, " ") : "a field");
}

export function plainMessage(err) {
  if (!err) return "Something went wrong.";
  const status = err.status;
  const problem = err.problem || {};
  if (status === 0) return "The help desk server cannot be reached. Check your connection and try again; nothing was changed.";
  if (status === 401) return "Your session ended. Sign in again; nothing was changed.";
  if (status === 403) return problem.detail || "You are not allowed to do this.";
  if (status === 404) return problem.detail ? `Not found: ${problem.detail}.` : "It no longer exists.";
  if (status === 410) return "This ticket was merged into another one.";
  if (status === 413) return "That is too large to send.";
  if (status === 429) return "Too many requests just now. Wait a moment and try again.";
  if (status === 422 && Array.isArray(problem.errors) && problem.errors.length) {
    const fields = [...new Set(problem.errors.map((e) => fieldOf(e.loc)))];
    return `Please check ${fields.join(", ")}: ${problem.errors.length === 1 ? "it is" : "they are"} not valid. Nothing was changed.`;
  }
  if (status >= 500) return "The help desk had a problem handling this. Try again in a moment; if it keeps happening, tell an admin.";
  const text = problem.detail || err.message || "";
  if (!text || /^HTTP \d+$/.test(text)) return "That did not work. Try again.";
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

// Errors in plain language. The API's problems are precise for programs (field paths, validator
// wording) and the browser's own errors ("Invalid time value") mean nothing to an agent: this turns
// either into a sentence saying what happened and what to do. The API's own sentences (a domain
// error's detail, written for people) are kept; raw validation output is not shown.
import { ApiError } from "./api.js";

const FIELD_NAMES = {
  q: "the search words", status: "the status", team: "the team", assignee: "the assignee", tag: "the tag",
  agent_id: "the agent", team_id: "the team", body: "the message", subject: "the subject", limit: "the page size",
  cursor: "the page position", priority: "the priority", tags: "the tags", add: "the tags to add", remove: "the tags to remove",
};

function fieldOf(loc) {
  const parts = (loc || []).filter((p) => !["body", "query", "path"].includes(String(p)) && !/^\d+$/.test(String(p)));
  const name = parts.length ? String(parts[parts.length - 1]) : "";
  return FIELD_NAMES[name] || (name ? name.replace(/_/g, " ") : "the request");
}

function validationSentence(problem) {
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  if (!errors.length) return "Some of what you entered isn't accepted. Check it and try again.";
  const fields = [...new Set(errors.map((e) => fieldOf(e.loc)))].join(", ");
  const tooLong = errors.some((e) => /too_long|at most/.test(`${e.type} ${e.msg}`));
  return tooLong ? `Too long: ${fields}. Shorten it and try again.` : `Not accepted: ${fields}. Check it and try again.`;
}

/** One sentence for anything thrown while talking to the API or drawing a page. */
export function plainError(err) {
  if (err instanceof ApiError) {
    const p = err.problem || {};
    if (err.status === 0) return "The Helpdesk server can't be reached. Check your connection; the page will try again.";
    if (err.status === 401) return "Your session ended. Please sign in again.";
    if (err.status === 403) return "You don't have permission to do that.";
    if (err.status === 404) return "That ticket or page doesn't exist (it may have been deleted or mistyped).";
    if (err.status === 410 && p.merged_into) return "This ticket was merged into another one.";
    if (err.status === 429) return "Too many requests just now. Wait a moment and try again.";
    if (err.status === 422 && p.code === "validation_failed" && Array.isArray(p.errors)) return validationSentence(p);
    if (err.status >= 500) return "The server had a problem and nothing was changed. Try again in a moment.";
    // Domain errors (409, 422 transitions, 410...) carry a detail written for people.
    const detail = p.detail || err.message;
    return detail ? detail.charAt(0).toUpperCase() + detail.slice(1) : "The request was not accepted.";
  }
  // A browser error (a bad date, a network failure inside fetch, a bug): never its raw message.
  return "Something went wrong showing this page. Reload the page to try again.";
}

// The satisfaction survey a solved mail links to: satisfaction.html?answer=good|bad|not_solved#<token>.
// Opening the link changes nothing on the server (mail scanners prefetch links): this page reads the
// survey, then POSTs the customer's answer. "Good" / "bad" is one click (the page records the rating
// the link named, then offers a comment); "not solved" reopens the request only when the customer
// presses the button (it writes a message). The shared answer views are in satisfaction-view.js.
import { createApi } from "./api.js";
import { loadConfig } from "./config.js";
import { announce, h, render } from "./dom.js";
import { surveyPanel } from "./satisfaction-view.js";

function surveyToken() {
  return decodeURIComponent(window.location.hash.replace(/^#/, "")) || "";
}

function linkAnswer() {
  const answer = new URLSearchParams(window.location.search).get("answer");
  return ["good", "bad", "not_solved"].includes(answer) ? answer : null;
}

function problemText(err) {
  const code = (err.problem && err.problem.code) || "";
  if (code === "link_expired") return "This survey link has expired. Reply to our email if you still want to tell us something.";
  if (code === "survey_replaced") return "This link is from an earlier answer to your request. Please use the link in our latest email.";
  if (err.status === 403 || err.status === 400) return "This survey link is not valid. Please use the link exactly as it is in our email.";
  return err.message;
}

async function start() {
  const config = await loadConfig();
  const api = createApi({ apiBase: config.apiBase });
  const main = document.getElementById("main");
  const token = surveyToken();
  if (!token) {
    render(main, h("p", { class: "error" }, "This link is incomplete: it should end with the code from your email."));
    document.body.dataset.ready = "true";
    return;
  }
  const path = `/public/satisfaction/${encodeURIComponent(token)}`;
  try {
    let survey = await api.get(path);
    document.getElementById("survey-title").textContent = `${survey.ref}: ${survey.subject}`;
    document.title = `${survey.ref} · How did we do?`;
    const answer = linkAnswer();
    const actions = {
      rate: (rating, comment) => api.post(`${path}/rating`, { rating, comment: comment || null }),
      solved: () => api.post(`${path}/solved`),
      notSolved: (comment) => api.post(`${path}/not-solved`, { comment: comment || null }),
      reload: async () => { survey = await api.get(path); return survey; },
    };
    // One click: the rating the link named is recorded as the page opens (unless it already is).
    if ((answer === "good" || answer === "bad") && survey.can_rate && survey.rating !== answer) {
      try {
        await actions.rate(answer, null);
        survey = await actions.reload();
        announce("Thank you, your rating was recorded.");
      } catch (err) {
        announce(`Your rating was not recorded: ${problemText(err)}`, "error");
      }
    } else if ((answer === "good" || answer === "bad") && survey.rating === answer) {
      announce("Thank you, your rating was recorded.");
    }
    render(main, surveyPanel(survey, actions, { focus: answer === "not_solved" ? "not_solved" : "comment", problemText }));
  } catch (err) {
    render(main, h("p", { class: "error", id: "survey-error" }, problemText(err)));
  }
  document.body.dataset.ready = "true";
}

start();

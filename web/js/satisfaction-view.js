// The customer's answers about a solved request, shared by the survey page (satisfaction.js, the
// mailed links) and the portal (portal.js): the rating (good / bad) with an optional comment,
// "Yes, close my request" and "It's not solved" (reopens with the customer's words).
// `actions`: { rate(rating, comment), solved(), notSolved(comment), reload() } -> Promise.
import { announce, field, h, render } from "./dom.js";

const RATING_WORDS = { good: "Good, I'm satisfied", bad: "Bad, I'm unsatisfied" };

export function surveyPanel(survey, actions, { focus = "comment", problemText = (e) => e.message } = {}) {
  const panel = h("section", { class: "survey", "aria-labelledby": "survey-heading" });

  function draw() {
    const parts = [h("h2", { id: "survey-heading" }, "How did we do?"),
      h("p", {}, "Status of your request: ", h("strong", { id: "survey-status" }, survey.status_label))];
    if (survey.can_rate) {
      const ratingButtons = ["good", "bad"].map((rating) => h("button", {
        type: "button", class: `rating rating-${rating}${survey.rating === rating ? " chosen" : ""}`,
        "aria-pressed": survey.rating === rating ? "true" : "false",
        onclick: () => act(() => actions.rate(rating, null), "Thank you, your rating was recorded."),
      }, RATING_WORDS[rating]));
      parts.push(h("div", { class: "rating-buttons", role: "group", "aria-label": "Your rating" }, ratingButtons));
      if (survey.rating) {
        parts.push(h("p", { id: "survey-rating" }, "Your rating: ", h("strong", {}, RATING_WORDS[survey.rating])));
        const comment = h("textarea", { name: "comment", rows: 4, maxlength: 5000 });
        comment.value = survey.comment || "";
        parts.push(h("form", {
          class: "composer", id: "survey-comment",
          onsubmit: (event) => {
            event.preventDefault();
            act(() => actions.rate(survey.rating, comment.value), "Thank you for your comment.");
          },
        }, field("Anything you want to add? (optional)", comment), h("button", { type: "submit", class: "primary" }, "Send comment")));
      }
    }
    if (survey.status === "resolved") {
      parts.push(h("p", {}, h("button", {
        type: "button", id: "survey-solved", onclick: () => act(actions.solved, "Thank you: your request is closed."),
      }, "Yes, it's solved: close my request")));
    }
    if (survey.status === "resolved" || survey.status === "closed") {
      const words = h("textarea", { name: "not_solved", rows: 4, maxlength: 5000 });
      parts.push(h("form", {
        class: "composer", id: "survey-not-solved",
        onsubmit: (event) => {
          event.preventDefault();
          act(() => actions.notSolved(words.value), "We reopened your request; our team will get back to you.");
        },
      }, h("h2", {}, "It's not solved?"), field("What is still wrong? (optional)", words),
      h("button", { type: "submit" }, "It's not solved: reopen my request")));
    } else if (!survey.can_rate) {
      parts.push(h("p", {}, "Our team is working on your request again; you can rate it once it is solved."));
    }
    render(panel, parts);
  }

  async function act(run, thanks) {
    try {
      await run();
      survey = await actions.reload();
      draw();
      announce(thanks);
    } catch (err) {
      announce(`That did not work: ${problemText(err)}`, "error");
    }
  }

  draw();
  if (focus === "not_solved") {  // the "it's not solved" link: straight to where the customer writes why
    queueMicrotask(() => { const target = panel.querySelector("#survey-not-solved textarea"); if (target) target.focus(); });
  }
  return panel;
}

// Sign-in: the local stack's dev token (pick an agent email, or paste a token), or Cognito.
import { announce, field, h, render } from "../dom.js";

export function renderSignIn(main, ctx, onSignedIn) {
  const { config, auth } = ctx;
  document.title = "Sign in · Helpdesk";
  if (auth.kind === "cognito") {
    const button = h("button", { type: "button", class: "primary", onclick: () => auth.beginSignIn(config) },
      "Sign in with your organisation account");
    render(main, h("section", { class: "card narrow" }, h("h1", {}, "Sign in"), button));
    return;
  }

  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username",
    value: "admin@example.com", list: "seeded-agents" });
  const suggestions = h("datalist", { id: "seeded-agents" },
    (config.localAgents || ["admin@example.com"]).map((e) => h("option", { value: e })));
  const emailForm = h("form", {
    class: "stack",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        await auth.signInWithEmail(config, email.value.trim());
        await onSignedIn();
      } catch (err) {
        announce(`Sign-in failed: ${err.message}`, "error");
      }
    },
  },
  field("Agent email", email, "Any seeded agent of the local stack, e.g. admin@example.com."),
  suggestions,
  h("button", { type: "submit", class: "primary" }, "Sign in"));

  const token = h("textarea", { name: "token", rows: 3, autocomplete: "off", spellcheck: "false" });
  const tokenForm = h("form", {
    class: "stack",
    onsubmit: async (event) => {
      event.preventDefault();
      if (!token.value.trim()) {
        announce("Paste a token first (from .local/tokens.json).", "error");
        return;
      }
      auth.signInWithToken(token.value);
      await onSignedIn();
    },
  },
  field("Bearer token", token, "A token from .local/tokens.json."),
  h("button", { type: "submit" }, "Sign in with token"));

  render(main,
    h("section", { class: "card narrow", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Sign in to the agent workspace"),
      emailForm,
      h("h2", {}, "Or use a token"),
      tokenForm));
  email.focus();
}

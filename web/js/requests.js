// All of a customer's requests: requests.html#<token>, the link mailed to the customer's address when
// they asked for it on a portal page. Each request opens its own portal page.
import { createApi } from "./api.js";
import { loadConfig } from "./config.js";
import { h, render } from "./dom.js";
import { formatDateTime } from "./format.js";

function portalHref(url) {
  const at = String(url || "").indexOf("#");
  return at >= 0 ? `portal.html${url.slice(at)}` : "portal.html";
}

async function start() {
  const config = await loadConfig();
  const api = createApi({ apiBase: config.apiBase });
  const main = document.getElementById("main");
  const token = decodeURIComponent(window.location.hash.replace(/^#/, "")) || "";
  try {
    if (!token) throw Object.assign(new Error("incomplete"), { status: 400 });
    const data = await api.get(`/public/customer-requests/${encodeURIComponent(token)}`);
    if (!data.items.length) {
      render(main, h("p", { class: "empty" }, "You have no requests with us."));
    } else {
      render(main, h("table", { class: "other-requests", id: "requests-table" },
        h("caption", {}, `${data.items.length} request${data.items.length === 1 ? "" : "s"}`),
        h("thead", {}, h("tr", {}, ["Request", "Subject", "Status", "Last activity"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, data.items.map((item) => h("tr", {},
          h("th", { scope: "row" }, h("a", { href: portalHref(item.portal_url) }, item.ref)),
          h("td", {}, item.subject),
          h("td", {}, item.status_label),
          h("td", {}, h("time", { datetime: item.updated_at }, formatDateTime(item.updated_at))))))));
    }
  } catch (err) {
    const code = (err.problem && err.problem.code) || "";
    render(main, h("p", { class: "error", id: "requests-error" }, code === "link_expired"
      ? "This link has expired. Ask for a new one on any of your requests' pages."
      : err.status === 403 || err.status === 400
        ? "This link is not valid. Please use the link exactly as it is in our email."
        : `Your requests could not be loaded: ${err.message}`));
  }
  document.body.dataset.ready = "true";
}

start();

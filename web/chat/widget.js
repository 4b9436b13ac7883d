/*
 * Helpdesk chat widget: one <script> tag on any page.
 *
 *   <script src="https://support.example.com/chat/widget.js" data-api-base="https://api.example.com/api/v1" defer></script>
 *
 * data-api-base defaults to "<the script's origin>/api/v1"; data-title names the panel. Vanilla JS,
 * no build step, no dependencies. The conversation is a ticket (channel "chat"): the widget starts a
 * session (POST /public/chat/sessions), posts messages, reads GET .../messages?after=<cursor> when a
 * change is pushed (polling every 60 s only while push is disconnected), and ends (POST .../end: the transcript is mailed when an email was given). The session
 * token is kept in sessionStorage so a reload continues the conversation.
 *
 * Accessibility: a labelled launcher button (aria-expanded/aria-controls), a labelled dialog region,
 * labelled fields, the conversation as role="log" (aria-live polite: new messages are announced),
 * a status line (role="status"), Enter sends (Shift+Enter adds a line), Escape closes the panel and
 * returns focus to the launcher. Text is always set with textContent (never parsed as HTML).
 */
(function () {
  "use strict";
  if (window.HelpdeskChat) return;

  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var API = ((script && script.getAttribute("data-api-base")) || scriptOrigin + "/api/v1").replace(/\/$/, "");
  var TITLE = (script && script.getAttribute("data-title")) || "Chat with support";
  var STORE = "helpdesk-chat:" + API;
  var DEFAULT_POLL_MS = 3000;

  var state = { token: null, cursor: 0, timer: null, unsubscribe: null, pollMs: DEFAULT_POLL_MS, ended: false, busy: false, seen: {} };

  var CSS = [
    ".hdchat-launcher{position:fixed;right:1.25rem;bottom:1.25rem;z-index:2147483000;padding:.75rem 1.1rem;border-radius:2rem;",
    "border:0;background:#1d4ed8;color:#fff;font:600 1rem system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".hdchat-launcher:focus-visible,.hdchat-panel :focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".hdchat-panel{position:fixed;right:1.25rem;bottom:5rem;z-index:2147483000;width:min(24rem,calc(100vw - 2.5rem));",
    "max-height:min(36rem,calc(100vh - 7rem));display:flex;flex-direction:column;background:#fff;color:#111827;",
    "border:1px solid #d1d5db;border-radius:.75rem;box-shadow:0 10px 30px rgba(0,0,0,.2);font:1rem/1.4 system-ui,sans-serif}",
    ".hdchat-panel[hidden]{display:none}",
    ".hdchat-head{display:flex;align-items:center;justify-content:space-between;padding:.6rem .9rem;border-bottom:1px solid #e5e7eb}",
    ".hdchat-head h2{font-size:1.05rem;margin:0}",
    ".hdchat-body{padding:.75rem .9rem;overflow:auto;flex:1}",
    ".hdchat-field{display:flex;flex-direction:column;margin-bottom:.6rem}",
    ".hdchat-field label{font-weight:600;font-size:.9rem;margin-bottom:.2rem}",
    ".hdchat-field input,.hdchat-field textarea{font:inherit;padding:.45rem;border:1px solid #6b7280;border-radius:.35rem}",
    ".hdchat-btn{font:600 .95rem system-ui,sans-serif;padding:.45rem .9rem;border-radius:.35rem;border:1px solid #1d4ed8;",
    "background:#1d4ed8;color:#fff;cursor:pointer}",
    ".hdchat-btn.hdchat-secondary{background:#fff;color:#1d4ed8}",
    ".hdchat-log{list-style:none;margin:0 0 .6rem;padding:0}",
    ".hdchat-msg{margin:.35rem 0;padding:.45rem .6rem;border-radius:.5rem;max-width:85%;white-space:pre-wrap;word-wrap:break-word}",
    ".hdchat-msg.hdchat-customer{background:#dbeafe;margin-left:auto}",
    ".hdchat-msg.hdchat-agent{background:#f3f4f6}",
    ".hdchat-who{display:block;font-size:.78rem;font-weight:600;color:#374151}",
    ".hdchat-status{font-size:.88rem;color:#374151;min-height:1.2em;margin:.3rem 0}",
    ".hdchat-row{display:flex;gap:.5rem;justify-content:space-between;align-items:center}",
    ".hdchat-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function field(id, label, control) {
    control.id = id;
    return el("div", { className: "hdchat-field" }, [el("label", { "for": id, text: label }), control]);
  }

  // -- DOM -------------------------------------------------------------------------------------
  var style = el("style", { text: CSS });
  var launcher = el("button", { type: "button", className: "hdchat-launcher", "aria-expanded": "false",
                                "aria-controls": "hdchat-panel", text: TITLE });
  var closeBtn = el("button", { type: "button", className: "hdchat-btn hdchat-secondary", text: "Minimize",
                                "aria-label": "Minimize the chat" });
  var status = el("p", { className: "hdchat-status", role: "status", "aria-live": "polite" });

  var startName = el("input", { type: "text", name: "name", required: true, maxlength: "200", autocomplete: "name" });
  var startEmail = el("input", { type: "email", name: "email", maxlength: "254", autocomplete: "email" });
  var startMessage = el("textarea", { name: "message", rows: "3", required: true, maxlength: "20000" });
  var startForm = el("form", { className: "hdchat-start", novalidate: true }, [
    field("hdchat-name", "Your name", startName),
    field("hdchat-email", "Email (optional, for the transcript)", startEmail),
    field("hdchat-first", "How can we help?", startMessage),
    el("button", { type: "submit", className: "hdchat-btn", text: "Start chat" })
  ]);

  var log = el("ol", { className: "hdchat-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
                       "aria-label": "Conversation" });
  var input = el("textarea", { name: "body", rows: "2", required: true, maxlength: "20000",
                               "aria-describedby": "hdchat-hint" });
  var hint = el("span", { id: "hdchat-hint", className: "hdchat-sr", text: "Enter sends; Shift+Enter adds a new line." });
  var sendBtn = el("button", { type: "submit", className: "hdchat-btn", text: "Send" });
  var endBtn = el("button", { type: "button", className: "hdchat-btn hdchat-secondary", text: "End chat" });
  var messageForm = el("form", { className: "hdchat-compose", novalidate: true, hidden: true }, [
    field("hdchat-input", "Your message", input), hint,
    el("div", { className: "hdchat-row" }, [endBtn, sendBtn])
  ]);

  // Shown when the visitor gave an address: the code mailed to it proves the address is theirs.
  var codeInput = el("input", { type: "text", name: "code", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6",
                                autocomplete: "one-time-code" });
  var verifyForm = el("form", { className: "hdchat-verify", novalidate: true, hidden: true }, [
    field("hdchat-code", "Code we emailed you (confirms the address is yours)", codeInput),
    el("button", { type: "submit", className: "hdchat-btn hdchat-secondary", text: "Confirm" })
  ]);

  var panel = el("section", { id: "hdchat-panel", className: "hdchat-panel", role: "dialog", "aria-modal": "false",
                              "aria-labelledby": "hdchat-title", hidden: true }, [
    el("div", { className: "hdchat-head" }, [el("h2", { id: "hdchat-title", text: TITLE }), closeBtn]),
    el("div", { className: "hdchat-body" }, [log, startForm, verifyForm, messageForm, status])
  ]);

  // -- API -------------------------------------------------------------------------------------
  function request(method, path, body) {
    var init = { method: method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (res) {
      return res.text().then(function (text) {
        var doc = null;
        try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
        if (!res.ok) {
          var err = new Error((doc && doc.detail) || ("The chat service answered " + res.status));
          err.status = res.status;
          throw err;
        }
        return doc;
      });
    });
  }

  function say(text) { status.textContent = text || ""; }

  function remember() {
    try {
      if (state.token) sessionStorage.setItem(STORE, JSON.stringify({ token: state.token }));
      else sessionStorage.removeItem(STORE);
    } catch (e) { /* storage may be blocked: the chat still works for this page view */ }
  }

  // -- conversation ----------------------------------------------------------------------------
  function show(message) {
    if (state.seen[message.position]) return;
    state.seen[message.position] = true;
    var customer = message.author_type === "customer";
    var who = customer ? "You" : (message.author_name || "Support");
    var item = el("li", { className: "hdchat-msg " + (customer ? "hdchat-customer" : "hdchat-agent") }, [
      el("span", { className: "hdchat-who", text: who + ":" }),
      document.createTextNode(message.body)
    ]);
    log.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function poll() {
    if (!state.token || state.busy) return Promise.resolve();
    state.busy = true;
    return request("GET", "/public/chat/sessions/" + encodeURIComponent(state.token) + "/messages?after=" + state.cursor)
      .then(function (doc) {
        doc.messages.forEach(show);
        state.cursor = doc.cursor;
        if (doc.ended) finish("This chat has ended.");
      })
      .catch(function (err) {
        // 404 no such chat; 403/410 its token is refused or expired (helpdesk.auth.signing)
        if (err.status === 404 || err.status === 403 || err.status === 410) {
          reset(); say("This chat is no longer available; start a new one.");
        }
        else say(err.message);
      })
      .then(function () { state.busy = false; });
  }

  // New messages arrive by push (web/js/live.js beside this script: the session's own channel, its
  // token the credential); GET .../messages re-reads them. Polling only while push is disconnected
  // (every 60 s), or every 60 s when live updates cannot load at all.
  var LIVE_MODULE = script && script.src ? new URL("../js/live.js", script.src).href : scriptOrigin + "/js/live.js";
  var FALLBACK_MS = 60000;

  function schedule() {
    stopLive();
    var token = state.token;
    Promise.all([request("GET", "/public/chat/sessions/" + encodeURIComponent(token) + "/live"), import(LIVE_MODULE)])
      .then(function (loaded) {
        if (state.token !== token) return;
        var doc = loaded[0], live = loaded[1];
        live.configureLive({ realtime: doc.realtime, getToken: function () { return state.token; },
          fallbackSeconds: doc.fallback_poll_seconds });
        state.unsubscribe = live.subscribe(doc.channel, function (event) { if (event.kind === "change") poll(); },
          { fallback: poll });
      })
      .catch(function () {
        if (state.token === token) state.timer = setInterval(poll, FALLBACK_MS);
      });
  }

  function stopLive() {
    clearInterval(state.timer);
    if (state.unsubscribe) state.unsubscribe();
    state.unsubscribe = null;
  }

  function enterConversation() {
    startForm.hidden = true;
    messageForm.hidden = false;
    input.focus();
    schedule();
    return poll();
  }

  function finish(text) {
    stopLive();
    state.ended = true;
    messageForm.hidden = true;
    verifyForm.hidden = true;
    say(text);
    state.token = null;
    remember();
  }

  function reset() {
    stopLive();
    state.token = null; state.cursor = 0; state.ended = false; state.seen = {};
    log.textContent = "";
    messageForm.hidden = true;
    verifyForm.hidden = true;
    startForm.hidden = false;
    remember();
  }

  startForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!startName.value.trim()) { say("Please enter your name."); startName.focus(); return; }
    if (!startMessage.value.trim()) { say("Please write a message."); startMessage.focus(); return; }
    say("Starting the chat…");
    request("POST", "/public/chat/sessions", {
      name: startName.value.trim(), email: startEmail.value.trim() || null, message: startMessage.value
    }).then(function (doc) {
      state.token = doc.token;
      state.pollMs = doc.poll_interval_ms || DEFAULT_POLL_MS;
      remember();
      say("Connected (" + doc.ref + "). We will answer here.");
      verifyForm.hidden = doc.verification !== "code_sent";
      return enterConversation();
    }).catch(function (err) { say(err.message); });
  });

  verifyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!state.token || !/^[0-9]{6}$/.test(codeInput.value.trim())) { say("Please enter the 6-digit code."); return; }
    request("POST", "/public/chat/sessions/" + encodeURIComponent(state.token) + "/verify", { code: codeInput.value.trim() })
      .then(function () { verifyForm.hidden = true; say("Thank you, your address is confirmed."); input.focus(); })
      .catch(function (err) { say(err.message); });
  });

  var counter = 0;
  messageForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || !state.token) return;
    sendBtn.disabled = true;
    var clientId = Date.now().toString(36) + "-" + (counter++);
    request("POST", "/public/chat/sessions/" + encodeURIComponent(state.token) + "/messages",
            { body: text, client_message_id: clientId })
      .then(function () { input.value = ""; say(""); return poll(); })
      .catch(function (err) { say(err.message); })
      .then(function () { sendBtn.disabled = false; input.focus(); });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      messageForm.requestSubmit ? messageForm.requestSubmit() : sendBtn.click();
    }
  });

  endBtn.addEventListener("click", function () {
    if (!state.token) return;
    request("POST", "/public/chat/sessions/" + encodeURIComponent(state.token) + "/end")
      .then(function (doc) {
        finish(doc.transcript === "sent" ? "Chat ended. The transcript is on its way to your email."
               : "Chat ended. Thank you!");
        startForm.hidden = false;
        closeBtn.focus();
      })
      .catch(function (err) { say(err.message); });
  });

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    (state.token ? input : startName).focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });

  function mount() {
    document.head.appendChild(style);
    document.body.appendChild(launcher);
    document.body.appendChild(panel);
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      if (saved && saved.token) { state.token = saved.token; enterConversation(); }
    } catch (e) { /* nothing saved */ }
  }

  window.HelpdeskChat = { open: open, close: close, poll: poll };
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

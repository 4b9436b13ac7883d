// Live updates by push: one WebSocket per page to the Event API (AppSync Events' protocol; the local
// stack serves the same one). subscribe(channel, onEvent) hears what is published on a channel;
// while the socket is down each subscription's `fallback` runs every fallbackSeconds (slow polling,
// only then), once more on reconnect to catch up, and the socket is retried with backoff.
//
// Messages are thin signals ({kind: "change", type, ticket_id, ...}) or presence; pages re-read
// what changed through the REST API, which stays the one place that decides who sees what.

const PROTOCOL = "aws-appsync-event-ws";
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

const state = {
  realtime: null, // wss://<id>.appsync-realtime-api.<region>.amazonaws.com/event/realtime
  getToken: () => null,
  fallbackSeconds: 60,
  ws: null,
  connected: false,
  attempt: 0,
  retryTimer: null,
  idleTimer: null,
  keepAliveTimer: null,
  keepAliveMs: 300000,
  subs: new Map(), // subscription id -> { channel, onEvent, fallback, timer, acked }
  watchers: new Set(), // fn(connected)
  pending: new Map(), // publish id -> resolve
};

/** Point the module at the Event API (null: push is off, subscriptions only poll). */
export function configureLive({ realtime, getToken, fallbackSeconds = 60, self = null }) {
  const changed = realtime !== state.realtime;
  state.self = self;
  state.realtime = realtime || null;
  state.getToken = getToken || (() => null);
  state.fallbackSeconds = Number(fallbackSeconds) || 60;
  if (changed) {
    close();
    if (state.subs.size) connect();
  }
}

/** Who this page is on the Event API (an agent's Cognito sub), to recognise its own presence. */
export function selfId() {
  return state.self || null;
}

export function isConnected() {
  return state.connected;
}

/** fn(connected) on every change of the connection; returns a function that stops it. */
export function onConnectionChange(fn) {
  state.watchers.add(fn);
  return () => state.watchers.delete(fn);
}

/**
 * Hear every event published on `channel` (onEvent(event)). `fallback` (async, optional) re-reads
 * by HTTP: every fallbackSeconds while disconnected, and once after a reconnect. Returns unsubscribe.
 */
export function subscribe(channel, onEvent, { fallback = null } = {}) {
  clearTimeout(state.idleTimer);
  const id = uid();
  const sub = { channel, onEvent, fallback, timer: null, acked: false, missed: false };
  state.subs.set(id, sub);
  if (state.connected) sendSubscribe(id, sub);
  else {
    startFallback(sub);
    connect();
  }
  return () => {
    stopFallback(sub);
    state.subs.delete(id);
    if (state.connected) send({ type: "unsubscribe", id });
    // Navigating from one page to the next unsubscribes then subscribes: keep the socket a moment.
    if (!state.subs.size) state.idleTimer = setTimeout(() => !state.subs.size && close(), 10000);
  };
}

/** Publish one event on a channel over the socket; resolves true when the Event API accepted it. */
export function publish(channel, event) {
  if (!state.connected) return Promise.resolve(false);
  const id = uid();
  return new Promise((resolve) => {
    state.pending.set(id, resolve);
    send({ type: "publish", id, channel, events: [JSON.stringify(event)], authorization: authorization() });
    setTimeout(() => state.pending.delete(id) && resolve(false), 5000);
  });
}

function uid() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function authorization() {
  // AppSync wants the host of the HTTP endpoint beside the token; the local stand-in ignores it.
  const url = new URL(state.realtime);
  return { host: url.host.replace("appsync-realtime-api", "appsync-api"), Authorization: state.getToken() || "" };
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function sendSubscribe(id, sub) {
  send({ type: "subscribe", id, channel: sub.channel, authorization: authorization() });
}

function startFallback(sub) {
  if (!sub.fallback || sub.timer) return;
  sub.timer = setInterval(() => {
    if (!document.hidden) sub.fallback().catch((err) => console.warn("fallback refresh failed", err));
  }, state.fallbackSeconds * 1000);
}

function stopFallback(sub) {
  if (sub.timer) clearInterval(sub.timer);
  sub.timer = null;
}

function setConnected(connected) {
  if (state.connected === connected) return;
  state.connected = connected;
  for (const fn of state.watchers) fn(connected);
}

function connect() {
  if (!state.realtime || state.ws || state.retryTimer || !state.subs.size) return;
  let ws;
  try {
    ws = new WebSocket(state.realtime, [PROTOCOL, `header-${base64url(JSON.stringify(authorization()))}`]);
  } catch (err) {
    console.warn("live: cannot open the socket", err);
    scheduleReconnect();
    return;
  }
  state.ws = ws;
  ws.onopen = () => send({ type: "connection_init" });
  ws.onmessage = (msg) => onMessage(ws, msg);
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    lost();
    scheduleReconnect();
  };
  ws.onerror = () => {}; // onclose follows and schedules the retry
}

function lost() {
  clearTimeout(state.keepAliveTimer);
  setConnected(false);
  for (const sub of state.subs.values()) {
    if (sub.acked) sub.missed = true; // events may be published while we are away
    sub.acked = false;
    startFallback(sub);
  }
}

function scheduleReconnect() {
  if (state.retryTimer || !state.subs.size) return;
  const base = BACKOFF_MS[Math.min(state.attempt, BACKOFF_MS.length - 1)];
  state.attempt += 1;
  state.retryTimer = setTimeout(() => {
    state.retryTimer = null;
    connect();
  }, base / 2 + Math.random() * base / 2);
}

function close() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close();
  lost();
}

function armKeepAlive() {
  clearTimeout(state.keepAliveTimer);
  // No keep-alive within the announced timeout: the connection is dead even if the socket looks open.
  state.keepAliveTimer = setTimeout(() => state.ws && state.ws.close(), state.keepAliveMs);
}

function onMessage(ws, msg) {
  let message;
  try {
    message = JSON.parse(msg.data);
  } catch {
    return;
  }
  switch (message.type) {
    case "connection_ack":
      state.attempt = 0;
      state.keepAliveMs = Number(message.connectionTimeoutMs) || 300000;
      armKeepAlive();
      setConnected(true);
      for (const [id, sub] of state.subs) sendSubscribe(id, sub);
      break;
    case "ka":
      armKeepAlive();
      break;
    case "subscribe_success": {
      const sub = state.subs.get(message.id);
      if (!sub) break;
      sub.acked = true;
      stopFallback(sub);
      // Whatever happened while we were away: read it once now.
      if (sub.missed && sub.fallback) sub.fallback().catch(() => {});
      sub.missed = false;
      break;
    }
    case "subscribe_error":
      console.warn("live: subscription refused", message.errors);
      break;
    case "data": {
      const sub = state.subs.get(message.id);
      if (!sub) break;
      let event;
      try {
        event = typeof message.event === "string" ? JSON.parse(message.event) : message.event;
      } catch {
        break;
      }
      sub.onEvent(event);
      break;
    }
    case "publish_success":
    case "publish_error": {
      const resolve = state.pending.get(message.id);
      state.pending.delete(message.id);
      if (resolve) resolve(message.type === "publish_success");
      break;
    }
    case "connection_error":
      console.warn("live: connection refused", message.errors);
      break;
    default:
      break;
  }
}

// Who else is on a ticket (viewing it, or writing a reply): join() -> {beat, setActivity, leave}.
// Transport: push when connected (web/js/live.js: announcements on the ticket's channel, stamped by
// the Event API with the publisher's identity, helpdesk/push/access.py); otherwise a heartbeat to
// the API (POST /tickets/{id}/presence records mine and answers the others). Either way a tab
// re-announces itself every HEARTBEAT_MS and the others forget it after its ttl without news, so a
// closed tab or a crashed browser disappears by itself (a tab that closes normally also says so).
import { isConnected, onConnectionChange, publish, selfId, subscribe } from "./live.js";

const HEARTBEAT_MS = 15000;

export function joinTicket(api, ticketId, onOthers) {
  let activity = "viewing";
  let left = false;
  let usedHttp = false;
  const path = `/tickets/${encodeURIComponent(ticketId)}/presence`;
  const pushed = new Map(); // sub -> { name, activity, expires }

  function showPushed() {
    const now = Date.now();
    for (const [key, other] of pushed) if (other.expires <= now) pushed.delete(key);
    onOthers([...pushed.values()].map(({ name, activity: a }) => ({ name, activity: a })));
  }

  async function beat() {
    if (left) return;
    if (isConnected()) {
      publish(`/tickets/${ticketId}`, { kind: "presence", state: activity });
      showPushed(); // expire the silent ones
      return;
    }
    usedHttp = true;
    try {
      const answer = await api.post(path, { activity });
      // Push may have connected while the request was out: then the pushed announcements are what
      // the page shows, and this older answer (which knows nobody who only announced by push) is not.
      if (!left && !isConnected()) onOthers(answer.others || []);
    } catch (err) {
      if (!left && !isConnected()) onOthers(null, err); // unknown: the page says so instead of showing nobody
    }
  }

  const unsubscribe = subscribe(`/tickets/${ticketId}`, (event) => {
    if (left || event.kind !== "presence" || !event.agent || event.agent.sub === selfId()) return;
    const known = pushed.has(event.agent.sub);
    if (event.state === "left") pushed.delete(event.agent.sub);
    else pushed.set(event.agent.sub, { name: event.agent.name || event.agent.email, activity: event.state,
      expires: Date.now() + (Number(event.ttl_seconds) || 40) * 1000 });
    if (!known && event.state !== "left") beat(); // a newcomer learns about us without waiting a heartbeat
    showPushed();
  });
  const stopWatching = onConnectionChange((connected) => {
    pushed.clear(); // whoever was known through the other transport is unknown now
    beat();
  });
  const timer = setInterval(() => { if (!document.hidden) beat(); }, HEARTBEAT_MS);
  const onPageHide = () => leaveNow();

  function leaveNow() {
    if (left) return;
    if (isConnected()) publish(`/tickets/${ticketId}`, { kind: "presence", state: "left" });
    left = true;
    clearInterval(timer);
    window.removeEventListener("pagehide", onPageHide);
    stopWatching();
    unsubscribe();
    // keepalive: the request outlives the page when the tab closes
    if (usedHttp) api.request("DELETE", path, { keepalive: true }).catch(() => {});
  }
  window.addEventListener("pagehide", onPageHide);

  return {
    beat,
    /** "viewing" or "replying"; a change is sent at once so others see it before the next heartbeat. */
    setActivity(next) {
      if (next === activity) return;
      activity = next;
      beat();
    },
    leave: leaveNow,
  };
}

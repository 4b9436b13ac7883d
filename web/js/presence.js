// Who else is on a ticket (viewing it, or writing a reply). Today the transport is a heartbeat to the
// API on the ticket page's refresh tick: POST /tickets/{id}/presence records mine and answers the
// others (a heartbeat counts for `expires_in` seconds). The push channel (issue 20) can replace the
// transport behind this same interface: join() -> {beat, setActivity, leave}.

export function joinTicket(api, ticketId, onOthers) {
  let activity = "viewing";
  let left = false;
  const path = `/tickets/${encodeURIComponent(ticketId)}/presence`;

  async function beat() {
    if (left) return;
    try {
      const answer = await api.post(path, { activity });
      if (!left) onOthers(answer.others || []);
    } catch (err) {
      if (!left) onOthers(null, err); // unknown: the page says so instead of showing nobody
    }
  }

  return {
    beat,
    /** "viewing" or "replying"; a change is sent at once so others see it before the next tick. */
    setActivity(next) {
      if (next === activity) return;
      activity = next;
      beat();
    },
    leave() {
      if (left) return;
      left = true;
      // keepalive: the request outlives the page when the tab closes
      api.request("DELETE", path, { keepalive: true }).catch(() => {});
    },
  };
}

// "Now" as the server sees it. The local stack's dev clock can run ahead of real time
// (POST /api/v1/dev/clock), so SLA countdowns use the server's now, not the browser's.
export const serverClock = {
  offsetMs: 0,
  now() {
    return Date.now() + this.offsetMs;
  },
  /** Local stack only: GET {apiBase}/dev/clock -> {now}. In AWS the offset stays 0. */
  async sync(config) {
    if (config.auth !== "local") return;
    try {
      const res = await fetch(`${config.apiBase}/dev/clock`, { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const data = await res.json();
      const serverNow = Date.parse(data.now);
      if (!Number.isNaN(serverNow)) this.offsetMs = serverNow - Date.now();
    } catch (err) {
      // No dev clock: real time it is.
    }
  },
};

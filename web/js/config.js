// The deployment's settings live in config.json beside the pages (written by CDK in AWS,
// committed with local defaults): where the API is and how agents sign in.
const DEFAULTS = { apiBase: "/api/v1", auth: "local", cognito: {} };

let cached = null;

export async function loadConfig() {
  if (cached) return cached;
  let loaded = {};
  try {
    const res = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
    if (res.ok) loaded = await res.json();
  } catch (err) {
    console.warn("config.json not readable, using defaults", err);
  }
  cached = { ...DEFAULTS, ...loaded, cognito: { ...DEFAULTS.cognito, ...(loaded.cognito || {}) } };
  cached.apiBase = cached.apiBase.replace(/\/+$/, "");
  return cached;
}

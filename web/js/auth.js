// Sign-in providers. config.json names one: "local" (the local stack's dev token endpoint, or a
// pasted token) or "cognito" (the Cognito hosted UI, authorization code flow with PKCE).
// Either way the result is a bearer token kept in localStorage, so every tab of the workspace is
// signed in (and signing out in one tab signs out all: app.js listens for the storage event). The
// PKCE verifier of a sign-in in progress stays in the tab that started it (sessionStorage).

const TOKEN_KEY = "helpdesk.token";
const VERIFIER_KEY = "helpdesk.pkce";

export const TOKEN_STORAGE_KEY = TOKEN_KEY;

export function storedToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Local stack: POST {apiBase}/dev/token {email} -> {token}. Never exists in AWS. */
export const localAuth = {
  kind: "local",
  async signInWithEmail(config, email) {
    const res = await fetch(`${config.apiBase}/dev/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ email }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok || !data.token) {
      throw new Error(data.detail || data.title || `sign-in failed (HTTP ${res.status})`);
    }
    storeToken(data.token);
    return data.token;
  },
  signInWithToken(token) {
    storeToken(token.trim());
  },
  async signOut() {
    storeToken(null);
  },
  async completeRedirect() {
    return null;
  },
};

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function cognitoBase(config) {
  const domain = config.cognito.domain || "";
  return domain.startsWith("http") ? domain.replace(/\/+$/, "") : `https://${domain}`;
}

function redirectUri(config) {
  return config.cognito.redirectUri || new URL("index.html", document.baseURI).href;
}

/** Cognito hosted UI: the API Gateway Cognito authorizer reads the id token's claims. */
export const cognitoAuth = {
  kind: "cognito",
  async beginSignIn(config) {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem(VERIFIER_KEY, verifier);
    const params = new URLSearchParams({
      response_type: "code",
      client_id: config.cognito.clientId,
      redirect_uri: redirectUri(config),
      scope: (config.cognito.scopes || ["openid", "email"]).join(" "),
      code_challenge_method: "S256",
      code_challenge: challenge,
    });
    window.location.assign(`${cognitoBase(config)}/oauth2/authorize?${params}`);
  },
  /** Back from the hosted UI with ?code=...: exchange it for tokens, then clean the URL. */
  async completeRedirect(config) {
    const url = new URL(window.location.href);
    const code = url.searchParams.get("code");
    if (!code) return null;
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.cognito.clientId,
      code,
      redirect_uri: redirectUri(config),
      code_verifier: sessionStorage.getItem(VERIFIER_KEY) || "",
    });
    const res = await fetch(`${cognitoBase(config)}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const data = await res.json().catch(() => ({}));
    sessionStorage.removeItem(VERIFIER_KEY);
    url.searchParams.delete("code");
    url.searchParams.delete("state");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    if (!res.ok || !data.id_token) throw new Error(data.error_description || data.error || "Cognito sign-in failed");
    storeToken(data.id_token);
    return data.id_token;
  },
  async signOut(config) {
    storeToken(null);
    const params = new URLSearchParams({ client_id: config.cognito.clientId, logout_uri: redirectUri(config) });
    window.location.assign(`${cognitoBase(config)}/logout?${params}`);
  },
};

export function authProvider(config) {
  return config.auth === "cognito" ? cognitoAuth : localAuth;
}

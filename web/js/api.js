// A small client for the Helpdesk REST API (/api/v1). Errors are application/problem+json;
// they become ApiError carrying the problem's fields (detail, allowed, from, to, merged_into...).

export class ApiError extends Error {
  constructor(status, problem) {
    const text = (problem && (problem.detail || problem.title || problem.message)) || `HTTP ${status}`;
    super(text);
    this.status = status;
    this.problem = problem || {};
  }
}

export function createApi({ apiBase, getToken = () => null, onUnauthorized = () => {} }) {
  async function request(method, path, { body, query, headers = {}, keepalive = false } = {}) {
    let url = apiBase + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== null && v !== undefined && v !== "") params.append(k, String(v));
      }
      const qs = params.toString();
      if (qs) url += (url.includes("?") ? "&" : "?") + qs;
    }
    const init = { method, keepalive, headers: { Accept: "application/json, application/problem+json", ...headers } };
    const token = getToken();
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, { detail: `The API at ${apiBase} is not reachable (${err.message})` });
    }
    if (res.status === 204) return null;
    const type = res.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
    if (!res.ok) {
      if (res.status === 401) onUnauthorized();
      throw new ApiError(res.status, typeof data === "object" && data ? data : { detail: String(data || res.statusText) });
    }
    return data;
  }
  return {
    request,
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, opts = {}) => request("POST", path, { body, ...opts }),
    put: (path, body) => request("PUT", path, { body }),
    patch: (path, body) => request("PATCH", path, { body }),
    del: (path) => request("DELETE", path),
  };
}

/** A list answer may be {items: [...]} (paginated) or a bare array. */
export function itemsOf(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  if (data && Array.isArray(data.results)) return data.results;
  return [];
}

// The page's only way to the server: the public API v1 (docs/api.md). The token lives in
// sessionStorage (this tab only, gone when it closes) and goes out as a bearer header. Every
// mutating call sends Content-Type: application/json, which the server requires.

const tokenKey = 'sluice.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(tokenKey);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
}

export function authHeaders(): Record<string, string> {
  const t = getToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

// Listeners told about 401 (the token is gone or wrong): the shell shows the sign-in screen.
const unauthorized = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

export async function api<T>(method: string, path: string, body?: unknown, extra?: Record<string, string>): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(), ...extra };
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the server did not answer (${(e as Error).message})`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401) for (const fn of unauthorized) fn();
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

// The daemon's Prometheus text (/metrics, docs/operations.md). It goes out with the session's
// token like every API call: with `server.metrics_auth: true` the server refuses it without one
// (401). A refusal is the caller's to show, not a sign-out: the API calls say whether the token
// still holds.
export async function metricsText(): Promise<string> {
  let res: Response;
  try {
    res = await fetch('/metrics', { headers: authHeaders(), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the server did not answer (${(e as Error).message})`);
  }
  if (!res.ok) throw new ApiError(res.status, 'http_' + res.status, `/metrics answered HTTP ${res.status}`);
  return res.text();
}

// Answers asked for before the view that reads them exists: the first view's data goes out
// with the session call instead of after it (docs/benchmarks.md#admin-page-at-size). Each is
// keyed by what it reads (an API path, or /readyz, /livez, /metrics), taken once, only while
// fresh and only with the token it was asked with (a sign-in in between reads the server again).
const early = new Map<string, { at: number; token: string | null; answer: Promise<unknown> }>();
const earlyFreshMs = 5000;

// Starts `read` now; the first `takeEarly(key, ...)` within earlyFreshMs gets its answer.
export function prefetchRead(key: string, read: () => Promise<unknown>): void {
  if (early.has(key)) return;
  const answer = read();
  answer.catch(() => undefined);  // the view that takes it sees the error
  early.set(key, { at: Date.now(), token: getToken(), answer });
}

// The answer prefetched under `key` when there is a fresh one, else `read()`.
export function takeEarly<T>(key: string, read: () => Promise<T>): Promise<T> {
  const e = early.get(key);
  if (e) {
    early.delete(key);
    if (Date.now() - e.at < earlyFreshMs && e.token === getToken()) return e.answer as Promise<T>;
  }
  return read();
}

export const prefetch = (path: string): void => prefetchRead(path, () => api<unknown>('GET', path));
export const get = <T>(path: string): Promise<T> => takeEarly(path, () => api<T>('GET', path));
export const post = <T>(path: string, body?: unknown, extra?: Record<string, string>) => api<T>('POST', path, body, extra);

// A path segment, escaped.
export const seg = (s: string | number) => encodeURIComponent(String(s));

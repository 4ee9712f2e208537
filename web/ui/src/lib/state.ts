// Page-wide state: who is signed in, the chosen time zone and theme, the shared event stream
// and a clock that ticks once a second for relative times.
import { computed, signal } from '@preact/signals';
import { ApiError, authHeaders, get, getToken, onUnauthorized, setToken } from './api';
import { EventStream, type StreamStatus } from './stream';
import type { ZoneChoice } from './time';
import type { Session } from './types';

export const session = signal<Session | null>(null);
export const sessionError = signal<string | null>(null);
export const needsSignIn = signal(false);
export const canOperate = computed(() => session.value?.role === 'operator' || session.value?.role === 'admin');
export const isAdmin = computed(() => session.value?.role === 'admin');

function stored<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
  try {
    const v = localStorage.getItem(key) as T | null;
    return v && allowed.includes(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

export const zoneChoice = signal<ZoneChoice>(stored('sluice.zone', 'utc', ['utc', 'local', 'job'] as const));
export function setZone(z: ZoneChoice): void {
  zoneChoice.value = z;
  localStorage.setItem('sluice.zone', z);
}

export type Theme = 'auto' | 'light' | 'dark';
export const theme = signal<Theme>(stored('sluice.theme', 'auto', ['auto', 'light', 'dark'] as const));
// Shows theme `t` and, when `remember`, keeps it for the next visit. The page's start only shows
// the stored one: a write there was one more storage call before the first render.
export function applyTheme(t: Theme, remember = true): void {
  theme.value = t;
  if (remember) localStorage.setItem('sluice.theme', t);
  if (t === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
}

export const now = signal(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1000);

export const stream = new EventStream({
  fetch: (url, init) => fetch(url, init),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  headers: authHeaders,
});
export const streamStatus = signal<StreamStatus>('stopped');
stream.onStatus((s) => {
  streamStatus.value = s;
});

// Asks the server who this token is; without tokens configured everyone is admin on loopback.
export async function loadSession(): Promise<void> {
  try {
    session.value = await get<Session>('/api/v1/session');
    needsSignIn.value = false;
    sessionError.value = null;
    stream.start();
  } catch (e) {
    session.value = null;
    if (e instanceof ApiError && e.status === 401) {
      needsSignIn.value = true;
      sessionError.value = getToken() ? 'The server does not accept this token.' : null;
    } else {
      sessionError.value = (e as Error).message;
    }
  }
}

export async function signIn(token: string): Promise<void> {
  setToken(token.trim());
  await loadSession();
  if (!session.value) setToken(null);
}

export function signOut(): void {
  setToken(null);
  stream.stop();
  session.value = null;
  needsSignIn.value = true;
  sessionError.value = null;
}

onUnauthorized(() => {
  if (session.value?.auth) {
    setToken(null);
    stream.stop();
    session.value = null;
    needsSignIn.value = true;
    sessionError.value = 'Your token is no longer accepted. Sign in again.';
  }
});

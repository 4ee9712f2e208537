// One event stream per tab (GET /api/v1/events), read with fetch streaming so that the bearer
// token goes in a header, never in a URL. Every view subscribes to this one connection. On a
// drop it reconnects with capped exponential backoff and sends Last-Event-ID (the store id of
// the last event it got): the server replays what the tab missed, in order, before going live,
// or sends a `reset` event when too much happened meanwhile (docs/api.md), which listeners take
// as "read your views again". An event whose id it has already passed is never delivered twice.
import { SseParser } from './sse';

export interface ServerEvent {
  id: string | null;
  kind: string;
  at?: string;
  job?: string | null;
  run?: number | null;
  task?: string | null;
  actor?: string | null;
  payload?: Record<string, unknown> | null;
}

export type StreamStatus = 'connecting' | 'open' | 'retrying' | 'denied' | 'stopped';

export interface StreamDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  sleep: (ms: number) => Promise<void>;
  headers: () => Record<string, string>;
}

// Delay before reconnect attempt `n` (0-based): 0.5 s doubling up to 30 s.
export function backoff(attempt: number): number {
  return Math.min(30000, 500 * 2 ** Math.min(attempt, 16));
}

export class EventStream {
  private listeners = new Set<(e: ServerEvent) => void>();
  private statusListeners = new Set<(s: StreamStatus) => void>();
  private abort: AbortController | null = null;
  private running = false;
  // Bumped by every start and stop: a loop from before a stop never continues after a restart.
  private generation = 0;
  lastEventId: string | null = null;
  // The newest store id delivered: a replay that overlaps what was seen is dropped here.
  private newest = 0;
  status: StreamStatus = 'stopped';
  // Connections made so far (the first one included).
  connections = 0;

  constructor(private deps: StreamDeps, private url = '/api/v1/events') {}

  subscribe(fn: (e: ServerEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onStatus(fn: (s: StreamStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop(++this.generation);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.abort?.abort();
    this.setStatus('stopped');
  }

  private setStatus(s: StreamStatus): void {
    if (this.status === s) return;
    this.status = s;
    for (const fn of this.statusListeners) fn(s);
  }

  private async loop(generation: number): Promise<void> {
    let attempt = 0;
    const live = () => this.running && this.generation === generation;
    while (live()) {
      this.setStatus(attempt === 0 ? 'connecting' : 'retrying');
      try {
        if (await this.connectOnce(() => { attempt = 0; })) return;
      } catch {
        // A network error or a dropped stream: retried below.
      }
      if (!live()) return;
      this.setStatus('retrying');
      await this.deps.sleep(backoff(attempt++));
    }
  }

  // One connection until it ends; true when retrying is pointless (auth refused).
  private async connectOnce(onOpen: () => void): Promise<boolean> {
    this.abort = new AbortController();
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.deps.headers() };
    if (this.lastEventId !== null) headers['Last-Event-ID'] = this.lastEventId;
    this.connections++;
    const res = await this.deps.fetch(this.url, { headers, signal: this.abort.signal, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      this.setStatus('denied');
      this.running = false;
      return true;
    }
    if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
    onOpen();
    this.setStatus('open');
    const parser = new SseParser();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.feed(value)) {
        if (ev.id !== null) this.lastEventId = ev.id;
        let body: Partial<Omit<ServerEvent, 'id'>> & { id?: unknown } = {};
        try {
          body = JSON.parse(ev.data) as typeof body;
        } catch {
          continue;
        }
        // Only stored events carry an id in their data (progress has none and is never replayed).
        const stored = typeof body.id === 'number' ? body.id : null;
        if (stored !== null) {
          if (stored <= this.newest && ev.event !== 'reset') continue;
          this.newest = stored;
        }
        const e: ServerEvent = { ...body, id: stored !== null ? String(stored) : null, kind: body.kind ?? ev.event };
        for (const fn of this.listeners) fn(e);
      }
    }
    return false;
  }
}

// Times and durations as the page shows them: one chosen zone, always with its offset, so that
// a time read off the page means one instant (docs/ui.md#times).

export type ZoneChoice = 'utc' | 'local' | 'job';

// The IANA zone a choice means for a job (job zone falls back to UTC when unknown).
export function resolveZone(choice: ZoneChoice, jobZone?: string | null): string {
  if (choice === 'utc') return 'UTC';
  if (choice === 'local') return browserZone();
  return jobZone || 'UTC';
}

// The browser's zone, asked once: each Intl.DateTimeFormat made costs a few milliseconds, and
// every time on the page resolves its zone (docs/benchmarks.md#admin-page-first-render).
let localZone: string | null = null;
function browserZone(): string {
  localZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return localZone;
}

const partsCache = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = partsCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23',
    });
    partsCache.set(zone, f);
  }
  return f;
}

interface WallClock { year: number; month: number; day: number; hour: number; minute: number; second: number }

// UTC, the default zone, is read off the Date itself: the first Intl.DateTimeFormat of a page
// costs tens of milliseconds (its zone data), more than drawing a table of times
// (docs/benchmarks.md#admin-page-first-render).
function wallClock(ms: number, zone: string): WallClock {
  if (zone === 'UTC') {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { year: p.year, month: p.month, day: p.day, hour: p.hour % 24, minute: p.minute, second: p.second };
}

// The zone's offset from UTC at an instant, in minutes (east positive).
export function offsetMinutes(ms: number, zone: string): number {
  return offsetOf(ms, wallClock(ms, zone));
}

// The offset of the zone whose wall clock at instant `ms` is `w`.
function offsetOf(ms: number, w: WallClock): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

// "2026-03-29 03:30:00 +02:00": the instant's wall clock in `zone` and that zone's offset then.
export function formatInstant(iso: string | number | null | undefined, zone: string, withDate = true): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const w = wallClock(ms, zone);
  const time = `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  const date = `${w.year}-${pad(w.month)}-${pad(w.day)}`;
  return `${withDate ? date + ' ' : ''}${time} ${formatOffset(offsetOf(ms, w))}`;
}

// "1.2 s", "3 min 04 s", "2 h 05 min", "3 d 4 h".
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${pad(m)} min`;
  return `${m} min ${pad(sec)} s`;
}

// "in 4 min", "12 s ago", "now".
export function formatRelative(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '—';
  const delta = ms - now;
  if (Math.abs(delta) < 1000) return 'now';
  const text = formatDuration(Math.abs(delta)).replace(/\.\d/, '');
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

// Milliseconds between two instants (the second defaults to now), or null.
export function between(start: string | null | undefined, end: string | null | undefined, now: number): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return Number.isNaN(a) || Number.isNaN(b) ? null : b - a;
}

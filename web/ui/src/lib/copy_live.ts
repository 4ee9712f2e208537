// A copy's live figures from its task.progress reports (docs/api.md#logs-and-events): the last
// report of the attempt being watched and a throughput series for its sparkline. The reports
// carry running totals; the series is the rows written between two reports over the time
// between them, so it shows the copy slowing down or speeding up, which the running average
// (rows_per_second) flattens.

// The fields of a copy's progress report (a task's own `::sluice metric` reports differ).
export interface CopyReport {
  rows_read?: number;
  rows_reread?: number;
  rows_written?: number;
  rows_deleted?: number;
  bytes?: number;
  batches?: number;
  rows_per_second?: number;
  lag_seconds?: number;
  mark?: unknown;
  done?: boolean;
  try?: number;
}

export interface LiveCopy {
  run: number;
  try: number;
  report: CopyReport;
  // Rows per second between consecutive reports, oldest first, at most maxSamples.
  series: number[];
  // When the last report arrived (ms) and its rows written: the next sample's base.
  at: number;
  written: number;
}

// Samples kept per copy: a minute or more of reports (a copy reports at most once a second).
export const maxSamples = 60;
// Reports closer than this are merged into the next sample: a rate over a few milliseconds
// (two reports delivered together after a stall) would be a meaningless spike.
const minSampleMs = 250;

// Whether a task.progress payload is a copy's report rather than a single metric.
export function isCopyReport(payload: Record<string, unknown> | null | undefined): payload is Record<string, unknown> & CopyReport {
  return !!payload && typeof payload.rows_written === 'number' && typeof payload.batches === 'number';
}

// The live state after one more report of run `run`, received at `now` (ms). A report of a
// newer run or try starts over; one of an older run (late, out of order) is ignored.
export function applyReport(prev: LiveCopy | undefined, run: number, report: CopyReport, now: number): LiveCopy {
  const attempt = report.try ?? 1;
  const written = report.rows_written ?? 0;
  if (prev && (run < prev.run || (run === prev.run && attempt < prev.try))) return prev;
  if (!prev || run !== prev.run || attempt !== prev.try) {
    const first = report.rows_per_second;
    return { run, try: attempt, report, series: typeof first === 'number' ? [first] : [], at: now, written };
  }
  const dt = now - prev.at;
  if (dt < minSampleMs) return { ...prev, report };
  const rate = Math.max(0, written - prev.written) / (dt / 1000);
  const series = [...prev.series, rate].slice(-maxSamples);
  return { run, try: attempt, report, series, at: now, written };
}

// A mark as shown: the cursor values joined ("2026-01-01 10:00:00, 42"), or — when there is none.
export function formatMark(mark: unknown): string {
  if (mark === null || mark === undefined) return '—';
  if (Array.isArray(mark)) return mark.map((v) => String(v)).join(', ');
  if (typeof mark === 'object') {
    const inner = (mark as { mark?: unknown }).mark;
    return inner === undefined ? JSON.stringify(mark) : formatMark(inner);
  }
  return String(mark);
}

// A count with thousands separators, or — when absent.
export function formatCount(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

// Rows per second: one decimal below 10, whole numbers above.
export function formatRate(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
}

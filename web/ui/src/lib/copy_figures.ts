// Which figures a copy's row shows: live reports or the stored metrics of its last attempt.
import { formatRate, type CopyReport, type LiveCopy } from './copy_live';
import type { CopyRecent, CopyTask } from './types';

export interface CopyFigures {
  run: number | null;
  state: string | null;
  report: CopyReport;
  live: boolean;
  series: number[];
  seriesLabel: string;
}

// What a row shows: the live reports of the run being watched while the stored task is that
// run's (or an older one, not yet re-read) and still running; otherwise the stored metrics of
// its last attempt, with the rows/s of its recent runs as the sparkline.
export function copyFigures(c: CopyTask, live: LiveCopy | undefined): CopyFigures {
  const latest = c.latest;
  const running = latest?.state === 'running';
  if (live && (!latest || live.run > latest.run || (live.run === latest.run && running))) {
    return {
      run: live.run,
      state: 'running',
      report: { ...(latest?.run === live.run ? latest.metrics : {}), ...live.report },
      live: true,
      series: live.series,
      seriesLabel: `rows per second of run ${live.run}, last ${live.series.length} reports`,
    };
  }
  const recent = runsThroughput(c.recent, null);
  return {
    run: latest?.run ?? null,
    state: latest?.state ?? null,
    report: (latest?.metrics ?? {}) as CopyReport,
    live: false,
    series: recent.values,
    seriesLabel: recent.label,
  };
}

export interface RunsThroughput {
  // Rows per second of each recent run that reported it, oldest first.
  values: number[];
  // The index in `values` of run `run`, or -1 when it is not among them.
  highlight: number;
  label: string;
}

// The sparkline of an ended copy: the rows/s of its recent runs (`recent` newest first, as
// GET /api/v1/copies gives them), with run `run`'s point found when it is one of them.
export function runsThroughput(recent: readonly CopyRecent[], run: number | null): RunsThroughput {
  const measured = recent.filter((r) => typeof r.rows_per_second === 'number').reverse();
  const highlight = run === null ? -1 : measured.findIndex((r) => r.run === run);
  const n = measured.length;
  const label = `rows per second of the last ${n} run${n === 1 ? '' : 's'}` +
    (highlight >= 0 ? `, run ${run} at ${formatRate(measured[highlight].rows_per_second)}` : '');
  return { values: measured.map((r) => r.rows_per_second as number), highlight, label };
}


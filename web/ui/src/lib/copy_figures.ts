// Which figures a copy's row shows: live reports or the stored metrics of its last attempt.
import type { CopyReport, LiveCopy } from './copy_live';
import type { CopyTask } from './types';

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
  const recent = c.recent.map((r) => r.rows_per_second).filter((v): v is number => typeof v === 'number').reverse();
  return {
    run: latest?.run ?? null,
    state: latest?.state ?? null,
    report: (latest?.metrics ?? {}) as CopyReport,
    live: false,
    series: recent,
    seriesLabel: `rows per second of the last ${recent.length} runs`,
  };
}


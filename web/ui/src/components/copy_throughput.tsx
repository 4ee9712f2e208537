// A copy task's throughput on its page. While its attempt runs: the rows/s between its reports,
// collected by the tab (lib/copy_feed.ts). Once it ended: what the copies page shows for an
// ended copy, the rows/s of the task's recent runs (GET /api/v1/copies), this run's point marked.
import { get } from '../lib/api';
import { copiesPath } from '../lib/api_paths';
import { copyKey, liveCopies } from '../lib/copy_feed';
import { runsThroughput } from '../lib/copy_figures';
import type { CopyTask } from '../lib/types';
import { useResource } from './common';
import { Sparkline } from './sparkline';

export function CopyThroughput({ job, task, run, state, ended }: { job: string; task: string; run: number; state: string; ended: boolean }) {
  // Keyed by the task's state: the history is read again once this run's figures are final.
  const history = useResource(`copy-history:${job}:${task}:${ended ? state : ''}`,
    () => (ended ? get<{ copies: CopyTask[] }>(copiesPath(job)).then((r) => r.copies.find((c) => c.task === task) ?? null) : Promise.resolve(null)));
  if (ended) {
    const recent = history.data ? runsThroughput(history.data.recent, run) : null;
    if (!recent || recent.values.length === 0) return null;
    return (
      <p class="task-spark" data-series="runs">
        <span class="muted small">rows/s, last {recent.values.length} run{recent.values.length === 1 ? '' : 's'}</span>
        <Sparkline values={recent.values} label={recent.label} highlight={recent.highlight} width={240} height={32} />
      </p>
    );
  }
  const live = liveCopies.value.get(copyKey(job, task));
  const series = live && live.run === run ? live.series : [];
  if (series.length < 2) return null;
  return (
    <p class="task-spark" data-series="reports">
      <span class="muted small">rows/s</span>
      <Sparkline values={series} label={`rows per second, last ${series.length} reports`} width={240} height={32} />
    </p>
  );
}

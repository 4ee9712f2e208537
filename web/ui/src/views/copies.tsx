// Every copy task: while it runs, its live figures from the event stream (rows read and
// written, rows/s, batches, mark, lag, a throughput sparkline); after it ends, the same figures
// from its last attempt's metrics (GET /api/v1/copies), with the throughput of its recent runs.
import { useRef } from 'preact/hooks';
import { get, seg } from '../lib/api';
import { copiesPath } from '../lib/api_paths';
import { copyKey, liveCopies, watchCopies } from '../lib/copy_feed';
import { copyFigures } from '../lib/copy_figures';
import { formatCount, formatMark, formatRate, type LiveCopy } from '../lib/copy_live';
import { loc, setQuery } from '../lib/router';
import { formatDuration } from '../lib/time';
import type { CopyTask } from '../lib/types';
import { ErrorBox, Loading, PageHeader, StateBadge, Time, useResource } from '../components/common';
import { Sparkline } from '../components/sparkline';

const lagText = (lag: unknown) => (typeof lag === 'number' ? formatDuration(lag * 1000) : '—');

function CopyRow({ c, live }: { c: CopyTask; live: LiveCopy | undefined }) {
  const f = copyFigures(c, live);
  const r = f.report;
  const stored = c.checkpoint && typeof c.checkpoint.value === 'object' ? c.checkpoint.value.mark : undefined;
  const mark = r.mark !== undefined ? r.mark : stored;
  const taskHref = f.run !== null ? `/runs/${f.run}/tasks/${seg(c.task)}` : null;
  return (
    <tr data-copy={`${c.job}/${c.task}`} data-live={f.live ? 'true' : 'false'}>
      <td class="copy-name">
        <a class="strong" href={`/jobs/${seg(c.job)}`}>{c.job}</a> <span class="muted">/</span>{' '}
        {taskHref ? <a class="mono" href={taskHref}>{c.task}</a> : <span class="mono">{c.task}</span>}
        <div class="muted small copy-route">{c.source} → {c.sink}</div>
      </td>
      <td class="copy-state">{f.state ? <StateBadge state={f.state} /> : <span class="muted">never ran</span>}</td>
      <td class="num opt" data-figure="rows_read">{formatCount(r.rows_read)}</td>
      <td class="num" data-figure="rows_written" data-label="Rows written">{formatCount(r.rows_written)}</td>
      <td class="num" data-figure="rows_per_second" data-label="Rows/s">{formatRate(r.rows_per_second)}</td>
      <td class="num opt" data-figure="batches">{formatCount(r.batches)}</td>
      <td class="mono clip opt mark" data-figure="mark" data-label="Mark" title={formatMark(mark)}>{formatMark(mark)}</td>
      <td class="num" data-figure="lag" data-label="Lag">{lagText(r.lag_seconds)}</td>
      <td class="spark" data-label="Throughput"><Sparkline values={f.series} label={f.seriesLabel} /></td>
      <td class="opt">{c.latest ? <Time at={c.latest.finished_at ?? c.latest.started_at} /> : <span class="muted">—</span>}</td>
    </tr>
  );
}

export function CopiesView() {
  watchCopies();
  const job = loc.value.query.get('job') ?? '';
  // Only the listed copy tasks' state changes re-read the list (their figures are final then).
  const listed = useRef(new Set<string>());
  const list = useResource<{ copies: CopyTask[] }>('copies:' + job, () => get(copiesPath(job)),
    (e) => (e.kind === 'task.state' || e.kind === 'task.mark') && !!e.job && !!e.task && listed.current.has(copyKey(e.job, e.task)));
  const copies = list.data?.copies ?? [];
  listed.current = new Set(copies.map((c) => copyKey(c.job, c.task)));
  const live = liveCopies.value;
  const running = copies.filter((c) => copyFigures(c, live.get(copyKey(c.job, c.task))).live).length;
  return (
    <main class="page">
      <PageHeader
        title="Copies"
        sub={<span class="meta"><span>{copies.length} copy task{copies.length === 1 ? '' : 's'}</span><span>{running} running</span></span>}
      />
      <div class="filters" role="search">
        <input type="search" placeholder="Job name" aria-label="Job" value={job} onChange={(e) => setQuery({ job: e.currentTarget.value.trim() })} />
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table copies">
            <thead>
              <tr>
                <th scope="col">Copy</th><th scope="col">State</th>
                <th scope="col" class="num opt">Rows read</th><th scope="col" class="num">Rows written</th>
                <th scope="col" class="num">Rows/s</th><th scope="col" class="num opt">Batches</th>
                <th scope="col" class="opt">Mark</th><th scope="col" class="num">Lag</th>
                <th scope="col">Throughput</th><th scope="col" class="opt">Last run</th>
              </tr>
            </thead>
            <tbody>
              {copies.map((c) => <CopyRow key={copyKey(c.job, c.task)} c={c} live={live.get(copyKey(c.job, c.task))} />)}
              {copies.length === 0 && <tr><td colSpan={10} class="muted center">{job ? 'No copy task in this job.' : 'No job has a copy task.'}</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

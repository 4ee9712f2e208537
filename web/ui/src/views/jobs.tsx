// Every job: schedule and zone, next fire, paused switch, its last 25 runs, and Trigger.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get, post, seg } from '../lib/api';
import { jobsPath } from '../lib/api_paths';
import { loc, setQuery } from '../lib/router';
import { canOperate } from '../lib/state';
import type { JobSummary, Run, RunPage } from '../lib/types';
import { ErrorBox, Loading, PageHeader, Time, useEvents, useResource } from '../components/common';
import { memo } from '../components/memo';
import { RunStrip } from '../components/run_strip';

// The last runs of each job, read a few jobs at a time.
function useRecentRuns(jobs: JobSummary[] | null) {
  const [runs, setRuns] = useState<Record<string, Run[]>>({});
  const [stale, setStale] = useState<Set<string>>(new Set());
  const names = jobs?.map((j) => j.name).join('\n') ?? '';
  const load = async (list: string[]) => {
    const queue = [...list];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        try {
          const page = await get<RunPage>(`/api/v1/runs?job=${seg(name)}&limit=25`);
          setRuns((r) => ({ ...r, [name!]: page.runs }));
        } catch {
          // The row keeps its previous strip; the jobs list shows errors of its own.
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
  useEffect(() => {
    if (names) void load(names.split('\n'));
  }, [names]);
  useEvents((e) => {
    if (e.kind === 'run.state' && e.job) setStale((s) => new Set(s).add(e.job!));
  }, []);
  useEffect(() => {
    if (stale.size === 0) return;
    const t = setTimeout(() => {
      const list = [...stale];
      setStale(new Set());
      void load(list);
    }, 300);
    return () => clearTimeout(t);
  }, [stale]);
  return runs;
}

function PausedSwitch({ job, onChanged }: { job: JobSummary; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!canOperate.value) return job.paused ? <span class="badge st-paused">paused</span> : <span class="muted small">active</span>;
  return (
    <label class="switch" title={error ?? (job.paused ? 'paused: no scheduled runs' : 'active')}>
      <input
        type="checkbox"
        role="switch"
        checked={!job.paused}
        disabled={busy}
        aria-label={`${job.name} active`}
        onChange={async () => {
          setBusy(true);
          setError(null);
          try {
            await post(`/api/v1/jobs/${seg(job.name)}/${job.paused ? 'unpause' : 'pause'}`);
            onChanged();
          } catch (e) {
            setError((e as ApiError).message);
          } finally {
            setBusy(false);
          }
        }}
      />
      <span class="track" aria-hidden="true" />
    </label>
  );
}

// One job's row. Memoized: the strips arrive one job at a time (useRecentRuns), and each answer
// redrew every row of the table before (docs/benchmarks.md#admin-page-first-render).
const JobRow = memo(function JobRow({ job: j, runs, onChanged }: { job: JobSummary; runs: Run[] | null; onChanged: () => void }) {
  return (
    <tr data-job={j.name}>
      <td>
        <a class="strong" href={`/jobs/${seg(j.name)}`}>{j.name}</a>
        {j.description && <div class="muted small clip">{j.description}</div>}
        {(j.tags ?? []).length > 0 && <div class="tags">{j.tags!.map((t) => <span key={t} class="tag">{t}</span>)}</div>}
      </td>
      <td>
        {j.schedule ? (
          <>
            <div class="clip" title={j.schedule_description ?? undefined}>{j.schedule_description ?? j.schedule}</div>
            <div class="muted small nowrap"><code>{j.schedule}</code> · {j.timezone}</div>
          </>
        ) : <span class="muted">manual only</span>}
      </td>
      <td class="next">{j.paused ? <span class="muted">paused</span> : <Time at={j.next_fire} jobZone={j.timezone} relative />}</td>
      <td><RunStrip runs={runs} /></td>
      <td class="num">
        {j.active_runs > 0 ? <span class="badge st-running">{j.active_runs}</span> : <span class="muted">0</span>}
        {j.waiting_runs > 0 && <span class="muted small"> +{j.waiting_runs}</span>}
      </td>
      <td><PausedSwitch job={j} onChanged={onChanged} /></td>
      <td class="right">
        {canOperate.value && <a class="btn small" href={`/jobs/${seg(j.name)}/trigger`}>Trigger</a>}
      </td>
    </tr>
  );
});

export function JobsView() {
  const jobs = useResource('jobs', () => get<{ jobs: JobSummary[] }>(jobsPath()).then((r) => r.jobs),
    (e) => e.kind === 'job.paused' || e.kind === 'job.unpaused' || e.kind === 'run.state');
  const runs = useRecentRuns(jobs.data);
  const q = loc.value.query;
  const text = q.get('q') ?? '';
  const tag = q.get('tag') ?? '';
  const state = q.get('state') ?? '';
  const tags = useMemo(() => [...new Set((jobs.data ?? []).flatMap((j) => j.tags ?? []))].sort(), [jobs.data]);
  const shown = (jobs.data ?? []).filter((j) => {
    if (text && !j.name.toLowerCase().includes(text.toLowerCase()) && !(j.description ?? '').toLowerCase().includes(text.toLowerCase())) return false;
    if (tag && !(j.tags ?? []).includes(tag)) return false;
    if (state === 'paused') return j.paused;
    if (state === 'running') return j.active_runs > 0;
    if (state) return runs[j.name]?.[0]?.state === state;
    return true;
  });
  return (
    <main class="page">
      <PageHeader title="Jobs" sub={jobs.data ? `${jobs.data.length} jobs` : undefined} />
      <div class="filters" role="search">
        <input type="search" placeholder="Filter by name" aria-label="Filter by name" value={text} onInput={(e) => setQuery({ q: e.currentTarget.value })} />
        <select aria-label="Tag" value={tag} onChange={(e) => setQuery({ tag: e.currentTarget.value })}>
          <option value="">All tags</option>
          {tags.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
        <select aria-label="State" value={state} onChange={(e) => setQuery({ state: e.currentTarget.value })}>
          <option value="">Any state</option>
          <option value="running">Running now</option>
          <option value="failed">Last run failed</option>
          <option value="success">Last run succeeded</option>
          <option value="paused">Paused</option>
        </select>
      </div>
      <ErrorBox error={jobs.error} />
      {jobs.loading && !jobs.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Schedule</th>
                <th scope="col">Next fire</th>
                <th scope="col">Last 25 runs</th>
                <th scope="col" class="num">Running</th>
                <th scope="col">Enabled</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {shown.map((j) => <JobRow key={j.name} job={j} runs={runs[j.name] ?? null} onChanged={jobs.reload} />)}
              {shown.length === 0 && (
                <tr><td colSpan={7} class="muted center">No job matches these filters.</td></tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

// Health at a glance: readiness, the last configuration reload, schedule lateness, what runs
// now, the latest failures and a timeline of every job's fires in the next 24 hours.
import { ApiError, get } from '../lib/api';
import { failuresPath, jobsPath, schedulePath } from '../lib/api_paths';
import { lateness, livez, readyz } from '../lib/health';
import type { HistogramSummary } from '../lib/metrics';
import { formatDuration } from '../lib/time';
import type { JobSummary, RunPage } from '../lib/types';
import { ErrorBox, Loading, PageHeader, Time, useResource, type Resource } from '../components/common';

interface Schedule {
  from: string;
  to: string;
  fires: { job: string; at: string; timezone: string }[];
  truncated: boolean;
}

// The lateness figure and the line under it: the figure once read, else why not (a refusal of
// /metrics or its failure), never a placeholder that waits for ever.
function LatenessStat({ late }: { late: Resource<HistogramSummary | null> }) {
  const e = late.error as ApiError | null;
  let value: string;
  let note: string;
  let state: string;
  if (e && (e.status === 401 || e.status === 403)) {
    state = 'refused';
    value = 'not allowed';
    note = e.status === 403 ? 'your role may not read /metrics (403)' : '/metrics refused this token (401): sign in again';
  } else if (e) {
    state = 'failed';
    value = 'unavailable';
    note = e.message;
  } else if (late.loading) {
    state = 'loading';
    value = '…';
    note = 'from /metrics';
  } else {
    const h = late.data;
    state = 'read';
    value = h?.mean != null ? formatDuration(h.mean * 1000) : '—';
    note = !h ? 'no lateness histogram in /metrics'
      : h.count > 0 ? `mean of ${h.count.toLocaleString()} starts; 95 % within ${h.p95Bound === Infinity ? 'more than the last bucket' : formatDuration((h.p95Bound ?? 0) * 1000)}`
        : 'no scheduled start yet';
  }
  return (
    <div class="stat" data-stat="lateness" data-state={state}>
      <div class="stat-label">Schedule lateness</div>
      <div class={`stat-value${state === 'read' ? ' num' : ' muted'}`}>{value}</div>
      <div class="muted small">{note}</div>
    </div>
  );
}

const timelineRows = 12;

// The next 24 hours as one track per job (the soonest first), a tick per fire.
function Timeline({ schedule, paused }: { schedule: Schedule; paused: Set<string> }) {
  const from = Date.parse(schedule.from);
  const span = Date.parse(schedule.to) - from;
  const byJob = new Map<string, number[]>();
  for (const f of schedule.fires) {
    const list = byJob.get(f.job) ?? [];
    list.push(Date.parse(f.at));
    byJob.set(f.job, list);
  }
  const rows = [...byJob.entries()].slice(0, timelineRows);
  if (rows.length === 0) return <p class="muted">Nothing scheduled in the next 24 hours.</p>;
  const hours = [0, 6, 12, 18, 24];
  return (
    <div class="timeline">
      <div class="tl-row tl-axis" aria-hidden="true">
        <span />
        <div class="tl-track">{hours.map((h) => <span key={h} class="tl-hour" style={{ left: `${(h / 24) * 100}%` }}>{h === 0 ? 'now' : `+${h}h`}</span>)}</div>
      </div>
      {rows.map(([job, at]) => (
        <div key={job} class={`tl-row${paused.has(job) ? ' paused' : ''}`}>
          <a class="tl-job" href={`/jobs/${encodeURIComponent(job)}`}>{job}</a>
          <div class="tl-track" role="img" aria-label={`${job}: ${at.length}${schedule.truncated ? '+' : ''} fires in the next 24 hours${paused.has(job) ? ', paused' : ''}`}>
            {at.slice(0, 300).map((t) => <span key={t} class="tl-tick" style={{ left: `${((t - from) / span) * 100}%` }} />)}
          </div>
        </div>
      ))}
      {byJob.size > timelineRows && <p class="muted small">and {byJob.size - timelineRows} more jobs</p>}
    </div>
  );
}

export function OverviewView() {
  const ready = useResource('readyz', readyz);
  const live = useResource('livez', livez, (e) => e.kind === 'config.reloaded');
  const late = useResource('lateness', lateness, (e) => e.kind === 'run.state');
  const schedule = useResource('schedule', () => get<Schedule>(schedulePath()), (e) => e.kind === 'config.reloaded' || e.kind === 'job.paused' || e.kind === 'job.unpaused');
  const jobs = useResource('jobs', () => get<{ jobs: JobSummary[] }>(jobsPath()).then((r) => r.jobs), (e) => e.kind === 'run.state');
  const failures = useResource('failures', () => get<RunPage>(failuresPath()), (e) => e.kind === 'run.state');
  const running = (jobs.data ?? []).reduce((n, j) => n + j.active_runs, 0);
  const waiting = (jobs.data ?? []).reduce((n, j) => n + j.waiting_runs, 0);
  const next = (jobs.data ?? []).filter((j) => j.next_fire && !j.paused).sort((a, b) => Date.parse(a.next_fire!) - Date.parse(b.next_fire!)).slice(0, 8);
  return (
    <main class="page">
      <PageHeader title="Overview" />
      <div class="stats">
        <div class="stat"><div class="stat-label">Scheduler</div><div class="stat-value">{ready.data ? <span class={`badge ${ready.data.status === 'ready' ? 'st-success' : 'st-failed'}`}>{ready.data.status}</span> : '…'}</div><div class="muted small">from /readyz</div></div>
        <div class="stat"><div class="stat-label">Jobs</div><div class="stat-value num">{jobs.data?.length ?? '…'}</div><div class="muted small">{(jobs.data ?? []).filter((j) => j.paused).length} paused</div></div>
        <div class="stat"><div class="stat-label">Running</div><div class="stat-value num">{jobs.data ? running : '…'}</div><div class="muted small">runs active</div></div>
        <div class="stat"><div class="stat-label">Waiting</div><div class="stat-value num">{jobs.data ? waiting : '…'}</div><div class="muted small">runs queued</div></div>
        <div class="stat"><div class="stat-label">Configuration</div><div class="stat-value">{live.data?.config ? (
          live.data.config.last_reload === null ? <span class="badge st-success">as started</span>
            : <span class={`badge ${live.data.config.last_reload === 'applied' ? 'st-success' : 'st-failed'}`}>reload {live.data.config.last_reload}</span>
        ) : '…'}</div><div class="muted small">{live.data?.config ? `${live.data.config.reloads} reloads, from /livez` : 'from /livez'}</div></div>
        <LatenessStat late={late} />
      </div>
      <div class="job-grid">
        <section class="card wide">
          <h2 class="card-title">The next 24 hours</h2>
          <ErrorBox error={schedule.error} />
          {schedule.data ? <Timeline schedule={schedule.data} paused={new Set((jobs.data ?? []).filter((j) => j.paused).map((j) => j.name))} /> : <Loading />}
        </section>
        <section class="card">
          <h2 class="card-title">Latest failures</h2>
          <ErrorBox error={failures.error} />
          {failures.loading && !failures.data ? <Loading /> : (
            <table class="table compact">
              <tbody>
                {(failures.data?.runs ?? []).map((r) => (
                  <tr key={r.id}>
                    <td><a class="strong" href={`/runs/${r.id}`}>#{r.id}</a></td>
                    <td><a href={`/jobs/${encodeURIComponent(r.job)}`}>{r.job}</a></td>
                    <td><Time at={r.finished_at ?? r.created_at} /></td>
                  </tr>
                ))}
                {failures.data?.runs.length === 0 && <tr><td class="muted">No failed runs.</td></tr>}
              </tbody>
            </table>
          )}
        </section>
        <section class="card">
          <h2 class="card-title">Next fires</h2>
          <table class="table compact">
            <tbody>
              {next.map((j) => (
                <tr key={j.name}>
                  <td><a class="strong" href={`/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a></td>
                  <td><Time at={j.next_fire} jobZone={j.timezone} relative /></td>
                </tr>
              ))}
              {jobs.data && next.length === 0 && <tr><td class="muted">Nothing scheduled.</td></tr>}
            </tbody>
          </table>
        </section>
      </div>
    </main>
  );
}

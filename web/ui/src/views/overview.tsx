// Health at a glance: readiness, what runs now, the latest failures and the next fires.
import { get } from '../lib/api';
import type { JobSummary, RunPage } from '../lib/types';
import { ErrorBox, Loading, PageHeader, Time, useResource } from '../components/common';

interface Ready {
  status?: string;
  [k: string]: unknown;
}

async function readyz(): Promise<Ready> {
  const res = await fetch('/readyz', { cache: 'no-store' });
  try {
    return (await res.json()) as Ready;
  } catch {
    return { status: res.ok ? 'ready' : 'not ready' };
  }
}

export function OverviewView() {
  const ready = useResource('readyz', readyz);
  const jobs = useResource('jobs', () => get<{ jobs: JobSummary[] }>('/api/v1/jobs').then((r) => r.jobs), (e) => e.kind === 'run.state');
  const failures = useResource('failures', () => get<RunPage>('/api/v1/runs?state=failed&limit=8'), (e) => e.kind === 'run.state');
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
      </div>
      <div class="job-grid">
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

// Every run, newest first, filtered by job and state (in the URL), paged through the API's
// cursor so that 100,000 runs cost one page at a time.
import { useState } from 'preact/hooks';
import { get, seg } from '../lib/api';
import { runsPageSize, runsPath } from '../lib/api_paths';
import { loc, setQuery } from '../lib/router';
import type { Run, RunPage } from '../lib/types';
import { Elapsed, ErrorBox, Loading, PageHeader, StateBadge, Time, useResource } from '../components/common';

const states = ['queued', 'running', 'success', 'failed', 'canceled', 'timed_out'];

export function RunsView() {
  const job = loc.value.query.get('job') ?? '';
  const state = loc.value.query.get('state') ?? '';
  const first = useResource(`runs:${job}:${state}`, () => get<RunPage>(runsPath(job, state)), (e) => e.kind === 'run.state');
  // The pages read after the first, for the first page they continue: a new first page (a
  // filter changed, an event re-read it) starts over. Derived while rendering rather than reset
  // by an effect, which drew every row a second time one frame after the first.
  const [extra, setExtra] = useState<{ after: RunPage | null; runs: Run[]; cursor: string | null }>({ after: null, runs: [], cursor: null });
  const [error, setError] = useState<unknown>(null);
  const base = first.data;
  const continues = base !== null && extra.after === base;
  const more = continues ? extra.runs : [];
  const cursor = continues ? extra.cursor : base?.next_cursor ?? null;
  const runs = [...(base?.runs ?? []), ...more];
  return (
    <main class="page">
      <PageHeader title="Runs" />
      <div class="filters" role="search">
        <input type="search" placeholder="Job name" aria-label="Job" value={job} onChange={(e) => setQuery({ job: e.currentTarget.value.trim() })} />
        <select aria-label="State" value={state} onChange={(e) => setQuery({ state: e.currentTarget.value })}>
          <option value="">Any state</option>
          {states.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
        </select>
      </div>
      <ErrorBox error={first.error ?? error} />
      {first.loading && !first.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr><th scope="col">Run</th><th scope="col">Job</th><th scope="col">State</th><th scope="col">Trigger</th><th scope="col">Logical time</th><th scope="col">Started</th><th scope="col">Took</th></tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td><a class="strong" href={`/runs/${r.id}`}>#{r.id}</a></td>
                  <td><a href={`/jobs/${seg(r.job)}`}>{r.job}</a></td>
                  <td><StateBadge state={r.state} /></td>
                  <td>{r.trigger}{r.backfill_id !== null && <span class="muted small"> #{r.backfill_id}</span>}</td>
                  <td><Time at={r.logical_time} /></td>
                  <td><Time at={r.started_at} /></td>
                  <td><Elapsed start={r.started_at} end={r.finished_at} /></td>
                </tr>
              ))}
              {runs.length === 0 && <tr><td colSpan={7} class="muted center">No run matches.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <div class="center">
          <button type="button" class="btn" onClick={async () => {
            try {
              const page = await get<RunPage>(runsPath(job, state, cursor));
              setExtra((e) => ({ after: base, runs: [...(e.after === base ? e.runs : []), ...page.runs], cursor: page.next_cursor }));
            } catch (e) {
              setError(e);
            }
          }}>Load {runsPageSize} more</button>
        </div>
      )}
    </main>
  );
}

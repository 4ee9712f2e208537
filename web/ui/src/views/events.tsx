// The stored event and audit log (GET /api/v1/events as JSON), filtered by kind, job and actor,
// with new events appended live from the tab's stream.
import { useState } from 'preact/hooks';
import { get } from '../lib/api';
import { eventsPageSize, eventsPath } from '../lib/api_paths';
import { loc, setQuery } from '../lib/router';
import type { ServerEvent } from '../lib/stream';
import { ErrorBox, Loading, PageHeader, Time, useEvents, useResource } from '../components/common';

interface StoredEvent extends Omit<ServerEvent, 'id'> {
  id: number | string | null;
}

interface EventPage {
  events: StoredEvent[];
  next_after: number | null;
}

const kinds = ['audit', 'run.state', 'task.state', 'run.retry', 'task.mark', 'job.paused', 'job.unpaused', 'backfill.state'];

export function EventsView() {
  const q = loc.value.query;
  const kind = q.get('kind') ?? '';
  const job = q.get('job') ?? '';
  const actor = q.get('actor') ?? '';
  const first = useResource(`events:${kind}`, () => get<EventPage>(eventsPath(kind)));
  const [live, setLive] = useState<StoredEvent[]>([]);
  const [more, setMore] = useState<StoredEvent[]>([]);
  const [after, setAfter] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  useEvents((e) => {
    if (e.kind === 'task.progress' || e.kind === 'reset' || (kind && e.kind !== kind)) return;
    setLive((l) => [...l.slice(-499), { ...e }]);
  }, [kind]);
  const next = after === undefined ? first.data?.next_after ?? null : after;
  const seen = new Set<string>();
  const all = [...(first.data?.events ?? []), ...more, ...live].filter((e) => {
    const key = e.id === null ? '' : String(e.id);
    if (key && seen.has(key)) return false;
    if (key) seen.add(key);
    return (!job || e.job === job) && (!actor || (e.actor ?? '').includes(actor));
  });
  return (
    <main class="page">
      <PageHeader title="Events" sub="Run and task transitions and the audit log of every mutating call." />
      <div class="filters" role="search">
        <select aria-label="Kind" value={kind} onChange={(e) => setQuery({ kind: e.currentTarget.value })}>
          <option value="">Every kind</option>
          {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <input type="search" placeholder="Job" aria-label="Job" value={job} onInput={(e) => setQuery({ job: e.currentTarget.value })} />
        <input type="search" placeholder="Actor" aria-label="Actor" value={actor} onInput={(e) => setQuery({ actor: e.currentTarget.value })} />
      </div>
      <ErrorBox error={first.error ?? error} />
      {first.loading && !first.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table compact">
            <thead><tr><th scope="col">Id</th><th scope="col">At</th><th scope="col">Kind</th><th scope="col">Job</th><th scope="col">Run</th><th scope="col">Task</th><th scope="col">Actor</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {all.map((e, i) => (
                <tr key={e.id ?? 'live' + i}>
                  <td class="num muted">{e.id ?? ''}</td>
                  <td><Time at={e.at} /></td>
                  <td><code>{e.kind}</code></td>
                  <td>{e.job && <a href={`/jobs/${encodeURIComponent(e.job)}`}>{e.job}</a>}</td>
                  <td>{e.run ? <a href={`/runs/${e.run}`}>#{e.run}</a> : ''}</td>
                  <td>{e.task && e.run ? <a href={`/runs/${e.run}/tasks/${encodeURIComponent(e.task)}`}>{e.task}</a> : e.task}</td>
                  <td>{e.actor}</td>
                  <td class="mono small clip" title={e.payload ? JSON.stringify(e.payload) : ''}>{e.payload ? JSON.stringify(e.payload) : ''}</td>
                </tr>
              ))}
              {all.length === 0 && <tr><td colSpan={8} class="muted center">No events.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      {next !== null && (
        <div class="center">
          <button type="button" class="btn" onClick={async () => {
            try {
              const page = await get<EventPage>(eventsPath(kind, next));
              setMore((m) => [...m, ...page.events]);
              setAfter(page.next_after);
            } catch (e) {
              setError(e);
            }
          }}>Load {eventsPageSize} more</button>
        </div>
      )}
    </main>
  );
}

// The stored event and audit log (GET /api/v1/events as JSON), newest first and read back a page
// at a time, filtered by kind, job and actor, with new events put on top live from the tab's
// stream (docs/ui.md#events).
import { useEffect, useState } from 'preact/hooks';
import { get } from '../lib/api';
import { eventsPageSize, eventsPath } from '../lib/api_paths';
import { emptyEventList, withLive, withPage, type EventList } from '../lib/event_list';
import { loc, setQuery } from '../lib/router';
import type { ServerEvent } from '../lib/stream';
import { ErrorBox, Loading, PageHeader, Time, useEvents } from '../components/common';

interface StoredEvent extends Omit<ServerEvent, 'id'> {
  id: number | string | null;
}

interface EventPage {
  events: StoredEvent[];
  next_before: number | null;
}

const kinds = ['audit', 'run.state', 'task.state', 'run.retry', 'task.mark', 'job.paused', 'job.unpaused', 'backfill.state'];

export function EventsView() {
  const q = loc.value.query;
  const kind = q.get('kind') ?? '';
  return (
    <main class="page">
      <PageHeader title="Events" sub="Run and task transitions and the audit log of every mutating call, the newest first." />
      <div class="filters" role="search">
        <select aria-label="Kind" value={kind} onChange={(e) => setQuery({ kind: e.currentTarget.value })}>
          <option value="">Every kind</option>
          {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <input type="search" placeholder="Job" aria-label="Job" value={q.get('job') ?? ''} onInput={(e) => setQuery({ job: e.currentTarget.value })} />
        <input type="search" placeholder="Actor" aria-label="Actor" value={q.get('actor') ?? ''} onInput={(e) => setQuery({ actor: e.currentTarget.value })} />
      </div>
      {/* Keyed by kind: another kind is another list, read from its newest again. */}
      <EventTable key={kind} kind={kind} job={q.get('job') ?? ''} actor={q.get('actor') ?? ''} />
    </main>
  );
}

function EventTable({ kind, job, actor }: { kind: string; job: string; actor: string }) {
  const [list, setList] = useState<EventList<StoredEvent>>(emptyEventList);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const read = async (before?: number) => {
    setLoading(true);
    try {
      const page = await get<EventPage>(eventsPath(kind, before));
      setList((l) => withPage(l, page.events, page.next_before));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void read(), []);
  useEvents((e) => {
    if (e.kind === 'reset') {
      // The stream skipped events (docs/api.md): read the newest page again.
      setList(emptyEventList());
      void read();
      return;
    }
    if (e.kind === 'task.progress' || (kind && e.kind !== kind)) return;
    setList((l) => withLive(l, { ...e }));
  }, [kind]);
  const shown = list.rows.filter((e) => (!job || e.job === job) && (!actor || (e.actor ?? '').includes(actor)));
  const next = list.before;
  return (
    <>
      <ErrorBox error={error} />
      {next === undefined && !error ? <Loading /> : (
        <div class="table-wrap">
          <table class="table compact">
            <thead><tr><th scope="col">Id</th><th scope="col">At</th><th scope="col">Kind</th><th scope="col">Job</th><th scope="col">Run</th><th scope="col">Task</th><th scope="col">Actor</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {shown.map((e, i) => (
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
              {shown.length === 0 && <tr><td colSpan={8} class="muted center">No events.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      {typeof next === 'number' && (
        <div class="center">
          <button type="button" class="btn" disabled={loading} onClick={() => void read(next)}>Load {eventsPageSize} more</button>
        </div>
      )}
    </>
  );
}

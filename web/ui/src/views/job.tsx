// One job: its task graph, the grid of recent runs × tasks, next fire times, pause and trigger.
import { useMemo, useRef, useState } from 'preact/hooks';
import { get, post, seg } from '../lib/api';
import { gridPath, jobPath } from '../lib/api_paths';
import { buildGrid, moveInGrid, type GridPos } from '../lib/grid';
import { navigate } from '../lib/router';
import { formatOffset, offsetMinutes } from '../lib/time';
import { canOperate } from '../lib/state';
import type { GridPage, JobDetail } from '../lib/types';
import { ErrorBox, Loading, PageHeader, StateBadge, Time, stateLabel, useResource } from '../components/common';
import { Dag } from '../components/dag';

// "DST +01:00 → +02:00" when the job zone's offset differs between two consecutive fires.
function offsetChange(prev: string, next: string, zone: string): string | null {
  const a = offsetMinutes(Date.parse(prev), zone);
  const b = offsetMinutes(Date.parse(next), zone);
  return a === b ? null : `DST ${formatOffset(a)} → ${formatOffset(b)}`;
}

function Grid({ job }: { job: JobDetail }) {
  // Older pages by cursor (null: the newest runs, which follow the event stream).
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.length ? cursors[cursors.length - 1] : null;
  const grid = useResource(`grid:${job.name}:${cursor ?? ''}`,
    () => get<GridPage>(gridPath(job.name, cursor)),
    (e) => cursor === null && e.job === job.name && (e.kind === 'run.state' || e.kind === 'task.state'));
  const runs = { ...grid, data: grid.data?.runs ?? null };
  const model = useMemo(() => buildGrid(job.tasks.map((t) => t.name), runs.data ?? []), [job, runs.data]);
  const [pos, setPos] = useState<GridPos>({ row: 0, col: Math.max(0, model.runs.length - 1) });
  const table = useRef<HTMLTableElement>(null);
  if (runs.loading && !runs.data) return <Loading />;
  if (model.runs.length === 0 && cursor === null) return <p class="muted">No runs yet.</p>;
  const older = grid.data?.next_cursor ?? null;
  const pager = (older !== null || cursor !== null) && (
    <div class="center">
      <button class="btn" type="button" disabled={older === null} onClick={() => older && setCursors([...cursors, older])}>Older runs</button>
      <button class="btn" type="button" disabled={cursor === null} onClick={() => setCursors(cursors.slice(0, -1))}>Newer runs</button>
    </div>
  );
  const focus = (p: GridPos) => {
    setPos(p);
    table.current?.querySelector<HTMLElement>(`[data-cell="${p.row}-${p.col}"]`)?.focus();
  };
  return (
    <div class="grid-wrap">
      <ErrorBox error={runs.error} />
      <table class="grid" ref={table} role="grid" aria-label="runs by task"
        onKeyDown={(e) => {
          const next = moveInGrid(model, pos, e.key);
          if (next !== pos) {
            e.preventDefault();
            focus(next);
          } else if (e.key === 'Enter') {
            const c = model.cells[pos.row]?.[pos.col];
            if (c) navigate(`/runs/${c.run}/tasks/${seg(c.task)}`);
          }
        }}>
        <thead>
          <tr>
            <th scope="col" class="grid-corner">Task</th>
            {model.runs.map((r) => (
              <th key={r.id} scope="col" class="grid-run">
                <a href={`/runs/${r.id}`} class={`cell st-${r.state}`} title={`run ${r.id}: ${stateLabel(r.state)}`} aria-label={`run ${r.id} ${stateLabel(r.state)}`} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {model.tasks.map((t, row) => (
            <tr key={t}>
              <th scope="row" class="grid-task mono">{t}</th>
              {model.cells[row].map((c, col) => (
                <td key={c.run}>
                  <a
                    href={`/runs/${c.run}/tasks/${seg(c.task)}`}
                    class={`cell st-${c.state}`}
                    data-cell={`${row}-${col}`}
                    tabIndex={row === pos.row && col === pos.col ? 0 : -1}
                    title={`run ${c.run} · ${c.task}: ${stateLabel(c.state)}${c.tries > 1 ? ` (${c.tries} tries)` : ''}`}
                    aria-label={`run ${c.run} ${c.task} ${stateLabel(c.state)}`}
                    onFocus={() => setPos({ row, col })}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {pager}
    </div>
  );
}

export function JobView({ name }: { name: string }) {
  const job = useResource('job:' + name, () => get<JobDetail>(jobPath(name)),
    (e) => e.job === name && (e.kind === 'job.paused' || e.kind === 'job.unpaused' || e.kind === 'run.state'));
  const [error, setError] = useState<unknown>(null);
  const j = job.data;
  if (job.loading && !j) return <main class="page"><Loading /></main>;
  if (!j) return <main class="page"><ErrorBox error={job.error} /></main>;
  const paused = j.status?.paused ?? false;
  return (
    <main class="page">
      <PageHeader
        crumbs={<><a href="/jobs">Jobs</a> /</>}
        title={<>{j.name} {paused && <span class="badge st-paused">paused</span>}</>}
        sub={j.description}
        actions={canOperate.value && (
          <>
            <button class="btn" type="button" onClick={async () => {
              setError(null);
              try {
                await post(`/api/v1/jobs/${seg(name)}/${paused ? 'unpause' : 'pause'}`);
                job.reload();
              } catch (e) {
                setError(e);
              }
            }}>{paused ? 'Unpause' : 'Pause'}</button>
            {j.schedule && <a class="btn" href={`/jobs/${seg(name)}/backfill`}>Backfill</a>}
            <a class="btn primary" href={`/jobs/${seg(name)}/trigger`}>Trigger</a>
          </>
        )}
      />
      <ErrorBox error={error} />
      <div class="job-grid">
        <section class="card">
          <h2 class="card-title">Schedule</h2>
          <dl class="facts">
            <div><dt>Cron</dt><dd>{j.schedule ? <code>{j.schedule}</code> : 'manual only'}</dd></div>
            {j.schedule_description && <div><dt>In words</dt><dd>{j.schedule_description}</dd></div>}
            <div><dt>Zone</dt><dd>{j.timezone}</dd></div>
            <div><dt>Catch-up</dt><dd>{j.catchup}</dd></div>
            <div><dt>Concurrency</dt><dd>{j.concurrency}, at most {j.max_active_runs} active</dd></div>
            {j.timeout && <div><dt>Timeout</dt><dd>{j.timeout}</dd></div>}
            {j.sla && <div><dt>SLA</dt><dd>{j.sla}</dd></div>}
          </dl>
          {j.next_fire_times.length > 0 && (
            <>
              <h3 class="sub-title">Next fires</h3>
              <ol class="fires">
                {j.next_fire_times.map((t, i) => {
                  const change = i > 0 ? offsetChange(j.next_fire_times[i - 1], t, j.timezone) : null;
                  return (
                    <li key={t}>
                      <Time at={t} jobZone={j.timezone} relative />
                      {change && <span class="badge st-up_for_retry dst" title={`the ${j.timezone} offset changes before this fire`}>{change}</span>}
                    </li>
                  );
                })}
              </ol>
            </>
          )}
        </section>
        <section class="card">
          <h2 class="card-title">Graph</h2>
          <Dag tasks={j.tasks} />
        </section>
      </div>
      <section class="card">
        <h2 class="card-title">Recent runs by task</h2>
        <Grid job={j} />
      </section>
      <section class="card">
        <h2 class="card-title">Latest runs</h2>
        <div class="scroll-x"><table class="table">
          <thead><tr><th scope="col">Run</th><th scope="col">State</th><th scope="col">Trigger</th><th scope="col">Logical time</th><th scope="col">Created</th></tr></thead>
          <tbody>
            {j.recent_runs.map((r) => (
              <tr key={r.id}>
                <td><a class="strong" href={`/runs/${r.id}`}>#{r.id}</a></td>
                <td><StateBadge state={r.state} /></td>
                <td>{r.trigger}</td>
                <td><Time at={r.logical_time} jobZone={j.timezone} /></td>
                <td><Time at={r.created_at} jobZone={j.timezone} /></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      </section>
    </main>
  );
}

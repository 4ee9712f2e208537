// One run: its DAG coloured by live state, a Gantt of every attempt, and per task its attempts,
// error, metrics, outputs and log. Cancel, retry and mark ask for confirmation first.
import { useState } from 'preact/hooks';
import { get, post, seg } from '../lib/api';
import { jobPath, runPath } from '../lib/api_paths';
import { loc, navigate } from '../lib/router';
import { canOperate } from '../lib/state';
import type { JobDetail, RunDetail, TaskInstance } from '../lib/types';
import { Confirm, Elapsed, ErrorBox, Loading, PageHeader, StateBadge, Time, useEvents, useResource } from '../components/common';
import { Dag } from '../components/dag';
import { Gantt } from '../components/gantt';
import { LogView } from '../components/log_view';
import { CopyThroughput } from '../components/copy_throughput';

const activeRun = (s: string) => s === 'queued' || s === 'running';
const activeTask = (s: string) => s === 'running' || s === 'queued' || s === 'up_for_retry' || s === 'scheduled';

interface Pending {
  title: string;
  action: string;
  danger?: boolean;
  body: string;
  go: () => Promise<unknown>;
}

export function RunView({ id, task, tab }: { id: number; task: string | null; tab: 'log' | null }) {
  const run = useResource('run:' + id, () => get<RunDetail>(runPath(id)),
    (e) => e.run === id && (e.kind.startsWith('run.') || e.kind.startsWith('task.')) && e.kind !== 'task.progress');
  const job = useResource('job:' + (run.data?.job ?? ''), () => (run.data ? get<JobDetail>(jobPath(run.data.job)) : Promise.resolve(null)));
  const [pending, setPending] = useState<Pending | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const r = run.data;
  const base = `/runs/${id}`;
  const taskHref = (t: string) => `${base}/tasks/${seg(t)}`;
  const hash = loc.value.hash;
  const hashLine = /^L\d+$/.test(hash) ? Number(hash.slice(1)) : null;

  const act = (p: Pending) => setPending(p);
  const perform = async (go: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await go();
      run.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  if (run.loading && !r) return <main class="page"><Loading /></main>;
  if (!r) return <main class="page"><ErrorBox error={run.error} /></main>;
  const jobZone = job.data?.timezone;
  const states = Object.fromEntries(r.tasks.map((t) => [t.task, t.state]));
  const selected = task ? r.tasks.find((t) => t.task === task) ?? null : null;
  const specs = job.data?.tasks ?? r.tasks.map((t) => ({ name: t.task, type: '', depends_on: [], trigger_rule: 'all_success', pool: null, max_attempts: t.max_tries, timeout: null }));
  const finished = !activeRun(r.state);
  return (
    <main class="page">
      <PageHeader
        crumbs={<><a href="/jobs">Jobs</a> / <a href={`/jobs/${seg(r.job)}`}>{r.job}</a> /</>}
        title={<>Run {r.id} <StateBadge state={r.state} /></>}
        sub={
          <span class="meta">
            <span>{r.trigger}</span>
            {r.logical_time && <span>logical <Time at={r.logical_time} jobZone={jobZone} /></span>}
            <span>started <Time at={r.started_at} jobZone={jobZone} /></span>
            <span>took <Elapsed start={r.started_at} end={r.finished_at} /></span>
            {Object.keys(r.params).length > 0 && (
              <span>params {Object.entries(r.params).map(([k, v]) => <code key={k}>{k}={v}</code>)}</span>
            )}
          </span>
        }
        actions={canOperate.value && (
          <>
            {!finished && (
              <button class="btn danger" type="button" onClick={() => act({
                title: `Cancel run ${r.id}?`, action: 'Cancel run', danger: true,
                body: 'Running attempts are stopped and every task not yet finished is canceled.',
                go: () => post(`/api/v1/runs/${r.id}/cancel`),
              })}>Cancel run</button>
            )}
            {finished && r.state !== 'success' && (
              <button class="btn primary" type="button" onClick={() => act({
                title: `Retry run ${r.id}?`, action: 'Retry',
                body: 'Failed, upstream-failed and canceled tasks and everything downstream of them run again; successful tasks keep their result.',
                go: () => post(`/api/v1/runs/${r.id}/retry`),
              })}>Retry</button>
            )}
          </>
        )}
      />
      <ErrorBox error={actionError} />
      <div class="run-grid">
        <section class="card" aria-label="graph">
          <h2 class="card-title">Graph</h2>
          <Dag tasks={specs} states={states} selected={task} href={taskHref} />
        </section>
        <section class="card" aria-label="timeline">
          <h2 class="card-title">Attempts</h2>
          <Gantt tasks={r.tasks} jobZone={jobZone} href={taskHref} />
        </section>
      </div>
      {selected ? (
        <TaskPanel run={r} task={selected} kind={specs.find((t) => t.name === selected.task)?.type ?? ''} tab={tab} hashLine={hashLine} jobZone={jobZone} onAct={act} />
      ) : (
        <section class="card">
          <h2 class="card-title">Tasks</h2>
          <div class="scroll-x"><table class="table">
            <thead><tr><th scope="col">Task</th><th scope="col">State</th><th scope="col" class="num">Try</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Error</th></tr></thead>
            <tbody>
              {r.tasks.map((t) => (
                <tr key={t.task}>
                  <td><a class="strong" href={taskHref(t.task)}>{t.task}</a></td>
                  <td><StateBadge state={t.state} /></td>
                  <td class="num">{t.try_number}/{t.max_tries}</td>
                  <td><Time at={t.started_at} jobZone={jobZone} /></td>
                  <td><Elapsed start={t.started_at} end={t.finished_at} /></td>
                  <td class="clip error-text">{t.error?.message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        </section>
      )}
      <Confirm
        open={pending !== null}
        title={pending?.title ?? ''}
        action={pending?.action ?? ''}
        danger={pending?.danger}
        onClose={() => setPending(null)}
        onConfirm={() => pending && void perform(pending.go)}
      >
        <p>{pending?.body}</p>
      </Confirm>
    </main>
  );
}

function TaskPanel({ run, task, kind, tab, hashLine, jobZone, onAct }: {
  run: RunDetail; task: TaskInstance; kind: string; tab: 'log' | null; hashLine: number | null; jobZone?: string; onAct: (p: Pending) => void;
}) {
  const base = `/runs/${run.id}/tasks/${seg(task.task)}`;
  // A running task's progress arrives on the event stream (a copy's rows, rows/s, mark, lag;
  // a shell task's `::sluice metric`); the stored metrics catch up when it ends.
  const [live, setLive] = useState<Record<string, unknown>>({});
  useEvents((e) => {
    if (e.kind !== 'task.progress' || e.run !== run.id || e.task !== task.task || !e.payload) return;
    const p = e.payload as Record<string, unknown>;
    setLive((l) => (typeof p.metric === 'string' ? { ...l, [p.metric]: p.value } : { ...l, ...p }));
  }, [run.id, task.task]);
  const metrics = Object.entries(task.state === 'running' ? { ...task.metrics, ...live } : task.metrics ?? {})
    .filter(([k]) => k !== 'try' && k !== 'done');
  const outputs = Object.entries(task.outputs ?? {});
  const markable = canOperate.value && task.state !== 'running';
  return (
    <section class="card task-panel" aria-label={`task ${task.task}`}>
      <div class="task-head">
        <h2 class="card-title"><span class="mono">{task.task}</span> <StateBadge state={task.state} /></h2>
        <div class="tabs" role="tablist">
          <a role="tab" aria-selected={tab !== 'log'} class={tab !== 'log' ? 'tab on' : 'tab'} href={base}>Details</a>
          <a role="tab" aria-selected={tab === 'log'} class={tab === 'log' ? 'tab on' : 'tab'} href={base + '/log'}>Log</a>
        </div>
        <div class="page-actions">
          {markable && (['success', 'failed'] as const).map((s) => (
            <button key={s} class="btn small" type="button" onClick={() => onAct({
              title: `Mark ${task.task} ${s}?`, action: `Mark ${s}`, danger: s === 'failed',
              body: run.state === 'running' || run.state === 'queued'
                ? `Downstream tasks are planned as if ${task.task} had ended ${s}.`
                : `The run's state is recomputed from its tasks; retry the run to rerun what depends on ${task.task}.`,
              go: () => post(`/api/v1/runs/${run.id}/tasks/${seg(task.task)}/mark`, { state: s }),
            })}>Mark {s}</button>
          ))}
          <button class="btn small" type="button" onClick={() => navigate(`/runs/${run.id}`)} aria-label="Close task">✕</button>
        </div>
      </div>
      {task.error && (
        <div class="error-box" role="alert">
          <strong>{task.error.class ?? 'error'}</strong>
          <pre>{task.error.message}</pre>
        </div>
      )}
      {tab === 'log' ? (
        <LogView run={run.id} task={task.task} active={activeTask(task.state)} hashLine={hashLine} />
      ) : (
        <div class="task-details">
          <div class="scroll-x"><table class="table compact">
            <thead><tr><th scope="col">Try</th><th scope="col">State</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Error</th></tr></thead>
            <tbody>
              {task.attempts.map((a) => (
                <tr key={a.try}>
                  <td class="num">{a.try}</td>
                  <td><StateBadge state={a.state ?? a.outcome ?? 'none'} /></td>
                  <td><Time at={a.started_at} jobZone={jobZone} /></td>
                  <td><Elapsed start={a.started_at} end={a.finished_at} /></td>
                  <td class="error-text">{a.error?.message ?? ''}</td>
                </tr>
              ))}
              {task.attempts.length === 0 && <tr><td colSpan={5} class="muted">Not started.</td></tr>}
            </tbody>
          </table></div>
          {task.next_attempt_at && task.state === 'up_for_retry' && <p class="muted">Next attempt <Time at={task.next_attempt_at} jobZone={jobZone} relative /></p>}
          {metrics.length > 0 && (
            <dl class="metrics" aria-live="polite">
              {metrics.map(([k, v]) => <div key={k}><dt>{k}</dt><dd class="num">{typeof v === 'number' ? v.toLocaleString() : JSON.stringify(v)}</dd></div>)}
            </dl>
          )}
          {outputs.length > 0 && (
            <>
              <h3 class="sub-title">Outputs</h3>
              <div class="scroll-x"><table class="table compact" aria-label="outputs">
                <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
                <tbody>
                  {outputs.map(([k, v]) => (
                    <tr key={k}><td class="mono">{k}</td><td><pre class="output-value">{v}</pre></td></tr>
                  ))}
                </tbody>
              </table></div>
            </>
          )}
          {kind === 'copy' && (
            <CopyThroughput job={run.job} task={task.task} run={run.id} state={task.state}
              ended={!activeTask(task.state) && task.attempts.length > 0} />
          )}
          <p><a href={base + '/log'}>Open the log →</a></p>
        </div>
      )}
    </section>
  );
}

